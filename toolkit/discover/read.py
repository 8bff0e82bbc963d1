"""From the live account to config.yaml terms: one `Discovered` per bucket, table and principal.

The account is read once with `toolkit.audit.inventory.read_inventory`; what the inventory does not keep
(role trust policies, permissions boundaries, groups, autoscaling settings, object lock and intelligent
tiering) is read here, read-only. Nothing is guessed: a setting that could not be read leaves its
resource out, with the reason, instead of writing a default that would change it on apply.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from cargohold_core import aws
from cargohold_core.config import names
from cargohold_core.config.model import Environment, Project, trust_document
from cargohold_core.config.schema import Encryption, ExternalId, PrincipalSpec, TableEncryption
from cargohold_core.errors import CargoholdError
from toolkit.audit import policy
from toolkit.audit.fetch import CannotRead, error_text
from toolkit.audit.inventory import BucketInfo, PrincipalInfo, TableInfo, read_inventory
from toolkit.audit.live import lifecycle_scope
from toolkit.discover.grants import Targets, canonical, parse_grants

# Remark categories, in the order the report lists them.
UNEXPRESSED = "could-not-express"  # config.yaml cannot say it; the user must act
HARDENING = "hardening"  # the first apply changes it: cargohold's fixed security defaults
CHANGE = "change"  # the first apply changes it otherwise (layout, created resources, tags)
OPT_IN = "opt-in"  # off in the account and written as off: one line turns it on
SKIPPED = "skipped"  # not adopted
DECLARED = "declared"  # config.yaml declares it and it exists live: only imported, never rewritten
CATEGORIES = (UNEXPRESSED, HARDENING, CHANGE, OPT_IN, SKIPPED, DECLARED)

_STORAGE = {"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}
_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
_KMS_ID = re.compile(r"^[0-9a-f-]{36}$|^mrk-[0-9a-f]{32}$")
_LOG_SERVICE = "logging.s3.amazonaws.com"


class DiscoverError(CargoholdError):
    """The account could not be read well enough to describe it."""


@dataclass(frozen=True)
class Remark:
    category: str
    section: str  # buckets | tables | principals | account
    name: str  # the AWS name ("" for the account)
    message: str
    advice: str | None = None
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "section": self.section,
            "key": self.key,
            "name": self.name,
            "message": self.message,
            "advice": self.advice,
        }


@dataclass
class Discovered:
    section: str
    key: str
    name: str
    spec: dict[str, Any]
    exists: set[str] = field(default_factory=set)  # module-relative addresses that exist live
    context: dict[str, str] = field(default_factory=dict)  # what import ids need (policy ARN, role name)
    omitted: str | None = None  # why the resource is only a comment in the fragment
    live_policy: dict[str, Any] | None = None
    declared: bool = False  # config.yaml declares it: read only so that what exists live is imported


@dataclass
class Discovery:
    project: str
    env: str
    region: str
    account: str
    include_declared: bool
    buckets: dict[str, Discovered] = field(default_factory=dict)
    tables: dict[str, Discovered] = field(default_factory=dict)
    principals: dict[str, Discovered] = field(default_factory=dict)
    remarks: list[Remark] = field(default_factory=list)

    def sections(self) -> dict[str, dict[str, Discovered]]:
        return {"buckets": self.buckets, "tables": self.tables, "principals": self.principals}

    def adopting(self) -> dict[str, dict[str, Discovered]]:
        """The sections without what config.yaml already declares: what the fragment adds to it."""
        return {s: {k: d for k, d in items.items() if not d.declared} for s, items in self.sections().items()}

    def remark(self, category: str, item: Discovered, message: str, advice: str | None = None) -> None:
        self.remarks.append(Remark(category, item.section, item.name, message, advice, item.key))

    def remarks_for(self, item: Discovered) -> list[Remark]:
        return [r for r in self.remarks if r.section == item.section and r.name == item.name]


# ---------------------------------------------------------------- entry point


def discover(
    project: Project,
    env: Environment,
    *,
    match: str | None = None,
    include_declared: bool = False,
    workers: int = 16,
) -> Discovery:
    """Describe the account of `env` in config.yaml terms. `match` is a glob over AWS names; resources
    `env` already declares are skipped unless `include_declared`."""
    inventory = read_inventory(env, workers=workers, detailed=frozenset(_bucket_names(env)))
    for what, fetched in (("buckets", inventory.buckets), ("tables", inventory.tables)):
        if not fetched.ok:
            raise DiscoverError(f"cannot list {what}: {fetched.error}", hint="check the credentials' read permissions")
    if not inventory.principals.ok:
        raise DiscoverError(
            f"cannot read IAM: {inventory.principals.error}", hint="discover needs iam:GetAccountAuthorizationDetails"
        )
    extra = _Extras(env)
    found = Discovery(project.name, env.name, env.region, env.account, include_declared)
    keys = _Keys(project, env)
    declared = {
        "buckets": {b.name: k for k, b in env.buckets.items()},
        "tables": {t.name: k for k, t in env.tables.items()},
        "principals": {p.name: k for k, p in env.principals.items()},
    }
    wanted = _selector(match)
    buckets = [b for b in inventory.buckets.value or [] if b.name != env.state.bucket and wanted(b.name)]
    tables = [t for t in inventory.tables.value or [] if t.name != env.state.lock_table and wanted(t.name)]
    taken = {s: set(by_name.values()) for s, by_name in declared.items()}

    def key_of(section: str, name: str) -> str:
        # A resource config.yaml declares keeps its key there, so its import block addresses it.
        return declared[section].get(name) or keys.key(section, name, taken[section])

    bucket_keys = {b.name: key_of("buckets", b.name) for b in buckets}
    table_keys = {t.name: key_of("tables", t.name) for t in tables}
    for b in buckets:
        _add(found, "buckets", bucket_keys[b.name], b.name, functools.partial(_bucket, b, found, extra, bucket_keys))
    replication_roles = {
        d.context["replication_role"] for d in found.buckets.values() if "replication_role" in d.context
    }
    for t in tables:
        _add(
            found, "tables", table_keys[t.name], t.name, functools.partial(_table, t, table_keys[t.name], found, extra)
        )
    # Grants may also name resources config.yaml already declares (when those are not rediscovered).
    known_buckets = {} if include_declared else dict(declared["buckets"])
    known_tables = {} if include_declared else dict(declared["tables"])
    targets = Targets(
        buckets={**known_buckets, **{d.name: k for k, d in found.buckets.items()}},
        tables={**known_tables, **{d.name: k for k, d in found.tables.items()}},
        region=env.region,
        account=env.account,
        bucket_encryption={
            **{k: env.buckets[k].spec.encryption for k in known_buckets.values()},
            **{k: _encryption_of(Encryption, d) for k, d in found.buckets.items()},
        },
        table_encryption={
            **{k: env.tables[k].spec.encryption for k in known_tables.values()},
            **{k: _encryption_of(TableEncryption, d) for k, d in found.tables.items()},
        },
    )
    for p in inventory.principals.value or []:
        if p.path.startswith("/aws-reserved/") or (p.kind == "role" and p.name in replication_roles):
            continue  # AWS SSO's roles; the replication role belongs to its bucket
        if wanted(p.name):
            key = key_of("principals", p.name)
            _add(found, "principals", key, p.name, functools.partial(_principal, p, key, found, extra, targets))
    if not include_declared:
        _keep_declarations(found, declared)
    if any(not d.declared for items in found.sections().values() for d in items.values()):
        found.remarks.append(
            Remark(
                CHANGE,
                "account",
                "",
                "the first apply adds cargohold's tags (Project, Environment, ManagedBy, cargohold:key and the "
                "config's tags) to every adopted resource",
            )
        )
    return found


def _keep_declarations(found: Discovery, declared: dict[str, dict[str, str]]) -> None:
    """The resources config.yaml declares stay as it declares them: each found live is marked for import
    only (the first apply must adopt it, not try to create it again), and what discover would have said
    about its live settings is dropped (`cargohold drift` compares them with config.yaml after the import)."""
    kept = {
        (section, item.name): item
        for section, items in found.sections().items()
        for key, item in items.items()
        if declared[section].get(item.name) == key
    }
    found.remarks = [r for r in found.remarks if (r.section, r.name) not in kept]
    for (section, _), item in kept.items():
        item.declared = True
        found.remark(
            DECLARED,
            item,
            f"declared in config.yaml as {section}.{item.key} and exists live: imports.tf adopts it (a no-op where "
            "Terraform's state already manages it); config.yaml's settings apply",
        )


_E = TypeVar("_E", Encryption, TableEncryption)


def _encryption_of(model: type[_E], item: Discovered) -> _E:
    """A discovered bucket's or table's encryption (the defaults when it could not be said)."""
    try:
        return model.model_validate(item.spec.get("encryption") or {})
    except ValueError:
        return model()


def _bucket_names(env: Environment) -> list[str]:
    try:
        return [b["Name"] for b in aws.client(env, "s3").list_buckets().get("Buckets", [])]
    except Exception:  # the inventory's own listing reports it
        return []


def _selector(match: str | None) -> Callable[[str], bool]:
    if not match:
        return lambda name: True
    return lambda name: fnmatch.fnmatchcase(name, match)


def _add(found: Discovery, section: str, key: str, name: str, make: Callable[[], Discovered | None]) -> None:
    try:
        item = make()
    except CannotRead as exc:
        found.remarks.append(
            Remark(
                UNEXPRESSED,
                section,
                name,
                f"could not read its settings ({exc}); left out",
                "grant read access (see `cargohold audit`'s permissions) and run discover again",
                key,
            )
        )
        return
    if item is not None:
        found.sections()[section][key] = item


class _Keys:
    """Config keys from AWS names: the name template's fixed parts stripped, made key-safe, unique."""

    def __init__(self, project: Project, env: Environment) -> None:
        marker = "\x00"
        try:
            rendered = names.render(
                project.config.name_template,
                project=project.name,
                env=env.name,
                name=marker,
                account=env.account,
                region=env.region,
            )
        except (KeyError, ValueError, IndexError):
            rendered = marker
        self.prefix, _, self.suffix = rendered.partition(marker)
        self.used: dict[str, set[str]] = {}

    def key(self, section: str, name: str, taken: set[str]) -> str:
        core = name
        if name.startswith(self.prefix) and name.endswith(self.suffix) and len(name) > len(self.prefix + self.suffix):
            core = name[len(self.prefix) : len(name) - len(self.suffix)]
        base = re.sub(r"[^a-z0-9-]+", "-", core.lower()).strip("-") or "resource"
        key, n = base, 1
        used = self.used.setdefault(section, set())
        while key in used or key in taken:
            n += 1
            key = f"{base}-{n}"
        used.add(key)
        return key


