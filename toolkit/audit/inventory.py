"""The live account, read once: typed models of buckets, tables and principals for every check.

One read-only pass per service, every call through a bounded pool. Calls whose answer cannot matter
are skipped (a bucket's ACL when ACLs are disabled; policy status when there is no policy), which is
most of why an audit of a large account is fast.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cargohold_core.aws import tag_dict
from cargohold_core.config.model import Environment
from toolkit.audit import policy as policy_module
from toolkit.audit.fetch import Fetched, Reader, error_text, read
from toolkit.audit.s3get import BucketConfigReader

NO_PAB = ("NoSuchPublicAccessBlockConfiguration",)
NO_POLICY = ("NoSuchBucketPolicy",)
NO_ENCRYPTION = ("ServerSideEncryptionConfigurationNotFoundError",)
NO_LIFECYCLE = ("NoSuchLifecycleConfiguration",)
NO_CORS = ("NoSuchCORSConfiguration",)
NO_REPLICATION = ("ReplicationConfigurationNotFoundError",)
NO_OWNERSHIP = ("OwnershipControlsNotFoundError",)
NO_TAGS = ("NoSuchTagSet",)


@dataclass
class BucketInfo:
    name: str
    region: str | None  # from ListBuckets (BucketRegion) where the endpoint reports it
    public_access_block: Fetched[dict[str, bool] | None]
    policy: Fetched[dict[str, Any] | None]
    policy_is_public: Fetched[bool | None]  # AWS's own verdict (GetBucketPolicyStatus); None: not asked or not given
    ownership: Fetched[str | None]
    acl_grants: Fetched[list[dict[str, Any]]]  # [] when ownership is BucketOwnerEnforced (ACLs ignored)
    encryption: Fetched[dict[str, Any] | None]  # {"algorithm", "kms_key_arn", "bucket_key"}
    versioning: Fetched[str | None]  # "Enabled" | "Suspended" | None (never enabled)
    lifecycle: Fetched[list[dict[str, Any]]]
    cors: Fetched[list[dict[str, Any]]]
    logging: Fetched[dict[str, Any] | None]  # read only where config.yaml asks for logging or replication
    replication: Fetched[dict[str, Any] | None]
    details_read: bool = False  # whether logging and replication were read
    tags: Fetched[dict[str, str] | None] = field(default_factory=Fetched)  # read for declared buckets only
    # The account's Block Public Access, shared by every bucket (set by read_inventory).
    account_block: Fetched[dict[str, bool] | None] = field(default_factory=Fetched)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass
class TableInfo:
    name: str
    arn: str
    description: Fetched[dict[str, Any]]  # DescribeTable's Table
    pitr: Fetched[bool]
    ttl_attribute: Fetched[str | None]  # None when TTL is off
    autoscaled: Fetched[bool]  # both read and write capacity have scalable targets
    tags: Fetched[dict[str, str] | None] = field(default_factory=Fetched)  # read for declared tables only
    region: str | None = None  # where it was listed (each region the environment has resources in)
    # Application Auto Scaling's targets and target-tracking policies for the table and its indexes, in the
    # desired-state model's terms (cargohold_core.config.desired.autoscaling_state)
    scaling: Fetched[dict[str, dict[str, dict[str, Any]]]] = field(default_factory=Fetched)


@dataclass
class Policy:
    name: str
    arn: str | None  # None for an inline policy
    document: dict[str, Any] | None  # None for an AWS managed policy (judged by its name)
    aws_managed: bool = False


@dataclass
class PrincipalInfo:
    kind: str  # user | role
    name: str
    arn: str
    path: str
    direct_policies: list[Policy]  # attached to this user or role itself (managed and inline)
    group_policies: list[Policy]  # reached through its groups (users only)
    groups: list[str]
    credentials: dict[str, Any] = field(default_factory=dict)  # users: a credential report row
    tags: dict[str, str] = field(default_factory=dict)
    observed_at: datetime | None = None  # "now" for key age and idle time
    trust_policy: dict[str, Any] | None = None  # roles: who may assume it (AssumeRolePolicyDocument)

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def policies(self) -> list[Policy]:
        return self.direct_policies + self.group_policies


@dataclass
class Inventory:
    account: Fetched[str]
    caller_arn: Fetched[str]
    account_public_access_block: Fetched[dict[str, bool] | None]
    buckets: Fetched[list[BucketInfo]]
    tables: Fetched[list[TableInfo]]
    principals: Fetched[list[PrincipalInfo]]
    api_calls: int = 0
    duration_s: float = 0.0

    def bucket(self, name: str) -> BucketInfo | None:
        return next((b for b in (self.buckets.value or []) if b.name == name), None)

    def table(self, name: str, region: str | None = None) -> TableInfo | None:
        """The table of this name (in `region`, when given: names repeat across regions)."""
        found = (t for t in (self.tables.value or []) if t.name == name and region in (None, t.region))
        return next(found, None)

    def principal(self, kind: str, name: str) -> PrincipalInfo | None:
        return next((p for p in (self.principals.value or []) if p.kind == kind and p.name == name), None)


def read_inventory(
    env: Environment,
    *,
    workers: int = 16,
    detailed: frozenset[str] = frozenset(),
    now: datetime | None = None,
    fast_s3: bool = True,
    session: Any | None = None,
) -> Inventory:
    """Read the account. `detailed` names buckets whose logging/replication must be read (the config
    asks for them or declares the bucket); others skip those two calls. Tags are read for the buckets
    and tables the environment declares (drift compares them), not for every one in the account."""
    started = time.monotonic()
    reader = Reader(env, workers=workers, session=session)
    try:
        identity = read(lambda: reader.client("sts").get_caller_identity())
        account = (
            Fetched(identity.value["Account"]) if identity.ok and identity.value else Fetched[str](error=identity.error)
        )
        caller = (
            Fetched(identity.value["Arn"]) if identity.ok and identity.value else Fetched[str](error=identity.error)
        )
        account_pab = reader.submit(_account_public_access_block, reader, account)
        buckets = reader.submit(_buckets, reader, detailed, frozenset(b.name for b in env.buckets.values()), fast_s3)
        tables = reader.submit(_all_tables, reader, frozenset(t.name for t in env.tables.values()), env.regions)
        principals = reader.submit(_principals, reader)
        inventory = Inventory(
            account=account,
            caller_arn=caller,
            account_public_access_block=account_pab.result(),
            buckets=buckets.result(),
            tables=tables.result(),
            principals=principals.result(),
        )
        for bucket in inventory.buckets.value or []:
            bucket.account_block = inventory.account_public_access_block
        for principal in inventory.principals.value or []:
            principal.observed_at = now or datetime.now(UTC)
    finally:
        reader.close()
    inventory.api_calls = reader.api_calls
    inventory.duration_s = time.monotonic() - started
    return inventory


def _account_public_access_block(reader: Reader, account: Fetched[str]) -> Fetched[dict[str, bool] | None]:
    if not account.ok:
        return Fetched(error=account.error)
    s3control = reader.client("s3control")
    return read(
        lambda: s3control.get_public_access_block(AccountId=account.value)["PublicAccessBlockConfiguration"],
        absent=NO_PAB,
    )


# --- S3 ---------------------------------------------------------------------------------------


def _buckets(
    reader: Reader, detailed: frozenset[str], tagged: frozenset[str], fast_s3: bool = True
) -> Fetched[list[BucketInfo]]:
    s3 = reader.client("s3")
    try:
        listed = {b["Name"]: b.get("BucketRegion") for b in _list_buckets(s3)}
    except Exception as exc:  # any failure to list means every bucket check is unknown
        return Fetched(error=error_text(exc))
    # The configuration GETs go through the lean path (toolkit.audit.s3get: the same answers for a
    # fraction of botocore's client CPU per call) unless asked not to, or with nothing to sign with.
    credentials = reader.credentials() if fast_s3 else None
    gets: Any = s3
    if credentials is not None:
        gets = BucketConfigReader(
            reader.env, credentials, reader.count, service_model=s3.meta.service_model, endpoint=s3.meta.endpoint_url
        )
        if reader.env.endpoint is None:  # AWS names each bucket's region: no redirect round trips
            for name, region in listed.items():
                gets.remember_region(name, region)
    try:
        # Two stages so a bucket's dependent reads (ACL, policy status) can see its first answers.
        firsts = {
            name: _submit_bucket_reads(reader, name, gets, detailed=name in detailed, tagged=name in tagged)
            for name in listed
        }
        return Fetched([_finish_bucket(reader, name, listed[name], pending, gets) for name, pending in firsts.items()])
    finally:
        if isinstance(gets, BucketConfigReader):
            gets.close()


def _list_buckets(s3: Any) -> list[dict[str, Any]]:
    # No GetBucketLocation per bucket: AWS's ListBuckets names each bucket's region, and botocore
    # follows S3's region redirects for a bucket outside the client's region by itself.
    return [b for page in s3.get_paginator("list_buckets").paginate() for b in page.get("Buckets", [])]


def _submit_bucket_reads(
    reader: Reader, name: str, s3: Any, *, detailed: bool, tagged: bool
) -> dict[str, Future[Fetched[Any]]]:
    # `s3`: a boto3 client or a BucketConfigReader (same method names, same answers).
    calls: dict[str, tuple[Any, tuple[str, ...], Any]] = {
        "pab": (lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"], NO_PAB, None),
        "policy": (lambda: json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]), NO_POLICY, None),
        "ownership": (lambda: _ownership(s3.get_bucket_ownership_controls(Bucket=name)), NO_OWNERSHIP, None),
        "encryption": (lambda: _encryption(s3.get_bucket_encryption(Bucket=name)), NO_ENCRYPTION, None),
        "versioning": (lambda: s3.get_bucket_versioning(Bucket=name).get("Status"), (), None),
        "lifecycle": (lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"], NO_LIFECYCLE, []),
        "cors": (lambda: s3.get_bucket_cors(Bucket=name)["CORSRules"], NO_CORS, []),
    }
    if detailed:
        calls["logging"] = (lambda: s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"), (), None)
        calls["replication"] = (
            lambda: s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"],
            NO_REPLICATION,
            None,
        )
    if tagged:
        calls["tags"] = (lambda: tag_dict(s3.get_bucket_tagging(Bucket=name)["TagSet"]), NO_TAGS, {})
    return {
        key: reader.submit(lambda c=call, a=absent, d=default: read(c, absent=a, default=d))
        for key, (call, absent, default) in calls.items()
    }


def _finish_bucket(
    reader: Reader, name: str, region: str | None, pending: dict[str, Future[Fetched[Any]]], s3: Any
) -> BucketInfo:
    got = {key: future.result() for key, future in pending.items()}
    policy, ownership = got["policy"], got["ownership"]
    status: Fetched[bool | None] = Fetched(None)
    if not policy.ok:
        status = Fetched(error=policy.error)
    elif policy_module.public_allows(policy.value):
        # AWS's own verdict, asked only when a statement allows everyone: a policy of Deny statements
        # (TLS-only) or of named principals cannot be public.
        # An S3-compatible server may leave IsPublic out: no verdict (None), the policy's own reading decides.
        status = read(lambda: s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"].get("IsPublic"))
    grants: Fetched[list[dict[str, Any]]] = Fetched([])
    if not ownership.ok:
        grants = Fetched(error=ownership.error)
    elif ownership.value != "BucketOwnerEnforced":
        grants = read(lambda: s3.get_bucket_acl(Bucket=name)["Grants"])
    not_read: Fetched[Any] = Fetched(None)  # logging/replication were not needed for this bucket
    return BucketInfo(
        name=name,
        region=region,
        public_access_block=got["pab"],
        policy=policy,
        policy_is_public=status,
        ownership=ownership,
        acl_grants=grants,
        encryption=got["encryption"],
        versioning=got["versioning"],
        lifecycle=got["lifecycle"],
        cors=got["cors"],
        logging=got.get("logging", not_read),
        replication=got.get("replication", not_read),
        details_read="logging" in got,
        tags=got.get("tags", not_read),
    )


def _ownership(answer: dict[str, Any]) -> str | None:
    rules = answer.get("OwnershipControls", {}).get("Rules", [])
    return rules[0].get("ObjectOwnership") if rules else None


def _encryption(answer: dict[str, Any]) -> dict[str, Any] | None:
    rules = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    return {
        "algorithm": default.get("SSEAlgorithm"),
        "kms_key_arn": default.get("KMSMasterKeyID"),
        "bucket_key": bool(rules[0].get("BucketKeyEnabled", False)),
    }


# --- DynamoDB ---------------------------------------------------------------------------------


def _all_tables(reader: Reader, tagged: frozenset[str], regions: list[str]) -> Fetched[list[TableInfo]]:
    """The tables of every region the environment has resources in (DynamoDB lists one region's)."""
    out: list[TableInfo] = []
    for region in regions:
        found = _tables(reader, tagged, region)
        if not found.ok:
            return found
        out += found.value or []
    return Fetched(out)


def _tables(reader: Reader, tagged: frozenset[str], region: str | None = None) -> Fetched[list[TableInfo]]:
    region = region or reader.env.region
    ddb = reader.client("dynamodb", region)
    try:
        names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page.get("TableNames", [])]
    except Exception as exc:
        return Fetched(error=error_text(exc))
    scaled = reader.submit(_scaling, reader, region)
    pending = {
        name: (
            reader.submit(lambda n=name: read(lambda: ddb.describe_table(TableName=n)["Table"])),
            reader.submit(lambda n=name: read(lambda: _pitr(ddb.describe_continuous_backups(TableName=n)))),
            reader.submit(lambda n=name: read(lambda: _ttl(ddb.describe_time_to_live(TableName=n)))),
        )
        for name in names
    }
    described = {name: desc.result() for name, (desc, _, _) in pending.items()}
    tags = {  # by ARN, which DescribeTable gives: a second stage, for the declared tables only
        name: reader.submit(lambda a=d.value["TableArn"]: read(lambda: _table_tags(ddb, a)))
        for name, d in described.items()
        if name in tagged and d.ok and d.value
    }
    by_table = scaled.result()
    out = []
    for name, (_, pitr, ttl) in pending.items():
        desc = described[name]
        arn = desc.value["TableArn"] if desc.ok and desc.value else f"table/{name}"
        if by_table.ok and by_table.value is not None:
            mine = by_table.value.get(name, {})
            scaling: Fetched[dict[str, dict[str, dict[str, Any]]]] = Fetched(mine)
            autoscaled: Fetched[bool] = Fetched({"read", "write"} <= set(mine.get("table", {})))
        else:
            scaling, autoscaled = Fetched(error=by_table.error), Fetched(error=by_table.error)
        table_tags: Fetched[dict[str, str] | None] = tags[name].result() if name in tags else Fetched()
        out.append(
            TableInfo(
                name, arn, desc, pitr.result(), ttl.result(), autoscaled, table_tags, region=region, scaling=scaling
            )
        )
    return Fetched(out)


