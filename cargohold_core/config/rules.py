"""Rules that span fields or resources: names, references, lifecycle sanity, key consistency.

Each rule reports a located problem and keeps going, so one run lists every mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from cargohold_core.config import names
from cargohold_core.config.diagnostics import did_you_mean, near_miss
from cargohold_core.config.model import Bucket
from cargohold_core.config.schema import BucketSpec, EnvironmentSpec, Index, PrincipalSpec, TableSpec, partition_of
from cargohold_core.config.yamlsource import Document, KeyPath
from cargohold_core.errors import Problem
from cargohold_core.paths import grant_vocabulary

_MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


class Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self._muted_trees: tuple[KeyPath, ...] = ()
        self._muted_exact: frozenset[KeyPath] = frozenset()

    def add(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        if path in self._muted_exact or any(path[: len(tree)] == tree for tree in self._muted_trees):
            return
        self.problems.append(self.doc.problem(path, message, hint))

    @contextmanager
    def muted(self, *, trees: Iterable[KeyPath] = (), exact: Iterable[KeyPath] = ()) -> Iterator[None]:
        """Drop what rules report at or below `trees`, and at `exact`: the parts of a resource whose own
        value did not parse (already reported by the schema), where a rule would only see a default."""
        saved = self._muted_trees, self._muted_exact
        self._muted_trees = (*saved[0], *trees)
        self._muted_exact = saved[1] | frozenset(exact)
        try:
            yield
        finally:
            self._muted_trees, self._muted_exact = saved

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


# ---------------------------------------------------------------- what AWS would refuse at apply
#
# Each rule below reports, at validate time, a setting that plan or apply would fail on (or that AWS
# would accept and then never honour), so the user hears of it before a real account does.


def resource_region(env: EnvironmentSpec, spec: object) -> str:
    """The region a bucket or table lives in: its own `region:` where the schema has one, else the
    environment's."""
    own = getattr(spec, "region", None)
    return own if isinstance(own, str) and own else env.region


def check_kms_key(checker: Checker, path: KeyPath, *, arn: str | None, region: str, account: str, what: str) -> None:
    """A KMS key for a bucket's or table's encryption must be in its region and partition; an alias resolves
    in the caller's account, and cargohold grants no other account's key to S3 or DynamoDB."""
    if not arn or arn.count(":") < 5:
        return  # absent, or not an ARN (the schema reported it)
    _, partition, _, key_region, key_account = arn.split(":", 5)[:5]
    if key_region != region:
        checker.add(
            path,
            f"the KMS key is in region {key_region}, but {what} is in {region}; AWS only uses a key in the same region",
            f"name a key in {region} (arn:{partition_of(region)}:kms:{region}:{account}:key/ID)",
        )
    elif partition != partition_of(region):
        checker.add(
            path,
            f"the KMS key is in partition {partition}, but region {region} is in {partition_of(region)}",
            f"write the ARN as arn:{partition_of(region)}:kms:...",
        )
    if key_account != account:
        checker.add(
            path,
            f"the KMS key is in account {key_account}, but {what} is in account {account}",
            f"name a key in account {account}; a key of another account needs a key policy cargohold does not manage",
        )


def check_encryption_keys(
    checker: Checker, path: KeyPath, spec: BucketSpec | TableSpec, *, env: EnvironmentSpec
) -> None:
    encryption = spec.encryption
    if encryption.type not in ("sse-kms", "customer-kms"):
        return  # a key on another type is reported by check_bucket / check_table
    kind = "the bucket" if isinstance(spec, BucketSpec) else "the table"
    check_kms_key(
        checker,
        (*path, "encryption", "kms_key_arn"),
        arn=encryption.kms_key_arn,
        region=resource_region(env, spec),
        account=env.account,
        what=kind,
    )