# ---------------------------------------------------------------- what the inventory does not keep


class _Extras:
    """Read-only reads the inventory does not make, each once and only when needed."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._iam: dict[str, Any] | None = None
        self._scaling: tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], list[dict[str, Any]]]] | None
        self._scaling = None

    def client(self, service: str) -> Any:
        return aws.client(self.env, service)

    def bucket_region(self, name: str) -> str | None:
        """Where a bucket lives, asked once (GetBucketLocation) where ListBuckets did not say (moto); None
        when it cannot be read (the bucket is then taken to be in the environment's region)."""
        try:
            answer = self.client("s3").get_bucket_location(Bucket=name)
        except Exception:
            return None
        where = str(answer.get("LocationConstraint") or "us-east-1")
        return {"EU": "eu-west-1"}.get(where, where)

    def iam(self) -> dict[str, Any]:
        if self._iam is None:
            out: dict[str, Any] = {"users": {}, "roles": {}, "groups": {}, "policies": {}}
            try:
                pages = (
                    self.client("iam")
                    .get_paginator("get_account_authorization_details")
                    .paginate(Filter=["User", "Role", "Group", "LocalManagedPolicy"])
                )
                for page in pages:
                    for user in page.get("UserDetailList", []):
                        out["users"][user["UserName"]] = user
                    for role in page.get("RoleDetailList", []):
                        out["roles"][role["RoleName"]] = role
                    for group in page.get("GroupDetailList", []):
                        out["groups"][group["GroupName"]] = group
                    for pol in page.get("Policies", []):
                        out["policies"][pol["Arn"]] = pol
            except Exception as exc:
                raise DiscoverError(
                    f"cannot read IAM: {error_text(exc)}", hint="discover needs iam:GetAccountAuthorizationDetails"
                ) from None
            self._iam = out
        return self._iam

    def scaling(self) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], list[dict[str, Any]]]]:
        if self._scaling is None:
            aas = self.client("application-autoscaling")
            targets: dict[tuple[str, str], dict[str, Any]] = {}
            policies: dict[tuple[str, str], list[dict[str, Any]]] = {}
            try:
                for page in aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="dynamodb"):
                    for t in page.get("ScalableTargets", []):
                        targets[(t["ResourceId"], t["ScalableDimension"])] = t
                for page in aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="dynamodb"):
                    for p in page.get("ScalingPolicies", []):
                        policies.setdefault((p["ResourceId"], p["ScalableDimension"]), []).append(p)
            except Exception as exc:
                raise CannotRead(f"application auto scaling: {error_text(exc)}") from None
            self._scaling = (targets, policies)
        return self._scaling

    def object_lock(self, bucket: str) -> dict[str, Any] | None:
        try:
            answer = self.client("s3").get_object_lock_configuration(Bucket=bucket)
        except Exception as exc:
            if "ObjectLockConfigurationNotFound" in error_text(exc):
                return None
            raise CannotRead(f"object lock: {error_text(exc)}") from None
        config: dict[str, Any] | None = answer.get("ObjectLockConfiguration")
        return config

    def intelligent_tiering(self, bucket: str) -> list[dict[str, Any]]:
        try:
            answer = self.client("s3").list_bucket_intelligent_tiering_configurations(Bucket=bucket)
        except Exception as exc:
            raise CannotRead(f"intelligent tiering: {error_text(exc)}") from None
        found: list[dict[str, Any]] = answer.get("IntelligentTieringConfigurationList", [])
        return found

    def key_manager(self, key_arn: str) -> str | None:
        """AWS for an AWS managed key (its KeyManager, or an alias/aws/... naming it), else CUSTOMER."""
        kms = self.client("kms")
        try:
            manager = str(kms.describe_key(KeyId=key_arn)["KeyMetadata"].get("KeyManager"))
            if manager == "AWS":
                return manager
            key_id = key_arn.rsplit("/", 1)[-1]
            for page in kms.get_paginator("list_aliases").paginate():
                for alias in page.get("Aliases", []):
                    if alias.get("TargetKeyId") == key_id and str(alias.get("AliasName")).startswith("alias/aws/"):
                        return "AWS"
            return manager
        except Exception:  # unknown: reported by the caller
            return None


