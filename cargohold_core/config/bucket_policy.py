"""The bucket policy the s3-bucket module writes, statement by statement, as Python data.

discover compares a live policy with it; tests/stack/test_evaluate.py holds the module to it.
"""

from __future__ import annotations

from typing import Any

from cargohold_core.config.model import Bucket, Environment


def bucket_policy_statements(bucket: Bucket, env: Environment) -> list[dict[str, Any]]:
    """The s3-bucket module's policy statements (terraform/modules/s3-bucket/main.tf), in its order."""
    s, arn = bucket.spec, bucket.arn
    both = [arn, f"{arn}/*"]
    tls: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": both,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": both,
            # A string: Terraform unifies the statement objects of the concat() and renders it so.
            "Condition": {"NumericLessThan": {"s3:TlsVersion": s.min_tls_version}},
        },
    ]
    out = tls if s.tls_only else []
    if s.deny_unencrypted_uploads:
        algorithm = "aws:kms" if s.encryption.type == "sse-kms" else "AES256"
        out.append(
            {
                "Sid": "DenyUnencryptedUploads",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"{arn}/*"],
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": algorithm},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            }
        )
    if s.public_read_prefix is not None:
        out.append(
            {
                "Sid": "PublicReadPrefix",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"{arn}/{s.public_read_prefix}*"],
            }
        )
    sources = log_sources(bucket, env)
    resources = sorted({f"{arn}/{prefix}*" for _, prefix in sources})
    if sources:
        # ACLs are disabled, so S3's log delivery needs this grant (the log-delivery group cannot write).
        out.append(
            {
                "Sid": "AllowServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                # A string for one source: moto only recognises the grant in that form.
                "Resource": resources[0] if len(resources) == 1 else resources,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sorted(source for source, _ in sources)},
                    "StringEquals": {"aws:SourceAccount": env.account},
                },
            }
        )
    return out


def log_sources(target: Bucket, env: Environment) -> list[tuple[str, str]]:
    """(source bucket ARN, prefix) of every bucket in `env` that logs into `target`."""
    return [
        (b.arn, b.spec.access_logging.target_prefix)
        for b in env.buckets.values()
        if b.spec.access_logging and b.spec.access_logging.target_bucket in (target.key, target.name)
    ]