def check_access_log_target(
    checker: Checker,
    path: KeyPath,
    spec: BucketSpec,
    *,
    env: EnvironmentSpec,
    buckets: Mapping[str, BucketSpec],
    bucket_names: Mapping[str, str],
) -> None:
    """S3 delivers server access logs only to an SSE-S3 bucket in the same account and region, without object
    lock's default retention. A target that is a bucket of this config (by key or by its AWS name) is checked
    against its settings; an outside bucket only for what is known offline: a near miss of a key is a typo."""
    if spec.access_logging is None:
        return
    target = spec.access_logging.target_bucket
    where = (*path, "access_logging", "target_bucket")
    by_name = {name: key for key, name in bucket_names.items()}
    key = target if target in buckets else by_name.get(target)
    if key is None:
        if names.check_bucket(target):
            return  # not a valid name either: check_bucket reports it
        guess = near_miss(target, buckets)
        named = None if guess else near_miss(target, by_name)
        if guess or named:
            meant = f"'{guess}'" if guess else f"'{named}' (bucket '{by_name[str(named)]}')"
            checker.add(
                where,
                f"'{target}' is not a bucket of this config; did you mean {meant}?"
                " (as written it is taken as the name of a bucket outside this config)",
                f"write `target_bucket: {guess or by_name[str(named)]}` to log into that bucket of this config",
            )
        return
    target_spec = buckets[key]
    label = f"'{key}'" if key == target else f"'{target}' (bucket '{key}')"
    if target_spec.encryption.type == "sse-kms":
        checker.add(
            where,
            f"the log target {label} is encrypted with sse-kms; S3 delivers access logs only to an SSE-S3 bucket",
            f"set `encryption: {{type: sse-s3}}` on bucket '{key}', or log to another bucket",
        )
    if target_spec.object_lock is not None:
        checker.add(
            where,
            f"the log target {label} has object lock with a default retention; S3 delivers no access logs to it",
            f"log to a bucket without `object_lock`, or remove it from bucket '{key}'",
        )
    source_region, target_region = resource_region(env, spec), resource_region(env, target_spec)
    if source_region != target_region:
        checker.add(
            where,
            f"the log target {label} is in {target_region}, this bucket in {source_region};"
            " S3 delivers access logs only within one region",
            f"log to a bucket in {source_region}",
        )


def check_replication_target(
    checker: Checker,
    path: KeyPath,
    spec: BucketSpec,
    *,
    own_name: str,
    buckets: Mapping[str, BucketSpec],
    bucket_names: Mapping[str, str],
) -> None:
    """A bucket cannot replicate into itself, and S3 replicates only into a versioned bucket (a destination
    given by ARN; one given by its key here is `check_replication`'s)."""
    if spec.replication is None or spec.replication.destination_bucket_arn is None:
        return
    where = (*path, "replication", "destination_bucket_arn")
    destination = spec.replication.destination_bucket_arn.rsplit(":", 1)[-1]
    if destination == own_name:
        checker.add(
            where,
            f"the bucket replicates into itself ('{own_name}'); S3 refuses a rule whose destination is its source",
            "name another bucket's ARN, e.g. a bucket in a second region",
        )
        return
    by_name = {name: key for key, name in bucket_names.items()}
    key = by_name.get(destination)
    if key is not None and not (buckets[key].versioning or buckets[key].object_lock):
        checker.add(
            where,
            f"the destination is bucket '{key}', which has versioning off; S3 replicates only into a versioned bucket",
            f"set `versioning: true` on bucket '{key}'",
        )


def check_intelligent_tiering(checker: Checker, path: KeyPath, spec: BucketSpec) -> None:
    tiering = spec.intelligent_tiering
    if tiering is None:
        return
    where = (*path, "intelligent_tiering")
    archive, deep = tiering.archive_access_days, tiering.deep_archive_access_days
    if archive is None and deep is None:
        checker.add(
            where,
            "an Intelligent-Tiering configuration needs at least one archive tier",
            "set `archive_access_days:` (90 or more) and/or `deep_archive_access_days:` (180 or more)",
        )
    if archive is not None and deep is not None and deep <= archive:
        checker.add(
            (*where, "deep_archive_access_days"),
            f"objects move to Deep Archive Access after {deep} days, not after Archive Access ({archive} days)",
            f"write deep_archive_access_days greater than {archive}",
        )


def check_cors_origins(checker: Checker, path: KeyPath, spec: BucketSpec) -> None:
    """A browser's Origin header is scheme://host[:port], never with a path, so an origin written with one
    (even just a trailing '/') matches no request."""
    for index, cors in enumerate(spec.cors):
        for o_index, origin in enumerate(cors.allowed_origins):
            scheme, sep, rest = origin.partition("://")
            if not sep or scheme not in ("http", "https"):
                continue  # not an origin at all: check_bucket says so
            host, slash, _ = rest.partition("/")
            if slash:
                checker.add(
                    (*path, "cors", index, "allowed_origins", o_index),
                    f"'{origin}' has a path; a browser sends its origin without one, so this matches no request",
                    f"write '{scheme}://{host}'",
                )