def _table_tags(ddb: Any, arn: str) -> dict[str, str] | None:
    pages = ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
    return tag_dict([t for page in pages for t in page.get("Tags", [])])


def _pitr(answer: dict[str, Any]) -> bool:
    desc = answer.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    return bool(desc.get("PointInTimeRecoveryStatus") == "ENABLED")


def _ttl(answer: dict[str, Any]) -> str | None:
    desc = answer.get("TimeToLiveDescription", {})
    return desc.get("AttributeName") if desc.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None


_DIMENSIONS = {
    "dynamodb:table:ReadCapacityUnits": ("table", "read"),
    "dynamodb:table:WriteCapacityUnits": ("table", "write"),
    "dynamodb:index:ReadCapacityUnits": ("index", "read"),
    "dynamodb:index:WriteCapacityUnits": ("index", "write"),
}


def _scaling(reader: Reader, region: str | None = None) -> Fetched[dict[str, dict[str, dict[str, dict[str, Any]]]]]:
    """By table name: each scalable target of the table ("table") and its indexes ("index/NAME"), per
    dimension (read, write), with its bounds and its target-tracking policy's target value (None: no such
    policy). One pass over the region's DynamoDB targets and policies."""
    aas = reader.client("application-autoscaling", region)

    def targets() -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
        out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pages = aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="dynamodb")
        for page in pages:
            for target in page.get("ScalableTargets", []):
                resource, dimension = target["ResourceId"], target["ScalableDimension"]
                parts = resource.split("/")
                kind_dim = _DIMENSIONS.get(dimension)
                if parts[0] != "table" or kind_dim is None or len(parts) not in (2, 4):
                    continue
                scope = "table" if len(parts) == 2 else f"index/{parts[3]}"
                entry = {"min": target["MinCapacity"], "max": target["MaxCapacity"], "target": None}
                out.setdefault(parts[1], {}).setdefault(scope, {})[kind_dim[1]] = entry
                found[(resource, dimension)] = entry
        pages = aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="dynamodb")
        for page in pages:
            for policy in page.get("ScalingPolicies", []):
                scaled = found.get((policy["ResourceId"], policy["ScalableDimension"]))
                tracking = policy.get("TargetTrackingScalingPolicyConfiguration")
                if scaled is not None and tracking and scaled["target"] is None:
                    value = tracking.get("TargetValue")
                    # a float in the API; config.yaml's percentages are whole numbers (drift compares JSON)
                    scaled["target"] = int(value) if isinstance(value, float) and value.is_integer() else value
        return out

    return read(targets)


