"""Rules that span fields or resources: names, references, lifecycle sanity, key consistency.

Each rule reports a located problem and keeps going, so one run lists every mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cargohold_core.config import names
from cargohold_core.config.diagnostics import did_you_mean
from cargohold_core.config.schema import BucketSpec, EnvironmentSpec, Index, PrincipalSpec, TableSpec, partition_of
from cargohold_core.config.yamlsource import Document, KeyPath
from cargohold_core.errors import Problem
from cargohold_core.paths import grant_vocabulary

_MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


class Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, hint))

    def unknown_ref(self, path: KeyPath, what: str, value: str, known: Iterable[str]) -> None:
        known = list(known)
        guess = did_you_mean(value, known)
        message = f"no {what} named '{value}' in this config"
        if guess:
            message += f"; did you mean '{guess}'?"
        self.add(path, message, f"{what}s defined: {', '.join(known)}" if known else f"define the {what} first")


def check_name(
    checker: Checker,
    path: KeyPath,
    *,
    name: str,
    kind: str,
    reasons: list[str],
    env: str,
    explicit: bool,
    hint: str | None = None,
) -> None:
    """Report an invalid AWS name; `hint` replaces the default advice (rename the key / set `name:`)."""
    if not reasons:
        return
    if hint is not None:
        checker.add(path, f"{kind} name '{name}' " + "; ".join(reasons), hint)
        return
    origin = "" if explicit else f" (made by the name template for environment '{env}')"
    hint = (
        "set `name:` to a valid name"
        if explicit
        else "rename the key, or set `name:` on this resource, or change `name_template`"
    )
    checker.add(path, f"{kind} name '{name}'{origin} " + "; ".join(reasons), hint)


def check_access(checker: Checker, path: KeyPath, spec: EnvironmentSpec) -> None:
    """The role to assume must be in the environment's account and partition: assuming it lands there,
    and the account guard would refuse anything else after the fact."""
    role = spec.assume_role
    if role is None:
        return
    where = (*path, "assume_role", "role_arn")
    if role.account != spec.account:
        checker.add(
            where,
            f"the role is in account {role.account}, but this environment is account {spec.account}",
            f"name a role in account {spec.account} (e.g. arn:{partition_of(spec.region)}:iam::{spec.account}:"
            "role/cargohold-deployer), or correct `account:`",
        )
    if role.partition != partition_of(spec.region):
        checker.add(
            where,
            f"the role is in partition {role.partition}, but region {spec.region} is in {partition_of(spec.region)}",
            f"write the ARN as arn:{partition_of(spec.region)}:iam::...",
        )


def check_bucket(checker: Checker, path: KeyPath, spec: BucketSpec, *, bucket_keys: Iterable[str]) -> None:
    if spec.encryption.type == "sse-s3" and spec.encryption.kms_key_arn:
        checker.add(
            (*path, "encryption", "kms_key_arn"),
            "a KMS key only applies to sse-kms",
            "set `type: sse-kms`, or remove `kms_key_arn`",
        )
    prefix = spec.public_read_prefix
    if prefix is not None and (prefix.strip("/") == "" or "*" in prefix or prefix.startswith("/")):
        checker.add(
            (*path, "public_read_prefix"),
            f"'{prefix}' would expose the whole bucket or is not a prefix",
            "name one folder-like prefix such as 'uploads/', or remove the key to keep the bucket private",
        )
    seen_ids: set[str] = set()
    for index, rule in enumerate(spec.lifecycle):
        rule_path = (*path, "lifecycle", index)
        if rule.id in seen_ids:
            checker.add((*rule_path, "id"), f"lifecycle rule id '{rule.id}' is used twice", "give each rule its own id")
        seen_ids.add(rule.id)
        does_something = (
            rule.transitions
            or rule.expiration_days
            or rule.noncurrent_transitions
            or rule.noncurrent_expiration_days
            or rule.abort_incomplete_multipart_days
        )
        if not does_something:
            checker.add(
                rule_path,
                f"lifecycle rule '{rule.id}' has no action",
                "add transitions, expiration_days, noncurrent_* or abort_incomplete_multipart_days",
            )
        last = _check_transitions(
            checker, rule_path, "transitions", [(t.days, t.storage_class) for t in rule.transitions]
        )
        if rule.expiration_days is not None and rule.expiration_days <= last:
            checker.add(
                (*rule_path, "expiration_days"),
                "expiration must come after the last transition",
                f"write expiration_days greater than {last}",
            )
        noncurrent = [(t.days, t.storage_class) for t in rule.noncurrent_transitions]
        last_noncurrent = _check_transitions(checker, rule_path, "noncurrent_transitions", noncurrent)
        if rule.noncurrent_expiration_days is not None and rule.noncurrent_expiration_days <= last_noncurrent:
            checker.add(
                (*rule_path, "noncurrent_expiration_days"),
                "noncurrent expiration must come after the last noncurrent transition",
                f"write noncurrent_expiration_days greater than {last_noncurrent}",
            )
        if rule.tags and rule.abort_incomplete_multipart_days is not None:
            checker.add(
                (*rule_path, "abort_incomplete_multipart_days"),
                "S3 does not allow aborting incomplete uploads in a rule filtered by tags",
                "move abort_incomplete_multipart_days to a rule without `tags`",
            )
        if (rule.noncurrent_transitions or rule.noncurrent_expiration_days) and not spec.versioning:
            checker.add(
                rule_path,
                "noncurrent-version rules need versioning",
                "set `versioning: true` on the bucket, or drop the noncurrent_* keys",
            )
        low, high = rule.object_size_greater_than, rule.object_size_less_than
        if low is not None and high is not None and low >= high:
            checker.add(
                (*rule_path, "object_size_less_than"),
                "the size filter selects nothing",
                "object_size_less_than must be greater than object_size_greater_than",
            )
    if spec.object_lock and not spec.versioning:
        checker.add((*path, "object_lock"), "object lock needs versioning", "set `versioning: true`")
    if spec.replication and not spec.versioning:
        checker.add((*path, "replication"), "replication needs versioning", "set `versioning: true`")
    if spec.replication and spec.encryption.type == "sse-kms" and not spec.replication.replica_kms_key_arn:
        checker.add(
            (*path, "replication", "replica_kms_key_arn"),
            "S3 replicates SSE-KMS objects only with a KMS key for the replicas",
            "set `replica_kms_key_arn:` to a key in the destination's region",
        )
    if spec.access_logging:
        target = spec.access_logging.target_bucket
        if target not in bucket_keys and names.check_bucket(target):
            checker.add(
                (*path, "access_logging", "target_bucket"),
                f"'{target}' is neither a bucket key in this config nor a valid bucket name",
                "name a bucket defined under `buckets:`, or an existing bucket's full name",
            )
    for index, cors in enumerate(spec.cors):
        for o_index, origin in enumerate(cors.allowed_origins):
            if origin != "*" and not origin.startswith(("http://", "https://")):
                checker.add(
                    (*path, "cors", index, "allowed_origins", o_index),
                    f"'{origin}' is not an origin",
                    "write a scheme and host, e.g. https://app.example.com",
                )


def _check_transitions(checker: Checker, rule_path: KeyPath, field: str, transitions: Sequence[tuple[int, str]]) -> int:
    """Minimum days per storage class and increasing order; returns the last transition's days (or -1)."""
    last = -1
    for index, (days, storage_class) in enumerate(transitions):
        minimum = _MIN_TRANSITION_DAYS.get(storage_class, 0)
        path = (*rule_path, field, index, "days")
        if days < minimum:
            checker.add(
                path, f"S3 needs at least {minimum} days before {storage_class}", f"write days: {minimum} or more"
            )
        if days <= last:
            checker.add(
                path,
                f"{field} must be in increasing order of days",
                f"sort the {field} by days, each later than the one before",
            )
        last = days
    return last