# ---------------------------------------------------------------- buckets


def _bucket(b: BucketInfo, found: Discovery, extra: _Extras, keys: dict[str, str]) -> Discovered | None:
    item = Discovered("buckets", keys[b.name], b.name, {"name": b.name}, {"aws_s3_bucket.this"})
    spec = item.spec
    region = b.region or extra.bucket_region(b.name)  # ListBuckets names it on AWS, not on moto
    if region is not None and region != found.region:
        spec["region"] = region  # a bucket of another region (a DR copy, say): adopted there
    _versioning_and_lock(b, item, found, extra)
    _encryption(b, item, found)
    _ownership_and_block(b, item, found)
    _bucket_policy(b, item, found)
    _lifecycle(b, item, found)
    _cors(b, item, found)
    logging = b.logging.get()
    if logging:
        target = str(logging.get("TargetBucket"))
        spec["access_logging"] = {
            "target_bucket": keys.get(target, target),
            "target_prefix": logging.get("TargetPrefix", ""),
        }
        item.exists.add("aws_s3_bucket_logging.this[0]")
    _replication(b, item, found, extra)
    _tiering(b, item, found, extra)
    return item


def _versioning_and_lock(b: BucketInfo, item: Discovered, found: Discovery, extra: _Extras) -> None:
    status = b.versioning.get()
    item.spec["versioning"] = status == "Enabled"
    if status == "Enabled":
        item.exists.add("aws_s3_bucket_versioning.this[0]")
    elif status == "Suspended":
        found.remark(
            OPT_IN,
            item,
            "versioning is suspended: written as `versioning: false`",
            "set `versioning: true` to keep every object version (and add a noncurrent expiry rule)",
        )
    else:
        found.remark(
            OPT_IN,
            item,
            "versioning is off: written as `versioning: false`",
            "set `versioning: true` to keep every object version (and add a noncurrent expiry rule)",
        )
    lock = extra.object_lock(b.name)
    if not lock or lock.get("ObjectLockEnabled") != "Enabled":
        return
    retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    if retention.get("Days") and retention.get("Mode") in ("GOVERNANCE", "COMPLIANCE"):
        item.spec["object_lock"] = {"mode": retention["Mode"], "days": int(retention["Days"])}
        item.spec["versioning"] = True
        item.exists.add("aws_s3_bucket_object_lock_configuration.this[0]")
        return
    found.remark(
        UNEXPRESSED,
        item,
        "object lock is enabled "
        + ("with a retention in years" if retention else "without a default retention")
        + "; config.yaml only says `object_lock: {mode, days}`, and without it Terraform would want to replace "
        "the bucket (object_lock_enabled cannot be turned off)",
        "add `object_lock: {mode: GOVERNANCE, days: N}` matching your retention before importing, or leave this "
        "bucket out of cargohold (--match)",
    )


def _encryption(b: BucketInfo, item: Discovered, found: Discovery) -> None:
    enc = b.encryption.get()
    if not enc:
        item.spec["encryption"] = {"type": "sse-s3"}
        found.remark(HARDENING, item, "no default encryption: apply sets SSE-S3")
        return
    item.exists.add("aws_s3_bucket_server_side_encryption_configuration.this")
    algorithm = enc.get("algorithm")
    if algorithm == "AES256":
        item.spec["encryption"] = {"type": "sse-s3"}
        return
    key = enc.get("kms_key_arn")
    out: dict[str, Any] = {"type": "sse-kms"}
    if key:
        out["kms_key_arn"] = _kms_arn(str(key), found)
    out["bucket_key"] = bool(enc.get("bucket_key"))
    item.spec["encryption"] = out
    if algorithm != "aws:kms":
        found.remark(
            UNEXPRESSED,
            item,
            f"default encryption {algorithm} is not sse-s3 or sse-kms; written as sse-kms, so apply switches it",
            "keep the bucket out of cargohold (--match) to keep " + str(algorithm),
        )


