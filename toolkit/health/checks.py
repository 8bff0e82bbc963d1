"""The health checks: each a live probe of the deployed environment (catalogue entries only).

`permissions` lists what the probe uses: the operator's actions for the account and bucket checks
and for cleanup, and the application principal's for the probes it runs with the principal's keys.
None of these has an AWS Security Hub control or a checkov rule: they test behaviour, not settings.
"""

from __future__ import annotations

from toolkit.findings import define

CATEGORY = "health"

CREDENTIALS = define(
    id="health.credentials",
    title="The operator's AWS credentials work (STS identity)",
    category=CATEGORY,
    service="sts",
    severity="critical",
    permissions=["sts:GetCallerIdentity"],
    remediation="Provide working credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
    "`aws sso login`) for the environment's account.",
    config_fix='environments:\n  ENV:\n    account: "012345678901"  # the account the credentials belong to',
    security_hub=[],
    checkov=[],
)

ACCOUNT = define(
    id="health.account",
    title="The credentials belong to the environment's configured account",
    category=CATEGORY,
    service="sts",
    severity="high",
    permissions=["sts:GetCallerIdentity"],
    remediation="Use credentials for the environment's account, or correct `account:` in config.yaml.",
    config_fix='environments:\n  ENV:\n    account: "012345678901"',
    security_hub=[],
    checkov=[],
)

PRINCIPAL_CREDENTIALS = define(
    id="health.principal-credentials",
    title="The application principal's credentials work and are the principal's",
    category=CATEGORY,
    service="sts",
    severity="high",
    permissions=["sts:GetCallerIdentity", "sts:AssumeRole"],
    remediation="Pass --credentials with the principal's .env file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
    "AWS_SESSION_TOKEN for temporary keys), or for a role let the operator assume it; the keys must belong "
    "to the principal named in config.yaml.",
    config_fix="principals:\n  PRINCIPAL:\n    kind: role  # or user; the principal whose keys the application uses",
    security_hub=[],
    checkov=[],
)

BUCKET_EXISTS = define(
    id="health.bucket-exists",
    title="The bucket exists",
    category=CATEGORY,
    service="s3",
    severity="high",
    permissions=["s3:ListBucket"],
    remediation="Create the bucket with `cargohold plan` and `cargohold apply`, or correct its name.",
    config_fix="buckets:\n  BUCKET:\n    name: the-existing-bucket-name  # only when it was created under another name",
    security_hub=[],
    checkov=[],
)

BUCKET_REGION = define(
    id="health.bucket-region",
    title="The bucket is in the environment's region",
    category=CATEGORY,
    service="s3",
    severity="high",
    permissions=["s3:GetBucketLocation"],
    remediation="Point the environment at the bucket's region, or recreate the bucket in the configured region "
    "and migrate its objects.",
    config_fix="environments:\n  ENV:\n    region: REGION  # the bucket's region",
    security_hub=[],
    checkov=[],
)

PRESIGNED_PUT = define(
    id="health.presigned-put-get-delete",
    title="Presigned PUT, GET and DELETE work over HTTP with the principal's keys",
    category=CATEGORY,
    service="s3",
    severity="high",
    permissions=[
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucketVersions",
        "s3:DeleteObjectVersion",
    ],
    remediation="Grant the principal the bucket actions the application uses (read, write, delete), with the "
    "upload prefix; fix the region, keys or clock as the finding says.",
    config_fix="principals:\n  PRINCIPAL:\n    grants:\n      - bucket: BUCKET\n        actions: [read, write, delete]",
    security_hub=[],
    checkov=[],
)

PRESIGNED_POST = define(
    id="health.presigned-post",
    title="A presigned POST with the configured Content-Type and size limit uploads over HTTP",
    category=CATEGORY,
    service="s3",
    severity="high",
    permissions=["s3:PutObject", "s3:ListBucketVersions", "s3:DeleteObjectVersion"],
    remediation="Grant the principal `write` on the upload prefix and sign POST policies with a client for the "
    "bucket's own region (the regional endpoint).",
    config_fix="buckets:\n  BUCKET:\n    uploads: {method: presigned-post, prefix: uploads/, content_types: "
    "[application/pdf], max_size_mb: 25}",
    security_hub=[],
    checkov=[],
)

PRESIGNED_POST_POLICY = define(
    id="health.presigned-post-policy",
    title="A presigned POST that breaks its policy's Content-Type condition is refused",
    category=CATEGORY,
    service="s3",
    severity="medium",
    permissions=["s3:PutObject", "s3:ListBucketVersions", "s3:DeleteObjectVersion"],
    remediation="Put the Content-Type condition in every POST policy the application signs; an endpoint that "
    "accepts a POST breaking its policy does not enforce POST policies.",
    config_fix="buckets:\n  BUCKET:\n    uploads:\n      content_types: [application/pdf, image/png]",
    security_hub=[],
    checkov=[],
)

CORS_ALLOWED = define(
    id="health.cors-allowed-origin",
    title="A browser preflight from each configured origin is allowed",
    category=CATEGORY,
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketCors"],
    remediation="Apply the configured CORS rules to the bucket (`cargohold plan` / `apply`), with the origin, "
    "method and headers the browser sends.",
    config_fix='buckets:\n  BUCKET:\n    cors:\n      - allowed_origins: ["https://app.example.com"]\n'
    '        allowed_methods: [GET, PUT]\n        allowed_headers: ["*"]',
    security_hub=[],
    checkov=[],
)

CORS_REFUSED = define(
    id="health.cors-refused-origin",
    title="A browser preflight from an origin the config does not list is refused",
    category=CATEGORY,
    service="s3",
    severity="medium",
    permissions=["s3:GetBucketCors"],
    remediation="Remove wildcard or extra origins from the bucket's CORS rules so only the configured origins "
    "are allowed (`cargohold plan` / `apply`).",
    config_fix='buckets:\n  BUCKET:\n    cors:\n      - allowed_origins: ["https://app.example.com"]  # no "*"',
    security_hub=[],
    checkov=[],
)

TABLE_PROBE = define(
    id="health.table-put-get-delete",
    title="The principal can put, get and delete a probe item",
    category=CATEGORY,
    service="dynamodb",
    severity="high",
    permissions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
    remediation="Grant the principal read and write on the table; fix the region, keys or table name as the "
    "finding says.",
    config_fix="principals:\n  PRINCIPAL:\n    grants:\n      - table: TABLE\n        actions: [read, write]",
    security_hub=[],
    checkov=[],
)

LEAST_PRIVILEGE = define(
    id="health.least-privilege-denied",
    title="The principal is denied what config.yaml does not grant it",
    category=CATEGORY,
    service="iam",
    severity="high",
    permissions=["s3:ListAllMyBuckets", "s3:ListBucket", "dynamodb:DescribeTable"],
    remediation="Remove the extra permissions (attached managed policies, inline policies, group memberships) "
    "so the principal has exactly the grants config.yaml lists; `cargohold apply` restores the managed policy.",
    config_fix="principals:\n  PRINCIPAL:\n    grants:  # exactly what the application needs, nothing else\n"
    "      - bucket: BUCKET\n        actions: [read, write]",
    security_hub=[],
    checkov=[],
)

ALL = (
    CREDENTIALS,
    ACCOUNT,
    PRINCIPAL_CREDENTIALS,
    BUCKET_EXISTS,
    BUCKET_REGION,
    PRESIGNED_PUT,
    PRESIGNED_POST,
    PRESIGNED_POST_POLICY,
    CORS_ALLOWED,
    CORS_REFUSED,
    TABLE_PROBE,
    LEAST_PRIVILEGE,
)