def check_table(checker: Checker, path: KeyPath, spec: TableSpec) -> None:
    provisioned = spec.billing == "provisioned"
    if provisioned and spec.capacity is None:
        checker.add(
            (*path, "capacity"),
            "provisioned tables need read and write capacity",
            "add `capacity: {read: 5, write: 5}`, or use `billing: on-demand`",
        )
    if not provisioned and (spec.capacity or spec.autoscaling):
        checker.add(
            (*path, "billing"),
            "capacity and autoscaling only apply to provisioned tables",
            "set `billing: provisioned`, or remove `capacity`/`autoscaling`",
        )
    if spec.autoscaling:
        a = spec.autoscaling
        if a.min_read > a.max_read or a.min_write > a.max_write:
            checker.add((*path, "autoscaling"), "autoscaling minimum is above its maximum", "swap the two values")
    key_types: dict[str, tuple[str, KeyPath]] = {}

    def key(attr_path: KeyPath, attr_name: str, attr_type: str) -> None:
        first = key_types.setdefault(attr_name, (attr_type, attr_path))
        if first[0] != attr_type:
            checker.add(
                attr_path,
                f"attribute '{attr_name}' is declared as {attr_type} here and as {first[0]} elsewhere",
                "a key attribute has one type across the table and its indexes",
            )

    key((*path, "hash_key"), spec.hash_key.name, spec.hash_key.type)
    if spec.range_key:
        key((*path, "range_key"), spec.range_key.name, spec.range_key.type)
    index_names: set[str] = set()
    groups: list[tuple[str, Sequence[Index]]] = [
        ("global_indexes", spec.global_indexes),
        ("local_indexes", spec.local_indexes),
    ]
    for group, indexes in groups:
        for i, index in enumerate(indexes):
            i_path = (*path, group, i)
            for reason in names.check_index(index.name):
                checker.add((*i_path, "name"), f"index name '{index.name}' {reason}")
            if index.name in index_names:
                checker.add(
                    (*i_path, "name"), f"index name '{index.name}' is used twice", "give each index its own name"
                )
            index_names.add(index.name)
            if index.projection == "INCLUDE" and not index.non_key_attributes:
                checker.add(
                    (*i_path, "non_key_attributes"),
                    "INCLUDE projection needs non_key_attributes",
                    "list the attributes to project, or use projection: ALL",
                )
            if index.projection != "INCLUDE" and index.non_key_attributes:
                checker.add(
                    (*i_path, "non_key_attributes"),
                    "non_key_attributes only apply to INCLUDE projection",
                    "set `projection: INCLUDE`, or remove non_key_attributes",
                )
    for i, gsi in enumerate(spec.global_indexes):
        key((*path, "global_indexes", i, "hash_key"), gsi.hash_key.name, gsi.hash_key.type)
        if gsi.range_key:
            key((*path, "global_indexes", i, "range_key"), gsi.range_key.name, gsi.range_key.type)
        if provisioned and gsi.capacity is None:
            checker.add(
                (*path, "global_indexes", i),
                "indexes of a provisioned table need capacity",
                "add `capacity: {read: 5, write: 5}` to the index",
            )
        if not provisioned and gsi.capacity is not None:
            checker.add(
                (*path, "global_indexes", i, "capacity"),
                "capacity only applies to provisioned tables",
                "remove it, or set `billing: provisioned` on the table",
            )
    for i, lsi in enumerate(spec.local_indexes):
        key((*path, "local_indexes", i, "range_key"), lsi.range_key.name, lsi.range_key.type)
        if spec.range_key is None:
            checker.add(
                (*path, "local_indexes", i),
                "local indexes need a table with a range key",
                "add `range_key:` to the table, or use a global index",
            )
    if len(spec.global_indexes) > 20:
        checker.add((*path, "global_indexes"), "DynamoDB allows at most 20 global indexes per table")
    if len(spec.local_indexes) > 5:
        checker.add((*path, "local_indexes"), "DynamoDB allows at most 5 local indexes per table")
    encryption = spec.encryption
    if encryption.type == "customer-kms" and not encryption.kms_key_arn:
        checker.add(
            (*path, "encryption", "kms_key_arn"),
            "customer-kms needs a key",
            "add `kms_key_arn:`, or use `type: aws-managed`",
        )
    if encryption.type != "customer-kms" and encryption.kms_key_arn:
        checker.add(
            (*path, "encryption", "kms_key_arn"),
            "a KMS key only applies to customer-kms",
            "set `type: customer-kms`, or remove `kms_key_arn`",
        )


