"""Turn a failed AWS call into a diagnosis a person can act on: what went wrong and the fix.

Pure functions over what came back (an error code, an HTTP status, a response body and headers)
and what was being tried (the action, the resource, the principal). No AWS calls, no printing.
Every diagnosis names the fix; where the fix is a config.yaml change, it says which key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

# Region-less buckets (LocationConstraint None/""/"EU") and what they mean.
_LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}

_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "Forbidden", "403", "AllAccessDisabled"}
_UNKNOWN_KEY_CODES = {"InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"}
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired"}
_REDIRECT_CODES = {"PermanentRedirect", "TemporaryRedirect", "301", "307", "AuthorizationHeaderMalformed"}
_EXPIRED_TEXT = re.compile(r"request has expired|exceeds the maximum allowed|expired", re.IGNORECASE)
_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s*([a-z0-9-]+:[A-Za-z0-9*]+)(?: on resource:?\s*(\S+))?")
_EXPECTING_REGION = re.compile(r"expecting '([a-z0-9-]+)'")


@dataclass(frozen=True)
class Diagnosis:
    """One failure explained: `code` is stable (tests and JSON use it), `summary` and `fix` are prose."""

    code: str  # access-denied | no-such-bucket | invalid-access-key | signature-mismatch | expired | ...
    summary: str
    fix: str
    config_fix: str | None = None  # a config.yaml snippet, when the fix is a config change

    def message(self) -> str:
        return f"{self.summary}. Fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"diagnosis": self.code, "summary": self.summary, "fix": self.fix}
        if self.config_fix:
            out["config_fix"] = self.config_fix
        return out


@dataclass(frozen=True)
class Attempt:
    """What was being tried when the call failed: the context every diagnosis is worded in."""

    action: str  # the IAM action, e.g. "s3:PutObject"
    resource: str  # the ARN (or name) it was tried on
    who: str = "the credentials in use"  # e.g. "principal 'backend'"
    principal: str | None = None  # the principal's key in config.yaml, for the config fix
    grant: str | None = None  # the config key and word that would allow it, e.g. "bucket: student-docs ... write"
    region: str | None = None  # the region the environment is configured for
    presigned_post: bool = False  # a browser-style POST upload (the global-endpoint diagnosis)


@dataclass(frozen=True)
class Failure:
    """What came back: an error code and message (from botocore or an XML body), status and headers."""

    code: str | None
    message: str = ""
    status: int | None = None
    headers: Mapping[str, str] | None = None
    endpoint: str | None = None  # <Endpoint> from a redirect body


def parse_error_body(body: bytes | str) -> tuple[str | None, str, str | None]:
    """(code, message, endpoint) from an S3-style XML error body; (None, text, None) when not XML."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text.startswith("<"):
        return None, text[:300], None
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - a response body from the endpoint we called
    except ElementTree.ParseError:
        return None, text[:300], None
    error = root if root.tag == "Error" else root.find(".//Error")
    if error is None:
        return None, text[:300], None
    return error.findtext("Code"), error.findtext("Message") or "", error.findtext("Endpoint")


def from_http(status: int, headers: Mapping[str, str], body: bytes | str) -> Failure:
    code, message, endpoint = parse_error_body(body)
    if code is None and status in (301, 307):
        code = str(status)
    return Failure(code=code or str(status), message=message, status=status, headers=headers, endpoint=endpoint)


def from_client_error(exc: ClientError) -> Failure:
    error: dict[str, Any] = dict(exc.response.get("Error", {}))
    meta = exc.response.get("ResponseMetadata", {})
    code = error.get("Code")
    message = error.get("Message", "")
    # moto answers DynamoDB denials with HTTP 403 and an XML body that botocore leaves unparsed.
    if code == "403" and message.lstrip().startswith("<"):
        inner_code, inner_message, _ = parse_error_body(message)
        code, message = inner_code or code, inner_message
    return Failure(
        code=code,
        message=message,
        status=meta.get("HTTPStatusCode"),
        headers=meta.get("HTTPHeaders"),
        endpoint=str(error["Endpoint"]) if error.get("Endpoint") else None,
    )


