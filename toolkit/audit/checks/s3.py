"""S3 security checks: one pure rule per check over `BucketInfo` and the bucket's config.

A bucket the config does not declare is judged against cargohold's defaults (`BucketSpec()`), which
are the hardened baseline; features the config must ask for (access logging, replication, KMS) are
only checked where it asks.
"""

from __future__ import annotations

import re
from typing import Any

from cargohold_core.config.schema import BucketSpec
from toolkit.audit import policy
from toolkit.audit.inventory import BucketInfo, Inventory
from toolkit.audit.live import lifecycle_scope
from toolkit.audit.rules import RuleSet, Verdict, bad, ok
from toolkit.findings import define

BUCKET: RuleSet[BucketInfo, BucketSpec] = RuleSet()
ACCOUNT: RuleSet[Inventory, None] = RuleSet()
BASELINE = BucketSpec()

_S3_READ = ("s3:ListAllMyBuckets",)
_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_WRITE_METHODS = {"PUT", "POST", "DELETE"}


def _spec(want: BucketSpec | None) -> BucketSpec:
    return want or BASELINE


# --- account ----------------------------------------------------------------------------------

ACCOUNT_PAB = define(
    id="s3.account-public-access-block",
    title="Account-level S3 Block Public Access is fully on",
    category="security",
    service="s3",
    severity="high",
    permissions=["s3:GetAccountPublicAccessBlock", "sts:GetCallerIdentity"],
    remediation="Turn on all four Block Public Access settings for the account (S3 console > Block Public Access "
    "settings for this account, or `aws s3control put-public-access-block`). Buckets that serve public files "
    "should use CloudFront with origin access control instead.",
    config_fix="# account-wide; not in config.yaml. Public files: use `public_read_prefix` only with a documented "
    "reason, and keep the account block on by serving them through CloudFront.",
    security_hub=["S3.1"],
    checkov=[],
)


@ACCOUNT(ACCOUNT_PAB)
def account_public_access_block(inv: Inventory, _: None) -> Verdict:
    block = inv.account_public_access_block.get() or {}
    off = [flag for flag in _PAB_FLAGS if not block.get(flag)]
    if off:
        return bad(f"account Block Public Access is off for {', '.join(off)}", expected=True, actual=block or None)
    return ok("all four account-level Block Public Access settings are on")


# --- buckets ----------------------------------------------------------------------------------