def check_principal(checker: Checker, path: KeyPath, spec: PrincipalSpec, *, declared: dict[str, set[str]]) -> None:
    """`declared` holds every resource key written in the file, valid or not, per kind."""
    vocabulary = grant_vocabulary()
    for reason in names.check_iam_path(spec.path):
        checker.add((*path, "path"), f"IAM path '{spec.path}' {reason}")
    if spec.kind == "role" and not (spec.assume_role_services or spec.assume_role_arns):
        checker.add(
            path,
            "a role needs someone to assume it",
            "add `assume_role_services: [ecs-tasks.amazonaws.com]` (or lambda/ec2), or `assume_role_arns`",
        )
    if spec.kind == "user" and (spec.assume_role_services or spec.assume_role_arns):
        checker.add((*path, "kind"), "assume_role_* only apply to roles", "set `kind: role`, or remove them")
    if spec.assume_role_external_id is not None:
        where = (*path, "assume_role_external_id")
        if spec.kind == "user":
            checker.add(
                where,
                "an external id only applies to a role (it is a condition of the role's trust policy)",
                "set `kind: role` with `assume_role_arns`, or remove `assume_role_external_id`",
            )
        elif not spec.assume_role_arns:
            checker.add(
                where,
                "an external id applies to the principals in `assume_role_arns`, and there are none",
                "add `assume_role_arns: [arn:aws:iam::ACCOUNT:role/NAME]` (who passes the id), "
                "or remove `assume_role_external_id` (services pass no external id)",
            )
    _check_dotenv(checker, (*path, "dotenv"), spec, buckets=declared["buckets"])
    if not spec.grants:
        checker.add(
            path,
            "a principal needs at least one grant (IAM rejects a policy with no statements)",
            "add `grants: [{bucket: NAME, actions: [read]}]`, or remove the principal",
        )
    for index, grant in enumerate(spec.grants):
        g_path = (*path, "grants", index)
        if (grant.bucket is None) == (grant.table is None):
            checker.add(
                g_path, "a grant names exactly one of `bucket` or `table`", "split it into two grants, one per resource"
            )
            continue
        kind = "bucket" if grant.bucket is not None else "table"
        target = str(grant.bucket if kind == "bucket" else grant.table)
        known = sorted(declared[f"{kind}s"])
        if target not in known:
            checker.unknown_ref((*g_path, kind), kind, target, known)
        allowed = list(vocabulary[kind])
        for a_index, action in enumerate(grant.actions):
            if action not in allowed:
                guess = did_you_mean(action, allowed)
                message = f"'{action}' is not a {kind} grant" + (f"; did you mean '{guess}'?" if guess else "")
                checker.add((*g_path, "actions", a_index), message, f"write any of: {', '.join(allowed)}")
        if len(set(grant.actions)) != len(grant.actions):
            checker.add((*g_path, "actions"), "an action is listed twice", "list each action once")
        if grant.prefix is not None:
            if kind == "table":
                checker.add((*g_path, "prefix"), "a prefix only applies to bucket grants", "remove `prefix`")
            elif grant.prefix.startswith("/") or "*" in grant.prefix or grant.prefix.strip("/") == "":
                checker.add(
                    (*g_path, "prefix"),
                    f"'{grant.prefix}' is not a key prefix",
                    "write a prefix such as 'uploads/' (no leading '/', no '*')",
                )