def _kms_arn(key: str, found: Discovery) -> str:
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:aws:kms:{found.region}:{found.account}:{key}"
    if _KMS_ID.match(key):
        return f"arn:aws:kms:{found.region}:{found.account}:key/{key}"
    return key


def _ownership_and_block(b: BucketInfo, item: Discovered, found: Discovery) -> None:
    ownership = b.ownership.get()
    if ownership is None:
        found.remark(
            HARDENING,
            item,
            "no object ownership setting (ACLs enabled): apply sets BucketOwnerEnforced, which disables ACLs",
        )
    else:
        item.exists.add("aws_s3_bucket_ownership_controls.this")
        if ownership != "BucketOwnerEnforced":
            found.remark(
                HARDENING,
                item,
                f"object ownership is {ownership} (ACLs enabled): apply sets BucketOwnerEnforced, which disables ACLs",
            )
    grants = [g for g in b.acl_grants.get() if (g.get("Grantee") or {}).get("Type") != "CanonicalUser"]
    if grants:
        who = sorted(
            {str((g.get("Grantee") or {}).get("URI") or (g.get("Grantee") or {}).get("EmailAddress")) for g in grants}
        )
        found.remark(
            HARDENING,
            item,
            f"ACL grants to {', '.join(who)} stop applying once ACLs are disabled",
            "grant the same access with a bucket policy or principals' grants before applying",
        )
    block = b.public_access_block.get()
    if block is None:
        found.remark(
            HARDENING,
            item,
            "no public access block: apply creates one (BlockPublicAcls, IgnorePublicAcls"
            + ("" if "public_read_prefix" in item.spec else ", BlockPublicPolicy, RestrictPublicBuckets")
            + " on)",
        )
        return
    item.exists.add("aws_s3_bucket_public_access_block.this")
    item.context["public_access_block"] = ",".join(f"{k}={bool(v)}" for k, v in sorted(block.items()))


def _bucket_policy(b: BucketInfo, item: Discovered, found: Discovery) -> None:
    document = b.policy.get()
    item.live_policy = document
    arn = f"arn:aws:s3:::{b.name}"
    tls = False
    tls_version: str | None = None
    if document is not None:
        item.exists.add("aws_s3_bucket_policy.this[0]")
    for s in policy.statements(document):
        sid = s.get("Sid") or "(no Sid)"
        actions = [str(a) for a in policy.as_list(s.get("Action"))]
        resources = [str(r) for r in policy.as_list(s.get("Resource"))]
        condition = s.get("Condition") or {}
        everyone = policy.is_everyone(s.get("Principal"))
        if s.get("Effect") == "Deny" and everyone and policy.denies_insecure_transport({"Statement": [s]}):
            tls = True
        elif s.get("Effect") == "Deny" and everyone and policy.minimum_tls({"Statement": [s]}) is not None:
            version = policy.minimum_tls({"Statement": [s]})
            if version in (1.2, 1.3):
                tls_version = f"{version:.1f}"
            else:
                found.remark(HARDENING, item, f"the policy allows TLS below 1.2 ({version}): apply requires TLS 1.2")
        elif s.get("Effect") == "Deny" and everyone and actions == ["s3:PutObject"] and "StringNotEquals" in condition:
            item.spec["deny_unencrypted_uploads"] = True
        elif s.get("Effect") == "Allow" and everyone and actions == ["s3:GetObject"] and not condition:
            prefixes = [r[len(arn) + 1 : -1] for r in resources if r.startswith(arn + "/") and r.endswith("*")]
            prefix = prefixes[0] if len(prefixes) == 1 == len(resources) else None
            if prefix and prefix.strip("/") and "*" not in prefix and not prefix.startswith("/"):
                item.spec["public_read_prefix"] = prefix
            else:
                found.remark(
                    UNEXPRESSED,
                    item,
                    f"policy statement {sid} makes {', '.join(resources)} readable by anyone; cargohold only opens "
                    "one prefix (`public_read_prefix`), so apply removes this statement",
                    "move the public objects under a prefix such as public/ and set `public_read_prefix: public/`, "
                    "or serve them through CloudFront with origin access control",
                )
        elif s.get("Effect") == "Allow" and (s.get("Principal") or {}) == {"Service": _LOG_SERVICE}:
            continue  # the log-delivery grant, derived from the buckets that log here
        else:
            found.remark(
                UNEXPRESSED,
                item,
                f"policy statement {sid} ({s.get('Effect')} {', '.join(actions) or s.get('NotAction')}) has no "
                "config.yaml setting; apply replaces the bucket policy, which removes it",
                "grant IAM principals access through `grants:` instead, or keep this bucket out of cargohold (--match)",
            )
    if tls_version:
        item.spec["min_tls_version"] = tls_version
    if not tls:
        found.remark(HARDENING, item, "the policy does not deny plain HTTP: apply adds DenyInsecureTransport")
    if not tls_version:
        found.remark(HARDENING, item, "the policy sets no minimum TLS version: apply adds DenyOutdatedTls (TLS 1.2)")


def _lifecycle(b: BucketInfo, item: Discovered, found: Discovery) -> None:
    rules = b.lifecycle.get()
    out = []
    for index, rule in enumerate(rules):
        converted, problems = _lifecycle_rule(rule, index)
        for problem in problems:
            found.remark(
                UNEXPRESSED,
                item,
                f"lifecycle rule {converted['id']}: {problem}; apply rewrites the rule without it",
                "express it with the keys of `lifecycle:` or accept the change",
            )
        actions = ("transitions", "expiration_days", "noncurrent_transitions", "noncurrent_expiration_days")
        if any(a in converted for a in (*actions, "abort_incomplete_multipart_days")):
            out.append(converted)
    if out:
        item.spec["lifecycle"] = out
        item.exists.add("aws_s3_bucket_lifecycle_configuration.this[0]")
    elif rules:
        found.remark(
            UNEXPRESSED,
            item,
            "no lifecycle rule can be expressed; apply deletes the lifecycle configuration",
            "write the rules by hand under `lifecycle:`",
        )