BUCKET_PAB = define(
    id="s3.bucket-public-access-block",
    title="Bucket Block Public Access matches config (all on unless a public prefix is configured)",
    category="security",
    service="s3",
    severity="high",
    permissions=["s3:GetBucketPublicAccessBlock"],
    remediation="Turn on the bucket's Block Public Access settings; `cargohold apply` sets them from config.yaml.",
    config_fix="# remove `public_read_prefix` from the bucket unless it must serve public files\n"
    "buckets:\n  BUCKET:\n    public_read_prefix: null",
    security_hub=["S3.8"],
    checkov=["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
)


@BUCKET(BUCKET_PAB)
def bucket_public_access_block(b: BucketInfo, want: BucketSpec | None) -> Verdict:
    block = b.public_access_block.get() or {}
    public_prefix = _spec(want).public_read_prefix is not None
    # A configured public prefix needs the policy-related settings off; the ACL ones stay on.
    required = ("BlockPublicAcls", "IgnorePublicAcls") if public_prefix else _PAB_FLAGS
    off = [flag for flag in required if not block.get(flag)]
    if off:
        return bad(
            f"Block Public Access is off for {', '.join(off)}", expected=dict.fromkeys(required, True), actual=block
        )
    return ok("Block Public Access is on" + (" (policy settings off for the configured public prefix)" * public_prefix))


PUBLIC = define(
    id="s3.public-exposure",
    title="Bucket is not publicly readable or writable (policy and ACLs, after Block Public Access)",
    category="security",
    service="s3",
    severity="critical",
    permissions=[
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketAcl",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
    ],
    remediation="Remove the bucket policy statements and ACL grants that allow everyone ('*', AllUsers, "
    "AuthenticatedUsers), then turn Block Public Access on. `cargohold apply` replaces the policy with the "
    "configured one.",
    config_fix="# only objects under a prefix may be public, and only when configured:\n"
    "buckets:\n  BUCKET:\n    public_read_prefix: public/   # or remove it",
    security_hub=["S3.2", "S3.3"],
    checkov=["CKV_AWS_20", "CKV_AWS_57"],
)


@BUCKET(PUBLIC)
def public_exposure(b: BucketInfo, want: BucketSpec | None) -> Verdict:
    # Effective exposure: what Block Public Access (bucket or account) leaves of the policy and ACLs.
    block = b.public_access_block.get() or {}
    covered = block.get("RestrictPublicBuckets") and block.get("IgnorePublicAcls")
    account = {} if covered else (b.account_block.get() or {})  # read only when the bucket alone is not enough
    restricted = block.get("RestrictPublicBuckets") or account.get("RestrictPublicBuckets")
    ignore_acls = block.get("IgnorePublicAcls") or account.get("IgnorePublicAcls")
    exposures: list[str] = []
    statements = policy.public_allows(b.policy.get())
    verdict = b.policy_is_public.get() if b.policy_is_public.ok else None  # AWS's own, where it gave one
    policy_public = bool(statements) if verdict is None else verdict
    allowed_prefix = _spec(want).public_read_prefix
    if policy_public and not restricted:
        unexpected = [s for s in statements if not _within_prefix(s, b.name, allowed_prefix)]
        if unexpected or not statements:
            actions = sorted({str(a) for s in unexpected for a in policy.as_list(s.get("Action"))})
            exposures.append(f"the bucket policy allows everyone {', '.join(actions) or 'access'}")
    if b.ownership.get() != "BucketOwnerEnforced" and not ignore_acls:
        for grant in b.acl_grants.get():
            uri = grant.get("Grantee", {}).get("URI")
            if uri in _PUBLIC_GROUPS:
                exposures.append(f"an ACL grants {grant.get('Permission')} to {uri.rsplit('/', 1)[-1]}")
    if exposures:
        return bad("publicly exposed: " + "; ".join(exposures), details={"exposures": exposures})
    if allowed_prefix is not None and policy_public:
        return ok(f"public only under the configured prefix {allowed_prefix!r}")
    return ok("not publicly accessible")


def _within_prefix(statement: dict[str, Any], bucket: str, prefix: str | None) -> bool:
    if prefix is None:
        return False
    resources = [str(r) for r in policy.as_list(statement.get("Resource"))]
    actions = {str(a).lower() for a in policy.as_list(statement.get("Action"))}
    return actions <= {"s3:getobject"} and all(r.startswith(f"arn:aws:s3:::{bucket}/{prefix}") for r in resources)


TLS = define(
    id="s3.tls-only",
    title="Bucket policy denies requests without TLS (and below the configured TLS version)",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketPolicy"],
    remediation="Add a Deny statement for Principal '*' and Action 's3:*' when aws:SecureTransport is false "
    "(and when s3:TlsVersion is below the minimum). `cargohold apply` writes both.",
    config_fix='buckets:\n  BUCKET:\n    min_tls_version: "1.2"   # the stack always adds the TLS-only statement',
    security_hub=["S3.5"],
    checkov=[],
)


@BUCKET(TLS)
def tls_only(b: BucketInfo, want: BucketSpec | None) -> Verdict:
    document = b.policy.get()
    if not policy.denies_insecure_transport(document):
        off = (
            " (tls_only is off for this bucket on an emulator, which cannot evaluate the policy's conditions: "
            "waive this check for it there)"
            if want is not None and not want.tls_only
            else ""
        )
        return bad("no bucket policy statement denies plain-HTTP requests (aws:SecureTransport = false)" + off)
    minimum = float(_spec(want).min_tls_version)
    found = policy.minimum_tls(document)
    if want is not None and (found is None or found < minimum):
        return bad(f"requests with TLS below {minimum} are not denied", expected=minimum, actual=found)
    return ok("plain-HTTP requests are denied")


ENCRYPTION = define(
    id="s3.default-encryption",
    title="Default encryption is on (with the configured KMS key and bucket key)",
    category="security",
    service="s3",
    severity="high",
    permissions=["s3:GetEncryptionConfiguration"],
    remediation="Set default encryption on the bucket: SSE-S3, or SSE-KMS with the configured key and an S3 "
    "bucket key (fewer KMS requests, lower cost).",
    config_fix="buckets:\n  BUCKET:\n    encryption: {type: sse-kms, kms_key_arn: arn:aws:kms:REGION:ACCOUNT:key/ID, "
    "bucket_key: true}",
    security_hub=["S3.4", "S3.17"],
    checkov=["CKV_AWS_19", "CKV_AWS_145"],
)


@BUCKET(ENCRYPTION)
def default_encryption(b: BucketInfo, want: BucketSpec | None) -> Verdict:
    actual = b.encryption.get()
    if actual is None or not actual.get("algorithm"):
        return bad("no default encryption configuration")
    wanted = _spec(want).encryption
    if wanted.type == "sse-kms":
        problems = []
        if actual["algorithm"] not in ("aws:kms", "aws:kms:dsse"):
            problems.append(f"algorithm is {actual['algorithm']}, config asks for aws:kms")
        if wanted.kms_key_arn and actual.get("kms_key_arn") not in (
            wanted.kms_key_arn,
            wanted.kms_key_arn.split("/")[-1],
        ):
            problems.append(f"KMS key is {actual.get('kms_key_arn')}, config asks for {wanted.kms_key_arn}")
        if wanted.bucket_key and not actual.get("bucket_key"):
            problems.append("the S3 bucket key is off")
        if problems:
            return bad("; ".join(problems), expected=wanted.model_dump(), actual=actual)
    return ok(f"default encryption {actual['algorithm']}")


VERSIONING = define(
    id="s3.versioning",
    title="Versioning is enabled",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketVersioning"],
    remediation="Enable versioning so overwritten or deleted objects can be recovered; pair it with a "
    "noncurrent-version expiration rule to bound its cost.",
    config_fix="buckets:\n  BUCKET:\n    versioning: true",
    security_hub=["S3.14"],
    checkov=["CKV_AWS_21"],
)


@BUCKET(VERSIONING)
def versioning(b: BucketInfo, want: BucketSpec | None) -> Verdict:
    status = b.versioning.get()
    if status != "Enabled":
        hint = (
            " (config.yaml turns it off: waive this check for the bucket if that is intended)"
            if (want is not None and not want.versioning)
            else ""
        )
        return bad(f"versioning is {status or 'not enabled'}{hint}", expected="Enabled", actual=status)
    return ok("versioning is enabled")


ACLS = define(
    id="s3.acls-disabled",
    title="ACLs are disabled (Object Ownership: BucketOwnerEnforced)",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketOwnershipControls"],
    remediation="Set Object Ownership to 'Bucket owner enforced' so ACLs no longer grant access; grant access "
    "with policies only.",
    config_fix="# cargohold always sets BucketOwnerEnforced; `cargohold apply` fixes a managed bucket",
    security_hub=["S3.12"],
    checkov=["CKV2_AWS_65"],
)


@BUCKET(ACLS)
def acls_disabled(b: BucketInfo, _: BucketSpec | None) -> Verdict:
    ownership = b.ownership.get()
    if ownership != "BucketOwnerEnforced":
        return bad(
            f"ACLs are in use (Object Ownership is {ownership or 'not set'})",
            expected="BucketOwnerEnforced",
            actual=ownership,
        )
    return ok("ACLs are disabled")


LIFECYCLE = define(
    id="s3.lifecycle-present",
    title="A lifecycle configuration exists",
    category="security",
    service="s3",
    severity="low",
    permissions=["s3:GetLifecycleConfiguration"],
    remediation="Add lifecycle rules: at least one to abort incomplete multipart uploads, and transitions or "
    "expirations that match how long the data is needed.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: tidy\n        abort_incomplete_multipart_days: 7",
    security_hub=["S3.13"],
    checkov=["CKV2_AWS_61"],
)


def _enabled_rules(b: BucketInfo) -> list[dict[str, Any]]:
    return [r for r in b.lifecycle.get() if r.get("Status") == "Enabled"]


def _whole_bucket_rules(b: BucketInfo) -> list[dict[str, Any]]:
    """Enabled rules without a filter: only these bound what piles up anywhere in the bucket."""
    return [r for r in _enabled_rules(b) if lifecycle_scope(r) == (None, {}, None, None)]


def _scoped(rules: list[dict[str, Any]], action: str) -> str:
    """'; the rules with it apply only to tmp/, ...' for the filtered rules that have `action` ('' if none)."""
    scopes = sorted({lifecycle_scope(r)[0] or "a tag or size filter" for r in rules if action in r})
    return f"; the rules with it apply only to {', '.join(scopes)}" if scopes else ""


@BUCKET(LIFECYCLE)
def lifecycle_present(b: BucketInfo, _: BucketSpec | None) -> Verdict:
    if not _enabled_rules(b):
        return bad("no enabled lifecycle rule")
    return ok(f"{len(_enabled_rules(b))} enabled lifecycle rule(s)")


NONCURRENT = define(
    id="s3.noncurrent-version-expiration",
    title="A versioned bucket expires noncurrent versions",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketVersioning", "s3:GetLifecycleConfiguration"],
    remediation="Add a lifecycle rule with NoncurrentVersionExpiration: without it every overwrite and delete "
    "keeps a billed copy forever.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: tidy-versions\n        noncurrent_expiration_days: 90",
    security_hub=["S3.10"],
    checkov=[],
)


@BUCKET(NONCURRENT)
def noncurrent_version_expiration(b: BucketInfo, _: BucketSpec | None) -> Verdict | None:
    if b.versioning.get() not in ("Enabled", "Suspended"):
        return None  # no noncurrent versions can pile up
    if not any("NoncurrentVersionExpiration" in r for r in _whole_bucket_rules(b)):
        where = _scoped(_enabled_rules(b), "NoncurrentVersionExpiration")
        return bad(f"versioned, but no lifecycle rule expires noncurrent versions in the whole bucket{where}")
    return ok("noncurrent versions expire")


MULTIPART = define(
    id="s3.abort-incomplete-multipart",
    title="A lifecycle rule aborts incomplete multipart uploads",
    category="security",
    service="s3",
    severity="low",
    permissions=["s3:GetLifecycleConfiguration"],
    remediation="Add AbortIncompleteMultipartUpload to a lifecycle rule that covers the whole bucket: parts of "
    "uploads that never finish are billed and invisible in listings.",
    config_fix="buckets:\n  BUCKET:\n    lifecycle:\n      - id: tidy-uploads\n"
    "        abort_incomplete_multipart_days: 7",
    security_hub=[],
    checkov=["CKV_AWS_300"],
)


@BUCKET(MULTIPART)
def abort_incomplete_multipart(b: BucketInfo, _: BucketSpec | None) -> Verdict:
    if not any("AbortIncompleteMultipartUpload" in r for r in _whole_bucket_rules(b)):
        where = _scoped(_enabled_rules(b), "AbortIncompleteMultipartUpload")
        return bad(f"no lifecycle rule aborts incomplete multipart uploads in the whole bucket{where}")
    return ok("incomplete multipart uploads are aborted")


LOGGING = define(
    id="s3.access-logging",
    title="Server access logging is on where config.yaml asks for it",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketLogging"],
    remediation="Turn on server access logging to the configured target bucket; `cargohold apply` sets it.",
    config_fix="buckets:\n  BUCKET:\n    access_logging: {target_bucket: access-logs, target_prefix: BUCKET/}",
    security_hub=["S3.9"],
    checkov=["CKV_AWS_18"],
)


@BUCKET(LOGGING)
def access_logging(b: BucketInfo, want: BucketSpec | None) -> Verdict | None:
    if want is None or want.access_logging is None:
        return None  # not asked for: no baseline noise
    if not b.logging.get():
        return bad("config asks for server access logging; it is off", expected=want.access_logging.model_dump())
    return ok(f"logging to {b.logging.get()}")


REPLICATION = define(
    id="s3.replication",
    title="Replication is configured where config.yaml asks for it",
    category="security",
    service="s3",
    severity="medium",
    permissions=["s3:GetReplicationConfiguration"],
    remediation="Configure replication to the configured destination; `cargohold apply` sets it.",
    config_fix="buckets:\n  BUCKET:\n    replication: {destination_bucket_arn: arn:aws:s3:::OTHER-BUCKET}",
    security_hub=["S3.7"],
    checkov=["CKV_AWS_144"],
)


@BUCKET(REPLICATION)
def replication(b: BucketInfo, want: BucketSpec | None) -> Verdict | None:
    if want is None or want.replication is None:
        return None
    config = b.replication.get()
    rules = [r for r in (config or {}).get("Rules", []) if r.get("Status") == "Enabled"]
    destinations = {r.get("Destination", {}).get("Bucket") for r in rules}
    if want.replication.destination_bucket_arn not in destinations:
        return bad(
            "config asks for replication; no enabled rule replicates to the configured destination",
            expected=want.replication.destination_bucket_arn,
            actual=sorted(d for d in destinations if d),
        )
    return ok(f"replicates to {want.replication.destination_bucket_arn}")


CORS = define(
    id="s3.cors-wildcard-write",
    title="CORS does not let any origin ('*') write or delete",
    category="security",
    service="s3",
    severity="high",
    permissions=["s3:GetBucketCORS"],
    remediation="List the application's origins in AllowedOrigins instead of '*' for rules that allow PUT, POST "
    "or DELETE: with '*', any web page a user visits can use their presigned URLs or cookies.",
    config_fix='buckets:\n  BUCKET:\n    cors:\n      - allowed_origins: ["https://app.example.com"]\n'
    "        allowed_methods: [GET, PUT]",
    security_hub=[],
    checkov=[],
)


_ANY_ORIGIN = re.compile(r"(\*|[a-z][a-z0-9+.-]*://\*)(:(\d+|\*))?/?", re.IGNORECASE)


def _any_origin(origin: str) -> bool:
    """'*', or a scheme with any host ('https://*'): every site. 'https://*.example.com' is one domain's."""
    return _ANY_ORIGIN.fullmatch(origin.strip()) is not None


@BUCKET(CORS)
def cors_wildcard_write(b: BucketInfo, _: BucketSpec | None) -> Verdict | None:
    rules = b.cors.get()
    if not rules:
        return None
    risky = [
        r
        for r in rules
        if any(_any_origin(o) for o in r.get("AllowedOrigins", []))
        and _WRITE_METHODS & {m.upper() for m in r.get("AllowedMethods", [])}
    ]
    if risky:
        methods = sorted({m for r in risky for m in r.get("AllowedMethods", []) if m.upper() in _WRITE_METHODS})
        return bad(f"CORS allows any origin ('*') to {', '.join(methods)}", actual=risky)
    return ok("no CORS rule lets any origin write")