def _check_dotenv(checker: Checker, path: KeyPath, spec: PrincipalSpec, *, buckets: set[str]) -> None:
    """The .env variable names `cargohold credentials` writes: distinct, and a bucket key that exists."""
    names = spec.dotenv
    chosen = [n for n in (names.access_key_id, names.secret_access_key, names.region, names.bucket) if n]
    if len(set(chosen)) != len(chosen):
        checker.add(
            path,
            f"the same variable name is used twice: {', '.join(chosen)}",
            "give access_key_id, secret_access_key, region and bucket different names",
        )
    if names.bucket_key is not None and names.bucket_key not in buckets:
        checker.unknown_ref((*path, "bucket_key"), "bucket", names.bucket_key, sorted(buckets))


def check_grant_keys(checker: Checker, path: KeyPath, spec: PrincipalSpec) -> None:
    """A grant's own KMS key: what it is for must be said, and used by one of the grant's words."""
    vocabulary = grant_vocabulary()
    for index, grant in enumerate(spec.grants):
        g_path = (*path, "grants", index)
        if grant.client_side_encryption and grant.kms_key_arn is None:
            checker.add(
                (*g_path, "client_side_encryption"),
                "client-side encryption needs the key the application encrypts with",
                "add `kms_key_arn: arn:aws:kms:REGION:ACCOUNT:key/ID`, or remove `client_side_encryption`",
            )
        if grant.kms_key_arn is None or (grant.bucket is None) == (grant.table is None):
            continue
        words = vocabulary["bucket" if grant.bucket is not None else "table"]
        field = "kms_client_side" if grant.client_side_encryption else "kms"
        if not any(words[a][field] for a in grant.actions if a in words):
            checker.add(
                (*g_path, "kms_key_arn"),
                f"none of {', '.join(grant.actions)} uses a KMS key",
                "remove `kms_key_arn` (only read and write need the key)",
            )


def check_index_autoscaling(checker: Checker, path: KeyPath, spec: TableSpec) -> None:
    """Autoscaling of a global index: a provisioned table's, with its minimum under its maximum."""
    for i, gsi in enumerate(spec.global_indexes):
        a = gsi.autoscaling
        if a is None:
            continue
        where = (*path, "global_indexes", i, "autoscaling")
        if spec.billing != "provisioned":
            checker.add(
                where,
                "autoscaling only applies to the indexes of provisioned tables (on-demand indexes scale by themselves)",
                "set `billing: provisioned` on the table, or remove the index's `autoscaling`",
            )
        if a.min_read > a.max_read or a.min_write > a.max_write:
            checker.add(where, "autoscaling minimum is above its maximum", "swap the two values")