def _lifecycle_rule(rule: dict[str, Any], index: int) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    out: dict[str, Any] = {"id": str(rule.get("ID") or f"rule-{index + 1}")}
    if rule.get("Status") != "Enabled":
        out["enabled"] = False
    prefix, tags, larger, smaller = lifecycle_scope(rule)
    if prefix:
        out["prefix"] = prefix
    if tags:
        out["tags"] = tags
    for field_name, size in (("object_size_greater_than", larger), ("object_size_less_than", smaller)):
        if size is not None:
            out[field_name] = size
    transitions = []
    for t in rule.get("Transitions", []):
        if t.get("Days") is None or t.get("StorageClass") not in _STORAGE:
            problems.append(f"transition {t} (a date, or a storage class cargohold does not offer)")
        else:
            transitions.append({"days": int(t["Days"]), "storage_class": t["StorageClass"]})
    if transitions:
        # S3 keeps transitions in no particular order (Terraform's `transition` is a set); config.yaml
        # lists them by age.
        out["transitions"] = sorted(transitions, key=lambda t: t["days"])
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days"):
        out["expiration_days"] = int(expiration["Days"])
    if expiration.get("Date") or expiration.get("ExpiredObjectDeleteMarker"):
        problems.append("expiration by date or of expired delete markers")
    noncurrent = []
    for t in rule.get("NoncurrentVersionTransitions", []):
        if t.get("NoncurrentDays") is None or t.get("StorageClass") not in _STORAGE:
            problems.append(f"noncurrent transition {t}")
            continue
        entry: dict[str, Any] = {"days": int(t["NoncurrentDays"]), "storage_class": t["StorageClass"]}
        if t.get("NewerNoncurrentVersions"):
            entry["newer_noncurrent_versions"] = int(t["NewerNoncurrentVersions"])
        noncurrent.append(entry)
    if noncurrent:
        out["noncurrent_transitions"] = sorted(noncurrent, key=lambda t: t["days"])
    ncv = rule.get("NoncurrentVersionExpiration") or {}
    if ncv.get("NoncurrentDays"):
        out["noncurrent_expiration_days"] = int(ncv["NoncurrentDays"])
        if ncv.get("NewerNoncurrentVersions"):
            out["newer_noncurrent_versions"] = int(ncv["NewerNoncurrentVersions"])
    abort = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    if abort:
        out["abort_incomplete_multipart_days"] = int(abort)
    return out, problems


def _cors(b: BucketInfo, item: Discovered, found: Discovery) -> None:
    rules = []
    for rule in b.cors.get():
        methods = [str(m) for m in rule.get("AllowedMethods", [])]
        if not set(methods) <= _METHODS:
            found.remark(
                UNEXPRESSED,
                item,
                f"CORS rule with methods {methods} left out; apply removes it",
                "use GET, PUT, POST, DELETE and HEAD only",
            )
            continue
        out: dict[str, Any] = {"allowed_origins": list(rule.get("AllowedOrigins", [])), "allowed_methods": methods}
        if rule.get("AllowedHeaders"):
            out["allowed_headers"] = list(rule["AllowedHeaders"])
        if rule.get("ExposeHeaders"):
            out["expose_headers"] = list(rule["ExposeHeaders"])
        if rule.get("MaxAgeSeconds") is None:
            found.remark(CHANGE, item, "a CORS rule has no MaxAgeSeconds; cargohold always sets one (3000 s)")
        else:
            out["max_age_seconds"] = int(rule["MaxAgeSeconds"])
        if rule.get("ID"):
            found.remark(CHANGE, item, f"CORS rule id {rule['ID']} is dropped (config.yaml has no CORS ids)")
        rules.append(out)
    if rules:
        item.spec["cors"] = rules
        item.exists.add("aws_s3_bucket_cors_configuration.this[0]")


def _replication(b: BucketInfo, item: Discovered, found: Discovery, extra: _Extras) -> None:
    config = b.replication.get()
    if not config:
        return
    rules = config.get("Rules", [])
    role = str(config.get("Role", "")).rsplit("/", 1)[-1]
    expected = f"s3rep-{b.name[:58]}"
    if len(rules) != 1 or rules[0].get("Status") != "Enabled":
        found.remark(
            UNEXPRESSED,
            item,
            f"{len(rules)} replication rules; config.yaml describes one enabled rule",
            "keep this bucket out of cargohold (--match), or reduce replication to one rule first",
        )
        return
    rule = rules[0]
    dest = rule.get("Destination", {})
    out: dict[str, Any] = {"destination_bucket_arn": dest.get("Bucket")}
    if dest.get("StorageClass", "STANDARD") != "STANDARD":
        out["storage_class"] = dest["StorageClass"]
    prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
    if prefix:
        out["prefix"] = prefix
    replica_key = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if replica_key:
        out["replica_kms_key_arn"] = _kms_arn(str(replica_key), found)

    def on(part: Any) -> bool:
        return isinstance(part, dict) and part.get("Status") == "Enabled"

    criteria = rule.get("SourceSelectionCriteria") or {}
    options = {
        "delete_marker_replication": on(rule.get("DeleteMarkerReplication")),
        "replication_time": on(dest.get("ReplicationTime")),
        # Replication Time Control turns the metrics on by itself (S3 requires them)
        "metrics": on(dest.get("Metrics")) and not on(dest.get("ReplicationTime")),
        "replica_modifications": on(criteria.get("ReplicaModifications")),
    }
    out.update({name: True for name, wanted in options.items() if wanted})
    item.spec["replication"] = out
    item.exists.add("aws_s3_bucket_replication_configuration.this[0]")
    item.context["replication_role"] = role
    if role == expected:
        item.exists.add("aws_iam_role.replication[0]")
        inline = [p.get("PolicyName") for p in extra.iam()["roles"].get(role, {}).get("RolePolicyList", [])]
        if "replication" in inline:
            item.exists.add("aws_iam_role_policy.replication[0]")
    else:
        out["role_arn"] = config.get("Role")  # kept: a role of the user's own, which cargohold leaves alone