def diagnose_exception(exc: Exception, attempt: Attempt) -> Diagnosis:
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return missing_credentials(attempt.who)
    if isinstance(exc, ClientError):
        return diagnose(from_client_error(exc), attempt)
    return Diagnosis(
        "unreachable",
        f"{attempt.action} on {attempt.resource} did not get an answer: {type(exc).__name__}: {exc}",
        "check the network path to the endpoint and the environment's `endpoint`/`region` in config.yaml",
    )


def missing_credentials(who: str) -> Diagnosis:
    return Diagnosis(
        "missing-credentials",
        f"no AWS credentials were found for {who}",
        "for the operator: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run `aws sso login`); "
        "for the application principal: pass --credentials FILE, a .env file holding AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or, for a role, let the operator "
        "assume it (sts:AssumeRole)",
    )


def bucket_region(location: str | None) -> str:
    """The region a GetBucketLocation answer means (None/'' is us-east-1, 'EU' is eu-west-1)."""
    return _LEGACY_LOCATIONS.get(location, location or "us-east-1")


def region_mismatch(bucket: str, *, actual: str, configured: str, bucket_key: str | None = None) -> Diagnosis:
    where = f"buckets.{bucket_key}" if bucket_key else "the bucket"
    return Diagnosis(
        "region-mismatch",
        f"bucket {bucket} is in {actual}, but the environment is configured for {configured}",
        f"clients must use region {actual} (its regional endpoint s3.{actual}.amazonaws.com); either set the "
        f"environment's `region: {actual}` or recreate {where} in {configured} and migrate the objects",
        config_fix=f"region: {actual}",
    )


def cors_refused(origin: str, *, bucket: str, bucket_key: str, status: int, reason: str) -> Diagnosis:
    return Diagnosis(
        "cors-origin-not-allowed",
        f"a browser preflight from {origin} to bucket {bucket} was refused (HTTP {status}: {reason})",
        f"list {origin} in buckets.{bucket_key}.cors[].allowed_origins (and the method in allowed_methods), then "
        "`cargohold plan` and `cargohold apply` so the bucket's CORS configuration matches config.yaml",
        config_fix=(
            f'buckets:\n  {bucket_key}:\n    cors:\n      - allowed_origins: ["{origin}"]\n'
            '        allowed_methods: [GET, PUT]\n        allowed_headers: ["*"]'
        ),
    )


def diagnose(failure: Failure, attempt: Attempt) -> Diagnosis:
    """The diagnosis for one failed call."""
    code = failure.code or ""
    message = failure.message or ""
    headers = {k.lower(): v for k, v in (failure.headers or {}).items()}
    tried = f"{attempt.action} on {attempt.resource}"

    if code in _REDIRECT_CODES or failure.status in (301, 307) or ("region" in message and "wrong" in message):
        return _redirect(failure, attempt, headers)
    if code in _UNKNOWN_KEY_CODES:
        return Diagnosis(
            "invalid-access-key",
            f"{tried} was refused ({code}): the access key of {attempt.who} does not exist in this account "
            "(or at this endpoint)",
            "issue new keys for the principal (`cargohold credentials issue`, or the IAM console) and update the "
            "credentials file; check the file is for this environment's account and that the key was not deleted "
            "or deactivated",
        )
    if code == "SignatureDoesNotMatch":
        return Diagnosis(
            "signature-mismatch",
            f"{tried} was refused (SignatureDoesNotMatch): the request's signature does not match",
            "check that the secret key belongs to the access key (no stray spaces or quotes in the credentials "
            "file); for presigned URLs, send exactly the signed method and headers (a PUT signed with a "
            "Content-Type must be sent with that Content-Type) and do not re-encode the URL after signing",
        )
    if (
        code in _EXPIRED_CODES
        or code == "RequestTimeTooSkewed"
        or (code in _DENIED_CODES and _EXPIRED_TEXT.search(message))
    ):
        return Diagnosis(
            "expired",
            f"{tried} was refused ({code}: {message or 'expired'}): the signature or session token has expired, "
            "or this machine's clock is wrong",
            "sync the clock (NTP); issue presigned URLs just before they are used, with an ExpiresIn that covers "
            "the upload; refresh temporary credentials (assume the role again, `aws sso login`)",
        )
    if code == "NoSuchBucket":
        return Diagnosis(
            "no-such-bucket",
            f"{tried} failed: the bucket does not exist (at this endpoint, in this account)",
            "create it with `cargohold plan` then `cargohold apply` for this environment, or correct the bucket's "
            "`name:` in config.yaml if it was created under another name",
        )
    if code in ("ResourceNotFoundException", "TableNotFoundException"):
        return Diagnosis(
            "no-such-table",
            f"{tried} failed: the table does not exist (in this region, in this account)",
            "create it with `cargohold plan` then `cargohold apply` for this environment, or correct the table's "
            "`name:` in config.yaml",
        )
    if code in _DENIED_CODES:
        return _denied(failure, attempt)
    if code == "NoSuchKey":
        return Diagnosis(
            "no-such-key",
            f"{tried} failed: the object is not there (it was not written, or was removed meanwhile)",
            "check that the upload before it succeeded and that nothing (a lifecycle rule, another process) "
            "deletes objects under this prefix",
        )
    status = f"HTTP {failure.status}" if failure.status else "an error"
    return Diagnosis(
        "unexpected-error",
        f"{tried} failed with {status}: {code} {message}".rstrip(),
        "read the error above; check the endpoint, region and the principal's policy",
    )