def _known_services() -> frozenset[str]:
    path = Path(__file__).with_name("service_principals.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


KNOWN_SERVICES = _known_services()
# SERVICE[.REGION].amazonaws.com[.cn]: a few services (logs, states) also take a regional principal
_SERVICE = re.compile(
    r"^(?P<service>[a-z0-9.-]+?)(?P<region>\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)?\.amazonaws\.com(\.cn)?$"
)


def check_service_principals(checker: Checker, path: KeyPath, spec: PrincipalSpec) -> None:
    """A service name one or two letters off a known one (`lamda.amazonaws.com`) is a typo IAM refuses
    ("Invalid principal in policy"); a name far from every known one is accepted, since AWS adds services."""
    for index, principal in enumerate(spec.assume_role_services):
        match = _SERVICE.match(principal)
        if match is None:
            continue  # the schema's pattern reported it
        service = match["service"]
        if service in KNOWN_SERVICES:
            continue
        guess = near_miss(service, KNOWN_SERVICES)
        if guess:
            fixed = principal.replace(service, guess, 1)
            checker.add(
                (*path, "assume_role_services", index),
                f"'{principal}' is not an AWS service principal; did you mean '{fixed}'?",
                f"write `{fixed}`",
            )


def check_regions(
    checker: Checker, spec: EnvironmentSpec, *, buckets: Mapping[str, BucketSpec], tables: Mapping[str, TableSpec]
) -> None:
    """A resource's own `region:` stays in the environment's partition (one account, one set of credentials)."""
    home = partition_of(spec.region)
    sections: list[tuple[str, Mapping[str, BucketSpec] | Mapping[str, TableSpec]]] = [
        ("buckets", buckets),
        ("tables", tables),
    ]
    for section, resources in sections:
        for key, resource in resources.items():
            if resource.region is not None and partition_of(resource.region) != home:
                checker.add(
                    (section, key, "region"),
                    f"{resource.region} is in partition {partition_of(resource.region)}, but the environment's "
                    f"region {spec.region} is in {home}",
                    "put the resource in a region of the same partition, or in an environment of its own",
                )


def check_replication(checker: Checker, *, buckets: Mapping[str, Bucket], declared: set[str]) -> None:
    """Replication between the buckets of one environment: a destination that exists, is versioned, holds
    object-locked replicas (when the source locks its objects) and is in the replica key's region."""
    for key, bucket in buckets.items():
        rule = bucket.spec.replication
        if rule is None:
            continue
        path: KeyPath = ("buckets", key, "replication")
        if (rule.destination_bucket is None) == (rule.destination_bucket_arn is None):
            checker.add(
                path,
                "replication names its destination once: `destination_bucket` or `destination_bucket_arn`"
                if rule.destination_bucket is not None
                else "replication needs a destination",
                "write `destination_bucket: KEY` for a bucket of this config, or `destination_bucket_arn:` for another",
            )
            continue
        target_key = rule.destination_bucket
        if target_key is None:
            continue
        where = (*path, "destination_bucket")
        if target_key not in declared:
            checker.unknown_ref(where, "bucket", target_key, sorted(declared - {key}))
            continue
        if target_key == key:
            checker.add(where, "a bucket cannot replicate to itself", "name another bucket, e.g. one in a DR region")
            continue
        target = buckets.get(target_key)
        if target is None:
            continue  # invalid, reported at its own lines
        if not (target.spec.versioning or target.spec.object_lock):
            checker.add(
                where,
                f"the destination '{target_key}' is not versioned; S3 replicates only into a versioned bucket",
                f"set `versioning: true` on bucket '{target_key}'",
            )
        if bucket.spec.object_lock is not None and target.spec.object_lock is None:
            checker.add(
                where,
                f"this bucket locks its objects, but the destination '{target_key}' has no object lock; "
                "S3 replicates object-locked objects only into a bucket with object lock",
                f"add `object_lock:` to bucket '{target_key}'",
            )
        kms = rule.replica_kms_key_arn
        if kms is not None and kms.split(":")[3] != target.region:
            checker.add(
                (*path, "replica_kms_key_arn"),
                f"the replica key is in {kms.split(':')[3]}, but the destination '{target_key}' is in {target.region}",
                f"name a KMS key in {target.region}: S3 encrypts each replica with a key of its own region",
            )


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