def _tiering(b: BucketInfo, item: Discovered, found: Discovery, extra: _Extras) -> None:
    for config in extra.intelligent_tiering(b.name):
        name = config.get("Id")
        if name != "cargohold" or config.get("Status") != "Enabled":
            found.remark(
                UNEXPRESSED,
                item,
                f"intelligent-tiering configuration {name} is not cargohold's; it stays as it is, outside Terraform",
                "recreate it as `intelligent_tiering:` and delete the old one, or leave it",
            )
            continue
        out: dict[str, Any] = {}
        prefix = (config.get("Filter") or {}).get("Prefix")
        if prefix:
            out["prefix"] = prefix
        for tier in config.get("Tierings", []):
            field_name = {"ARCHIVE_ACCESS": "archive_access_days", "DEEP_ARCHIVE_ACCESS": "deep_archive_access_days"}
            out[field_name[tier["AccessTier"]]] = int(tier["Days"])
        item.spec["intelligent_tiering"] = out
        item.exists.add("aws_s3_bucket_intelligent_tiering_configuration.this[0]")


# ---------------------------------------------------------------- tables


def _table(t: TableInfo, key: str, found: Discovery, extra: _Extras) -> Discovered:
    d = t.description.get()
    item = Discovered("tables", key, t.name, {"name": t.name}, {"aws_dynamodb_table.this"})
    spec = item.spec
    if t.region is not None and t.region != found.region:
        spec["region"] = t.region  # listed in another region the environment uses
    types = {a["AttributeName"]: a["AttributeType"] for a in d.get("AttributeDefinitions", [])}

    def key_of(schema: list[dict[str, Any]], kind: str) -> dict[str, str] | None:
        name = next((k["AttributeName"] for k in schema if k["KeyType"] == kind), None)
        return None if name is None else {"name": name, "type": types.get(name, "S")}

    spec["hash_key"] = key_of(d.get("KeySchema", []), "HASH")
    if key_of(d.get("KeySchema", []), "RANGE"):
        spec["range_key"] = key_of(d.get("KeySchema", []), "RANGE")
    provisioned = (d.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
    spec["billing"] = "provisioned" if provisioned else "on-demand"
    if provisioned:
        spec["capacity"] = _capacity(d.get("ProvisionedThroughput", {}))
        _autoscaling(t.name, item, found, extra)
    gsis = []
    for g in d.get("GlobalSecondaryIndexes", []):
        entry: dict[str, Any] = {"name": g["IndexName"], "hash_key": key_of(g["KeySchema"], "HASH")}
        if key_of(g["KeySchema"], "RANGE"):
            entry["range_key"] = key_of(g["KeySchema"], "RANGE")
        entry.update(_projection(g.get("Projection", {})))
        if provisioned:
            entry["capacity"] = _capacity(g.get("ProvisionedThroughput", {}))
            scaled = _index_autoscaling(t.name, g["IndexName"], item, found, extra)
            if scaled is not None:
                entry["autoscaling"] = scaled
        gsis.append(entry)
    if gsis:
        spec["global_indexes"] = gsis
    lsis = []
    for ix in d.get("LocalSecondaryIndexes", []):
        lsis.append(
            {
                "name": ix["IndexName"],
                "range_key": key_of(ix["KeySchema"], "RANGE"),
                **_projection(ix.get("Projection", {})),
            }
        )
    if lsis:
        spec["local_indexes"] = lsis
    spec["point_in_time_recovery"] = t.pitr.get()
    if not spec["point_in_time_recovery"]:
        found.remark(
            OPT_IN,
            item,
            "point-in-time recovery is off: written as `point_in_time_recovery: false`",
            "set it to true to be able to restore any second of the last 35 days",
        )
    ttl = t.ttl_attribute.get()
    if ttl:
        spec["ttl_attribute"] = ttl
    _table_sse(d, item, found, extra)
    stream = d.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        spec["stream"] = stream.get("StreamViewType")
    spec["deletion_protection"] = bool(d.get("DeletionProtectionEnabled", False))
    if not spec["deletion_protection"]:
        found.remark(
            OPT_IN,
            item,
            "deletion protection is off: written as `deletion_protection: false`",
            "set it to true so that no one can delete the table by mistake",
        )
    spec["table_class"] = (d.get("TableClassSummary") or {}).get("TableClass", "STANDARD")
    return item


def _capacity(throughput: dict[str, Any]) -> dict[str, int]:
    return {
        "read": max(1, int(throughput.get("ReadCapacityUnits") or 1)),
        "write": max(1, int(throughput.get("WriteCapacityUnits") or 1)),
    }


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"projection": projection.get("ProjectionType", "ALL")}
    if projection.get("NonKeyAttributes"):
        out["non_key_attributes"] = list(projection["NonKeyAttributes"])
    return out


def _autoscaling(name: str, item: Discovered, found: Discovery, extra: _Extras) -> None:
    scaled = _scaled(f"table/{name}", "table", lambda dim: f"{dim}[0]", item, found, extra)
    if scaled is not None:
        item.spec["autoscaling"] = scaled


def _index_autoscaling(table: str, index: str, item: Discovered, found: Discovery, extra: _Extras) -> Any:
    """A global index's own autoscaling, as its `autoscaling:` (None when it has none)."""
    resource = f"table/{table}/index/{index}"
    return _scaled(resource, "index", lambda dim: f'index_{dim}["{index}"]', item, found, extra)