# --- IAM --------------------------------------------------------------------------------------

_SERVICE_LINKED = "/aws-service-role/"


def _principals(reader: Reader) -> Fetched[list[PrincipalInfo]]:
    iam = reader.client("iam")
    report = reader.submit(_credential_report, reader)
    try:
        details: dict[str, list[Any]] = {
            "UserDetailList": [],
            "RoleDetailList": [],
            "GroupDetailList": [],
            "Policies": [],
        }
        pages = iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["User", "Role", "Group", "LocalManagedPolicy"]
        )
        for page in pages:
            for key in details:
                details[key] += page.get(key, [])
    except Exception as exc:
        return Fetched(error=error_text(exc))
    documents = {p["Arn"]: _default_version(p) for p in details["Policies"]}
    groups = {g["GroupName"]: g for g in details["GroupDetailList"]}
    credentials = report.result()
    out: list[PrincipalInfo] = []
    for user in details["UserDetailList"]:
        names = list(user.get("GroupList", []))
        via_groups = [p for g in names if g in groups for p in _policies(groups[g], "GroupPolicyList", documents)]
        out.append(
            PrincipalInfo(
                kind="user",
                name=user["UserName"],
                arn=user["Arn"],
                path=user.get("Path", "/"),
                direct_policies=_policies(user, "UserPolicyList", documents),
                group_policies=via_groups,
                groups=names,
                credentials=(credentials.value or {}).get(user["UserName"], {}),
                tags=tag_dict(user.get("Tags")),
            )
        )
    for role in details["RoleDetailList"]:
        if role.get("Path", "/").startswith(_SERVICE_LINKED):
            continue  # owned and scoped by an AWS service; nothing for the account to fix
        out.append(
            PrincipalInfo(
                kind="role",
                name=role["RoleName"],
                arn=role["Arn"],
                path=role.get("Path", "/"),
                direct_policies=_policies(role, "RolePolicyList", documents),
                group_policies=[],
                groups=[],
                tags=tag_dict(role.get("Tags")),
                trust_policy=_document(role.get("AssumeRolePolicyDocument")),
            )
        )
    if not credentials.ok:  # key age, use and MFA are unknown: say so on every user
        for p in out:
            if p.kind == "user":
                p.credentials = {"error": credentials.error}
    return Fetched(out)