def _denied(failure: Failure, attempt: Attempt) -> Diagnosis:
    action, resource = attempt.action, attempt.resource
    found = _NOT_AUTHORIZED.search(failure.message or "")
    if found:
        action = found.group(1)
        resource = found.group(2) or resource
    config_fix = None
    fix = f"allow {action} on {resource} for {attempt.who}"
    if attempt.principal and attempt.grant:
        fix = (
            f"add the grant to principals.{attempt.principal}.grants in config.yaml, then `cargohold plan` and "
            "`cargohold apply`; if the config already grants it, the deployed policy differs from the config "
            "(see `cargohold drift`) or a permissions boundary, SCP or bucket policy denies it"
        )
        config_fix = f"principals:\n  {attempt.principal}:\n    grants:\n      - {attempt.grant}"
    return Diagnosis(
        "access-denied",
        f"AccessDenied: {attempt.who} may not {action} on {resource}",
        fix,
        config_fix=config_fix,
    )


def _redirect(failure: Failure, attempt: Attempt, headers: Mapping[str, str]) -> Diagnosis:
    actual = headers.get("x-amz-bucket-region")
    if actual is None and failure.endpoint:
        found = re.search(r"s3[.-]([a-z0-9-]+)\.amazonaws\.com", failure.endpoint)
        actual = found.group(1) if found else None
    if actual is None:
        found = _EXPECTING_REGION.search(failure.message or "")
        actual = found.group(1) if found else None
    where = actual or "another region"
    code = failure.code or str(failure.status)
    if attempt.presigned_post:
        return Diagnosis(
            "global-endpoint-post",
            f"the presigned POST for {attempt.resource} went to the global endpoint (s3.amazonaws.com) or the "
            f"wrong region and S3 answered {code}: the bucket is in {where}",
            f"sign POST policies with an S3 client created for the bucket's region (boto3.client('s3', "
            f"region_name='{where}')) so the form posts to https://BUCKET.s3.{where}.amazonaws.com/; browsers do "
            "not follow a redirect of a POST upload",
            config_fix=f"region: {actual}" if actual else None,
        )
    return Diagnosis(
        "region-mismatch",
        f"{attempt.action} on {attempt.resource} was redirected ({code}): the bucket is in {where}, not in "
        f"{attempt.region or 'the configured region'}",
        f"use region {where} for this bucket's clients (set the environment's `region:` in config.yaml to "
        "the bucket's region, or recreate the bucket in the configured region)",
        config_fix=f"region: {actual}" if actual else None,
    )