def _scaled(
    resource: str, kind: str, address: Callable[[str], str], item: Discovered, found: Discovery, extra: _Extras
) -> dict[str, int] | None:
    """The targets and target-tracking policies of a table's or index's capacity, as config.yaml's
    `autoscaling:` (read and write, one target utilisation); the module addresses that exist live are
    recorded for the import blocks."""
    targets, policies = extra.scaling()
    read = targets.get((resource, f"dynamodb:{kind}:ReadCapacityUnits"))
    write = targets.get((resource, f"dynamodb:{kind}:WriteCapacityUnits"))
    what = "capacity" if kind == "table" else f"capacity of index {resource.rsplit('/', 1)[1]}"
    if read is None and write is None:
        return None
    if read is None or write is None:
        found.remark(
            UNEXPRESSED,
            item,
            f"only one of read/write {what} is autoscaled; cargohold scales both",
            "add the missing target or remove the other, then run discover again",
        )
        return None
    values = set()
    for dim in ("Read", "Write"):
        dimension = f"dynamodb:{kind}:{dim}CapacityUnits"
        item.exists.add(f"aws_appautoscaling_target.{address(dim.lower())}")
        wanted = f"DynamoDB{dim}CapacityUtilization:{resource}"
        for p in policies.get((resource, dimension), []):
            config = p.get("TargetTrackingScalingPolicyConfiguration") or {}
            values.add(config.get("TargetValue"))
            if p.get("PolicyName") == wanted:
                item.exists.add(f"aws_appautoscaling_policy.{address(dim.lower())}")
            else:
                found.remark(
                    CHANGE,
                    item,
                    f"scaling policy {p.get('PolicyName')} is not cargohold's; apply adds {wanted} next to it",
                    "delete the old policy after the apply",
                )
    utilization = float(next(iter(values)) or 0) if len(values) == 1 else 0.0
    if not 20 <= utilization <= 90:
        found.remark(
            CHANGE,
            item,
            f"target utilization of the {what} {sorted(map(str, values)) or 'none'}: cargohold uses one "
            "value (20-90) for both; written as 70",
        )
        utilization = 70.0
    return {
        "min_read": int(read["MinCapacity"]),
        "max_read": int(read["MaxCapacity"]),
        "min_write": int(write["MinCapacity"]),
        "max_write": int(write["MaxCapacity"]),
        "target_utilization": int(utilization),
    }


def _table_sse(d: dict[str, Any], item: Discovered, found: Discovery, extra: _Extras) -> None:
    sse = d.get("SSEDescription") or {}
    if sse.get("SSEType") != "KMS" or sse.get("Status") not in ("ENABLED", "UPDATING"):
        item.spec["encryption"] = {"type": "aws-owned"}
        return
    key = sse.get("KMSMasterKeyArn")
    manager = extra.key_manager(str(key)) if key else "AWS"
    if manager == "CUSTOMER" and key:
        item.spec["encryption"] = {"type": "customer-kms", "kms_key_arn": str(key)}
        return
    item.spec["encryption"] = {"type": "aws-managed"}
    if manager is None:
        found.remark(
            CHANGE,
            item,
            f"could not tell whether KMS key {key} is AWS managed; written as aws-managed",
            "if it is your own key, write `encryption: {type: customer-kms, kms_key_arn: ...}`",
        )


# ---------------------------------------------------------------- principals