def _default_version(policy: dict[str, Any]) -> dict[str, Any] | None:
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return _document(version.get("Document"))
    return None


def _document(doc: Any) -> dict[str, Any] | None:
    if isinstance(doc, str):  # some endpoints return the URL-encoded JSON text
        doc = json.loads(urllib.parse.unquote(doc))
    return doc if isinstance(doc, dict) else None


def _policies(entity: dict[str, Any], inline_key: str, documents: dict[str, dict[str, Any] | None]) -> list[Policy]:
    out = [
        Policy(name=p["PolicyName"], arn=None, document=_document(p.get("PolicyDocument")))
        for p in entity.get(inline_key, [])
    ]
    for attached in entity.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        aws_managed = ":iam::aws:policy/" in arn
        out.append(Policy(attached["PolicyName"], arn, None if aws_managed else documents.get(arn), aws_managed))
    return out


def _credential_report(reader: Reader) -> Fetched[dict[str, dict[str, Any]]]:
    """The IAM credential report (key ages, last use, MFA, console) for every user in two calls."""
    iam = reader.client("iam")

    def fetch() -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + 30
        while iam.generate_credential_report().get("State") != "COMPLETE":
            if time.monotonic() > deadline:
                raise TimeoutError("the IAM credential report was not ready within 30 s")
            time.sleep(0.1)
        text = iam.get_credential_report()["Content"].decode("utf-8")
        return {row["user"]: row for row in csv.DictReader(io.StringIO(text))}

    return read(fetch)


def parse_report_time(value: str | None) -> datetime | None:
    """A credential report timestamp, or None for its "N/A"/"no_information"/"not_supported"."""
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