def _principal(p: PrincipalInfo, key: str, found: Discovery, extra: _Extras, targets: Targets) -> Discovered:
    iam = extra.iam()
    item = Discovered("principals", key, p.name, {"name": p.name, "kind": p.kind}, {f"aws_iam_{p.kind}.this[0]"})
    spec = item.spec
    if p.path != "/":
        spec["path"] = p.path
    detail = iam["roles" if p.kind == "role" else "users"].get(p.name, {})
    boundary = (detail.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        spec["permissions_boundary_arn"] = boundary
    if p.kind == "role":
        _trust(detail.get("AssumeRolePolicyDocument"), item, found)
    own_arn = f"arn:aws:iam::{found.account}:policy{p.path}{p.name}"
    item.context["policy_arn"] = own_arn
    if own_arn in iam["policies"]:
        item.exists.add("aws_iam_policy.this")
    if p.kind == "user":
        group = iam["groups"].get(p.name)
        if group is not None:
            item.exists.add("aws_iam_group.this[0]")
            if own_arn in [a["PolicyArn"] for a in group.get("AttachedManagedPolicies", [])]:
                item.exists.add("aws_iam_group_policy_attachment.this[0]")
            if p.name in p.groups:
                item.exists.add("aws_iam_user_group_membership.this[0]")
    elif own_arn in [a["PolicyArn"] for a in detail.get("AttachedManagedPolicies", [])]:
        item.exists.add("aws_iam_role_policy_attachment.this[0]")
    grants: list[dict[str, Any]] = []
    for source, where in _policy_sources(p, detail, iam):
        _policy_grants(source, where, own_arn, item, found, targets, grants)
    if grants:
        spec["grants"] = grants
    else:
        item.omitted = "no policy of this principal can be written as grants (a principal needs at least one)"
    return item


def _policy_sources(p: PrincipalInfo, detail: dict[str, Any], iam: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(policy, where it is attached) for every policy that reaches the principal."""
    out: list[tuple[dict[str, Any], str]] = []

    def collect(entity: dict[str, Any], inline_key: str, where: str) -> None:
        for inline in entity.get(inline_key, []):
            out.append(
                ({"name": inline["PolicyName"], "arn": None, "document": _doc(inline.get("PolicyDocument"))}, where)
            )
        for attached in entity.get("AttachedManagedPolicies", []):
            arn = attached["PolicyArn"]
            managed = iam["policies"].get(arn)
            document = _default_version(managed) if managed else None
            out.append(
                (
                    {
                        "name": attached["PolicyName"],
                        "arn": arn,
                        "document": document,
                        "aws_managed": ":iam::aws:policy/" in arn,
                    },
                    where,
                )
            )

    collect(detail, "RolePolicyList" if p.kind == "role" else "UserPolicyList", f"on the {p.kind} itself")
    for group in p.groups:
        collect(iam["groups"].get(group, {}), "GroupPolicyList", f"through group {group}")
    return out


def _doc(document: Any) -> dict[str, Any] | None:
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    return document if isinstance(document, dict) else None


def _default_version(managed: dict[str, Any]) -> dict[str, Any] | None:
    for version in managed.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return _doc(version.get("Document"))
    return None


def _policy_grants(
    source: dict[str, Any],
    where: str,
    own_arn: str,
    item: Discovered,
    found: Discovery,
    targets: Targets,
    grants: list[dict[str, Any]],
) -> None:
    name, arn = source["name"], source["arn"]
    label = f"{'inline policy' if arn is None else 'policy'} {name} ({where})"
    own = arn == own_arn and (where == f"on the {item.spec['kind']} itself" or where == f"through group {item.name}")
    detach = _detach_command(item, where, arn, name)
    if source.get("aws_managed"):
        found.remark(
            UNEXPRESSED,
            item,
            f"AWS managed {label} grants broad access that grants cannot express; Terraform leaves it attached",
            f"write `grants:` for what the application uses and apply (config.yaml does not own this policy, so "
            f"apply keeps it); detach it only once nothing else relies on it through this {item.spec['kind']} "
            f"(another service, an instance, a person): {detach}",
        )
        return
    parsed = parse_grants(source["document"], targets)
    if not parsed.exact:
        suggestion = ""
        if parsed.grants:
            suggestion = " The nearest grants: " + "; ".join(_grant_text(g) for g in parsed.grants) + "."
        found.remark(
            UNEXPRESSED,
            item,
            f"{label} cannot be written as grants: {'; '.join(parsed.problems)}"
            + ("; apply replaces this policy's document with the grants'" if own else "; Terraform leaves it as is"),
            "write `grants:` for what the application needs and remove the policy after the apply: "
            + detach
            + suggestion,
        )
        return
    for grant in parsed.grants:
        if grant not in grants:
            grants.append(grant)
    if own and not parsed.same_layout:
        found.remark(CHANGE, item, f"{label} is rewritten in cargohold's statement layout (same permissions)")
    if not own:
        found.remark(
            CHANGE,
            item,
            f"{label} is written as grants; apply creates cargohold's own policy with the same permissions",
            f"after the apply, remove the old one: {detach}",
        )


def _grant_text(grant: dict[str, Any]) -> str:
    target = f"bucket: {grant['bucket']}" if "bucket" in grant else f"table: {grant['table']}"
    prefix = f", prefix: {grant['prefix']}" if grant.get("prefix") else ""
    return f"{{{target}{prefix}, actions: [{', '.join(grant['actions'])}]}}"


def _detach_command(item: Discovered, where: str, arn: str | None, name: str) -> str:
    kind = item.spec["kind"]
    if where.startswith("through group "):
        group = where.removeprefix("through group ")
        if arn is None:
            return f"aws iam delete-group-policy --group-name {group} --policy-name {name}"
        return f"aws iam detach-group-policy --group-name {group} --policy-arn {arn}"
    if arn is None:
        return f"aws iam delete-{kind}-policy --{kind}-name {item.name} --policy-name {name}"
    return f"aws iam detach-{kind}-policy --{kind}-name {item.name} --policy-arn {arn}"


def _trust(document: Any, item: Discovered, found: Discovery) -> None:
    doc = _doc(document)
    services: list[str] = []
    arns: list[str] = []
    guarded: dict[str, list[str]] = {}  # external id -> the AWS principals of the statements it guards
    leftovers = []
    for s in policy.statements(doc):
        actions = policy.as_list(s.get("Action"))
        principal = s.get("Principal") or {}
        plain = (
            s.get("Effect") == "Allow"
            and actions in (["sts:AssumeRole"],)
            and isinstance(principal, dict)
            and set(principal) <= {"Service", "AWS"}
        )
        guard = _external_id(s.get("Condition")) if plain and set(principal) == {"AWS"} else None
        if plain and not s.get("Condition"):
            services += [str(x) for x in policy.as_list(principal.get("Service"))]
            arns += [str(x) for x in policy.as_list(principal.get("AWS"))]
        elif guard is not None:
            guarded.setdefault(guard, []).extend(str(x) for x in policy.as_list(principal.get("AWS")))
        else:
            leftovers.append(s.get("Sid") or f"{s.get('Effect')} {actions} for {principal}")
    external_id: str | None = None
    if len(guarded) == 1 and not arns:
        # cargohold's one statement for assume_role_arns, with its sts:ExternalId condition
        [(external_id, arns)] = guarded.items()
    unwritten = bool(guarded) and external_id is None
    if unwritten:
        found.remark(
            UNEXPRESSED,
            item,
            f"the trust policy lets {', '.join(sorted({a for g in guarded.values() for a in g}))} assume the role "
            f"only with an external id ({'beside principals trusted without one' if arns else 'several ids'}); "
            "config.yaml has one assume_role_external_id for all of assume_role_arns, so these statements are "
            "not written and apply rewrites the trust policy without them",
            "give those callers a role of their own (with its assume_role_external_id), or keep this role out of "
            "cargohold (--match)",
        )
    arns = [a if a.startswith("arn:") else f"arn:aws:iam::{a}:root" for a in arns]
    if services:
        item.spec["assume_role_services"] = sorted(set(services))
    if arns:
        item.spec["assume_role_arns"] = sorted(set(arns))
    if external_id is not None:
        item.spec["assume_role_external_id"] = external_id
    if leftovers:
        found.remark(
            UNEXPRESSED,
            item,
            f"trust policy statements {', '.join(map(str, leftovers))} (conditions, federation or other actions) "
            "cannot be written; apply rewrites the trust policy without them",
            "keep this role out of cargohold (--match) if it is assumed through OIDC/SAML or with conditions "
            "other than one sts:ExternalId",
        )
    if not services and not arns:
        item.omitted = "its trust policy names no service or account cargohold can write"
    elif not leftovers and not unwritten and canonical(doc) != canonical(_module_trust(services, arns, external_id)):
        found.remark(CHANGE, item, "the trust policy is rewritten in cargohold's layout (same principals)")


def _external_id(condition: Any) -> str | None:
    """The id of a condition that is exactly `StringEquals sts:ExternalId` with one value, as
    `assume_role_external_id` writes it; None for any other condition."""
    if not isinstance(condition, dict) or list(condition) != ["StringEquals"]:
        return None
    block = condition["StringEquals"]
    if not isinstance(block, dict) or len(block) != 1:
        return None
    [(key, value)] = block.items()
    values = policy.as_list(value)
    if str(key).lower() != "sts:externalid" or len(values) != 1 or not isinstance(values[0], str):
        return None
    try:
        TypeAdapter(ExternalId).validate_python(values[0])
    except ValidationError:
        return None  # not an id config.yaml can hold (STS would not accept it either)
    return values[0]


def _module_trust(services: list[str], arns: list[str], external_id: str | None) -> dict[str, Any]:
    """The iam-principal module's assume_role_policy."""
    spec = PrincipalSpec.model_construct(
        kind="role",
        assume_role_services=sorted(set(services)),
        assume_role_arns=sorted(set(arns)),
        assume_role_external_id=external_id,
    )
    return trust_document(spec) or {}
