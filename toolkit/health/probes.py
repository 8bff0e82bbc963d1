"""The live probes behind `cargohold health`, each appending findings to a shared `Run`.

Operator credentials (the default boto chain) check the account and the buckets and clean up after
every probe; the application principal's credentials do what the application does: presigned
PUT/GET/DELETE and POST over plain HTTP, DynamoDB item writes, and a call it must be denied.

Every probe object or item gets a random name under a probe prefix and is removed in `finally`,
all its versions included, whatever the probe's outcome. A cleanup that fails is reported.

A probe whose PASS means "the endpoint accepted these credentials' signature" (the operator's and the
principal's credentials, the presigned round trip and POST, the table items) passes only where the
endpoint refuses a request signed with a made-up key (`made_up_accepted`, asked once per kind of
signature and run). Where it accepts one (moto without IAM enforcement) or cannot tell, the verdict is
ERROR, "not verifiable", with what the probe saw; a server error (HTTP 5xx) is never a verdict either.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core.aws import error_code, is_emulator
from cargohold_core.config.model import Bucket, Environment, Principal, Table
from cargohold_core.config.schema import Grant
from toolkit.findings import Check, Finding, Status, errored, failed, passed
from toolkit.health import checks, http
from toolkit.health.credentials import PrincipalCredentials
from toolkit.health.diagnose import (
    Attempt,
    Diagnosis,
    Failure,
    bucket_region,
    cors_refused,
    diagnose,
    diagnose_exception,
    from_client_error,
    from_http,
    region_mismatch,
)

PROBE_PREFIX = "cargohold-health/"
UNLISTED_ORIGIN = "https://not-allowed.invalid"
PROBE_BODY = b"cargohold health probe: safe to delete\n"
WRONG_CONTENT_TYPE = "application/x-cargohold-wrong-type"
EXPIRES_S = 300
_DENIED = {"AccessDenied", "AccessDeniedException", "Forbidden", "403"}
_MISSING_BUCKET = {"NoSuchBucket", "404", "NotFound"}
_PROBE_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20)


@dataclass
class Run:
    env: Environment
    operator: boto3.Session
    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    missing_buckets: set[str] = field(default_factory=set)  # bucket keys found missing: no probes there
    principal: Principal | None = None
    credentials: PrincipalCredentials | None = None
    http_requests: int = 0
    # Per kind of request ("sts", "s3", "dynamodb", "s3-presigned"): whether the endpoint answered one
    # signed with a made-up key (True), refused it (False), or could not say (None). Asked once a run.
    made_up_accepted: dict[str, bool | None] = field(default_factory=dict)

    # -------------------------------------------------------------- clients

    def operator_client(self, service: str) -> Any:
        return self._client(self.operator, service)

    def principal_client(self, service: str) -> Any:
        assert self.credentials is not None
        return self._client(self.credentials.session(self.env.region), service)

    def _client(self, session: boto3.Session, service: str) -> Any:
        config = _PROBE_CONFIG
        if service == "s3":
            # SigV4 presigning (required outside the oldest regions); path style on an emulator on loopback.
            style = "path" if is_emulator(self.env.endpoint) else "virtual"
            s3_options: Any = {"addressing_style": style}
            config = config.merge(Config(signature_version="s3v4", s3=s3_options))
        boto_session: Any = session
        return boto_session.client(service, endpoint_url=self.env.endpoint, region_name=self.env.region, config=config)

    # -------------------------------------------------------------- recording

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def skip(self, check: Check, resource: str, reason: str) -> None:
        self.skipped.append({"check": check.id, "resource": resource, "reason": reason})

    def http(self, method: str, url: str, **kw: Any) -> http.Response:
        self.http_requests += 1
        return http.request(method, url, **kw)

    @property
    def who(self) -> str:
        return f"principal '{self.principal.key}'" if self.principal else "the operator"


def diagnosed(check: Check, resource: str, diagnosis: Diagnosis, *, status: str = "fail", **kw: Any) -> Finding:
    make = failed if status == "fail" else errored
    return make(check, resource, diagnosis.message(), details=diagnosis.to_json(), **kw)


# ------------------------------------------------------------------ operator: account and buckets


def check_operator(run: Run) -> str | None:
    """STS identity with the operator's credentials; the account id, or None when they do not work."""
    attempt = Attempt(action="sts:GetCallerIdentity", resource="account", who="the operator's credentials")
    try:
        identity = run.operator_client("sts").get_caller_identity()
    except ClientError as exc:  # refused: an answer about the credentials
        run.add(diagnosed(checks.CREDENTIALS, "account", diagnose_exception(exc, attempt)))
        return None
    except BotoCoreError as exc:  # no answer (endpoint down) or nothing to sign with: unknown, as audit says
        run.add(diagnosed(checks.CREDENTIALS, "account", diagnose_exception(exc, attempt), status="error"))
        return None
    account = str(identity["Account"])
    works = passed(checks.CREDENTIALS, "account", f"credentials work: {identity['Arn']}", actual=identity["Arn"])
    run.add(signature_verdict(run, works, "sts"))
    if account == run.env.account:
        run.add(passed(checks.ACCOUNT, "account", f"account {account} as configured"))
    else:
        run.add(
            failed(
                checks.ACCOUNT,
                "account",
                f"the credentials are for account {account}, but environment '{run.env.name}' is account "
                f"{run.env.account}. Fix: use credentials for {run.env.account} (AWS_PROFILE), or correct "
                "`account:` in config.yaml",
                expected=run.env.account,
                actual=account,
            )
        )
    return account


def check_buckets(run: Run) -> None:
    s3 = run.operator_client("s3")
    for bucket in run.env.buckets.values():
        attempt = Attempt(action="s3:ListBucket", resource=bucket.arn, who="the operator", region=run.env.region)
        try:
            head = s3.head_bucket(Bucket=bucket.name)
        except ClientError as exc:
            failure = from_client_error(exc)
            if error_code(exc) in _MISSING_BUCKET:
                failure = Failure(code="NoSuchBucket", status=failure.status, headers=failure.headers)
                run.missing_buckets.add(bucket.key)
                run.add(diagnosed(checks.BUCKET_EXISTS, bucket.arn, diagnose(failure, attempt)))
                run.skip(checks.BUCKET_REGION, bucket.arn, "the bucket does not exist")
                continue
            if failure.status == 301:  # exists, in another region: the region check says which
                run.add(passed(checks.BUCKET_EXISTS, bucket.arn, f"bucket {bucket.name} exists (in another region)"))
                actual = (failure.headers or {}).get("x-amz-bucket-region")
                _region_finding(run, bucket, actual)
                continue
            run.add(diagnosed(checks.BUCKET_EXISTS, bucket.arn, diagnose(failure, attempt), status="error"))
            continue
        except BotoCoreError as exc:
            run.add(diagnosed(checks.BUCKET_EXISTS, bucket.arn, diagnose_exception(exc, attempt), status="error"))
            continue
        run.add(passed(checks.BUCKET_EXISTS, bucket.arn, f"bucket {bucket.name} exists"))
        header_region = head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        try:
            location = s3.get_bucket_location(Bucket=bucket.name).get("LocationConstraint")
            actual = bucket_region(location)
        except ClientError as exc:
            if header_region is None:
                locate = Attempt(action="s3:GetBucketLocation", resource=bucket.arn, who="the operator")
                run.add(diagnosed(checks.BUCKET_REGION, bucket.arn, diagnose_exception(exc, locate), status="error"))
                continue
            actual = header_region
        _region_finding(run, bucket, actual)


def _region_finding(run: Run, bucket: Bucket, actual: str | None) -> None:
    if actual is None:
        run.add(errored(checks.BUCKET_REGION, bucket.arn, "the bucket's region could not be read"))
    elif actual == bucket.region:  # the bucket's own `region:` (a DR bucket), else the environment's
        run.add(passed(checks.BUCKET_REGION, bucket.arn, f"in {actual}", region=actual))
    else:
        d = region_mismatch(bucket.name, actual=actual, configured=bucket.region, bucket_key=bucket.key)
        run.add(diagnosed(checks.BUCKET_REGION, bucket.arn, d, expected=bucket.region, actual=actual, region=actual))


# ------------------------------------------------------------------ CORS preflights (no credentials: a browser's view)


def check_cors(run: Run) -> None:
    s3 = run.operator_client("s3")
    for bucket in run.env.buckets.values():
        if not bucket.spec.cors or bucket.key in run.missing_buckets:
            continue
        url = _object_url(s3, bucket.name, f"{PROBE_PREFIX}cors-preflight-{secrets.token_hex(6)}")
        wildcard = False
        for rule in bucket.spec.cors:
            method = "PUT" if "PUT" in rule.allowed_methods else rule.allowed_methods[0]
            send_headers = any(h == "*" or h.lower() == "content-type" for h in rule.allowed_headers)
            for origin in rule.allowed_origins:
                if origin == "*":
                    wildcard = True
                    continue
                concrete = origin.replace("*", "cargohold-probe", 1)  # "https://*.example.com" allows any sub-domain
                resource = f"{bucket.arn} (origin {origin})"
                answer = _preflight(run, url, concrete, method, send_headers)
                if answer is None:
                    continue
                ok, why = answer
                if ok:
                    run.add(passed(checks.CORS_ALLOWED, resource, f"preflight {method} from {concrete} allowed"))
                elif why[0] >= 500:
                    run.add(_preflight_unanswered(checks.CORS_ALLOWED, resource, concrete, why))
                else:
                    d = cors_refused(concrete, bucket=bucket.name, bucket_key=bucket.key, status=why[0], reason=why[1])
                    deployed = _deployed_origins(s3, bucket.name)
                    details = {**d.to_json(), "deployed_origins": deployed}
                    run.add(failed(checks.CORS_ALLOWED, resource, d.message(), details=details))
        if wildcard:
            run.skip(checks.CORS_REFUSED, bucket.arn, "config.yaml allows every origin ('*'): none is unlisted")
            continue
        first = bucket.spec.cors[0]
        method = "PUT" if "PUT" in first.allowed_methods else first.allowed_methods[0]
        answer = _preflight(run, url, UNLISTED_ORIGIN, method, False)
        if answer is None:
            continue
        ok, (status, reason) = answer
        resource = f"{bucket.arn} (origin {UNLISTED_ORIGIN})"
        if status >= 500:  # a server error refuses nothing: it says nothing about CORS
            run.add(_preflight_unanswered(checks.CORS_REFUSED, resource, UNLISTED_ORIGIN, (status, reason)))
        elif not ok:
            run.add(passed(checks.CORS_REFUSED, resource, f"preflight from {UNLISTED_ORIGIN} refused (HTTP {status})"))
        else:
            deployed = _deployed_origins(s3, bucket.name)
            run.add(
                failed(
                    checks.CORS_REFUSED,
                    resource,
                    f"bucket {bucket.name} allows a browser preflight from {UNLISTED_ORIGIN}, an origin config.yaml "
                    f"does not list (deployed origins: {deployed or 'unknown'}). Fix: remove '*' and unlisted origins "
                    f"from the bucket's CORS rules: `cargohold plan` and `cargohold apply` restore buckets."
                    f"{bucket.key}.cors",
                    details={"diagnosis": "cors-origin-too-broad", "deployed_origins": deployed},
                )
            )
    # Resources are ARNs with the origin appended: one finding per (bucket, origin), stable across runs.


def _preflight_unanswered(check: Check, resource: str, origin: str, why: tuple[int, str]) -> Finding:
    return errored(
        check,
        resource,
        f"not verifiable: the preflight from {origin} got HTTP {why[0]} ({why[1]}), a server error, not a CORS "
        "answer. Run the check again; if it persists, the endpoint is failing",
        details={"diagnosis": "not-verifiable", "status": why[0]},
    )


def _preflight(run: Run, url: str, origin: str, method: str, with_headers: bool) -> tuple[bool, tuple[int, str]] | None:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if with_headers:
        headers["Access-Control-Request-Headers"] = "content-type"
    try:
        answer = run.http("OPTIONS", url, headers=headers)
    except OSError as exc:
        run.add(errored(checks.CORS_ALLOWED, url, f"the preflight to {url} got no answer: {exc}"))
        return None
    allow = answer.header("Access-Control-Allow-Origin")
    ok = answer.status == 200 and allow in (origin, "*")
    code, message, _ = _parsed(answer)
    reason = f"{code}: {message}" if code else ("no Access-Control-Allow-Origin header" if not allow else f"{allow}")
    return ok, (answer.status, reason)


def _deployed_origins(s3: Any, bucket: str) -> list[str] | None:
    try:
        rules = s3.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
    except (ClientError, BotoCoreError):
        return None
    return sorted({o for rule in rules for o in rule.get("AllowedOrigins", [])})


def _parsed(answer: http.Response) -> tuple[str | None, str, str | None]:
    from toolkit.health.diagnose import parse_error_body

    return parse_error_body(answer.body) if answer.body else (None, "", None)


def _object_url(s3: Any, bucket: str, key: str) -> str:
    """The object's plain URL (as the client would address it), without a signature."""
    signed = str(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60))
    parts = urlsplit(signed)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# ------------------------------------------------------------------ the principal's object round trips


def grant_words(grant: Grant) -> set[str]:
    return set(grant.actions)


def probe_prefix(bucket: Bucket, grant: Grant) -> str:
    """Where probe objects go: the upload prefix when the grant covers it, else a probe folder inside the grant."""
    granted = grant.prefix or ""
    uploads = bucket.spec.uploads.prefix if bucket.spec.uploads else ""
    if uploads and uploads.startswith(granted):
        return uploads
    return f"{granted}{PROBE_PREFIX}"


def new_probe_key(prefix: str) -> str:
    name = f"{secrets.token_hex(8)}.txt"
    return f"{prefix}{name}" if prefix.endswith(PROBE_PREFIX) else f"{prefix}cargohold-health-{name}"


def _upload_type(bucket: Bucket) -> tuple[str, str | None]:
    """(content type to send, the policy's Content-Type condition value) from uploads.content_types."""
    types = bucket.spec.uploads.content_types if bucket.spec.uploads else []
    if not types:
        return "text/plain", None
    first = types[0]
    if first.endswith("/*"):
        return f"{first[:-1]}x-cargohold-probe", first[:-1]
    return first, first


def bucket_grants(principal: Principal, bucket: Bucket) -> list[Grant]:
    return [g for g in principal.spec.grants if g.bucket == bucket.key]


def check_object_round_trips(run: Run) -> None:
    assert run.principal is not None
    s3 = run.principal_client("s3")
    for bucket in run.env.buckets.values():
        if bucket.key in run.missing_buckets:
            continue
        for grant in bucket_grants(run.principal, bucket):
            words = grant_words(grant)
            if words & {"read", "write", "delete"}:
                _round_trip(run, s3, bucket, grant, words)
            uploads = bucket.spec.uploads
            if uploads is not None and uploads.method == "presigned-post" and "write" in words:
                _presigned_post(run, s3, bucket, grant)


def _attempt(run: Run, action: str, resource: str, grant_text: str | None = None, **kw: Any) -> Attempt:
    assert run.principal is not None
    return Attempt(
        action=action,
        resource=resource,
        who=run.who,
        principal=run.principal.key,
        grant=grant_text,
        region=run.env.region,
        **kw,
    )


def _grant_text(bucket: Bucket, grant: Grant, word: str) -> str:
    prefix = f", prefix: {grant.prefix}" if grant.prefix else ""
    return f"{{bucket: {bucket.key}{prefix}, actions: [{word}]}}"


def _round_trip(run: Run, s3: Any, bucket: Bucket, grant: Grant, words: set[str]) -> None:
    key = new_probe_key(probe_prefix(bucket, grant))
    resource = f"{bucket.arn}/{grant.prefix or ''}*"
    content_type, _ = _upload_type(bucket)
    steps: list[str] = []
    with _removed_after(run, bucket, [key]) as cleanup:
        try:
            result = _do_round_trip(run, s3, bucket, grant, words, key, content_type, steps)
        except (ClientError, BotoCoreError, OSError) as exc:
            d = diagnose_exception(exc, _attempt(run, "s3:PutObject", f"{bucket.arn}/{key}"))
            result = diagnosed(checks.PRESIGNED_PUT, resource, d, status="error")
    _report(
        run,
        checks.PRESIGNED_PUT,
        resource,
        result,
        cleanup,
        ok_message=f"{', '.join(steps)} of s3://{bucket.name}/{key}",
        signed="s3-presigned",
    )


def _do_round_trip(
    run: Run, s3: Any, bucket: Bucket, grant: Grant, words: set[str], key: str, content_type: str, steps: list[str]
) -> Finding | None:
    object_arn = f"{bucket.arn}/{key}"

    def sent(method: str, client_method: str, body: bytes | None = None, **params: Any) -> http.Response:
        url = s3.generate_presigned_url(
            client_method, Params={"Bucket": bucket.name, "Key": key, **params}, ExpiresIn=EXPIRES_S
        )
        headers = {"Content-Type": params["ContentType"]} if "ContentType" in params else {}
        return run.http(method, url, body=body, headers=headers)

    def refused(action: str, word: str, answer: http.Response) -> Finding:
        if answer.status >= 500:  # a server error says nothing about the keys or the grant
            return _server_error(checks.PRESIGNED_PUT, f"{bucket.arn}/{grant.prefix or ''}*", action, key, answer)
        attempt = _attempt(run, action, object_arn, _grant_text(bucket, grant, word))
        return diagnosed(
            checks.PRESIGNED_PUT,
            f"{bucket.arn}/{grant.prefix or ''}*",
            diagnose(from_http(answer.status, answer.headers, answer.body), attempt),
        )

    if "write" in words:
        answer = sent("PUT", "put_object", PROBE_BODY, ContentType=content_type)
        if answer.status != 200:
            return refused("s3:PutObject", "write", answer)
        steps.append("PUT")
    else:  # the principal may only read or delete: the operator writes the object it reads or deletes
        run.operator_client("s3").put_object(Bucket=bucket.name, Key=key, Body=PROBE_BODY, ContentType=content_type)
        steps.append("PUT (by the operator: write not granted)")
    if "read" in words:
        answer = sent("GET", "get_object")
        if answer.status != 200:
            return refused("s3:GetObject", "read", answer)
        if answer.body != PROBE_BODY:
            return failed(
                checks.PRESIGNED_PUT,
                f"{bucket.arn}/{grant.prefix or ''}*",
                f"GET of s3://{bucket.name}/{key} returned {len(answer.body)} bytes that differ from the "
                f"{len(PROBE_BODY)} written. Fix: look for something rewriting objects (a Lambda, a proxy, a "
                "content-encoding setting)",
            )
        steps.append("GET")
    if "delete" in words:
        answer = sent("DELETE", "delete_object")
        if answer.status not in (200, 204):
            return refused("s3:DeleteObject", "delete", answer)
        steps.append("DELETE")
    return None


def _presigned_post(run: Run, s3: Any, bucket: Bucket, grant: Grant) -> None:
    uploads = bucket.spec.uploads
    assert uploads is not None
    prefix = probe_prefix(bucket, grant)
    key, wrong_key = new_probe_key(prefix), new_probe_key(prefix)
    resource = f"{bucket.arn}/{grant.prefix or ''}*"
    content_type, condition = _upload_type(bucket)
    with _removed_after(run, bucket, [key, wrong_key]) as cleanup:
        try:
            result = _post(run, s3, bucket, grant, key, content_type, content_type, condition)
            if result is None and condition is not None:
                _post_policy(run, s3, bucket, grant, wrong_key, content_type, condition)
            elif condition is None:
                run.skip(checks.PRESIGNED_POST_POLICY, resource, "uploads.content_types is empty: no condition")
        except (ClientError, BotoCoreError, OSError) as exc:
            d = diagnose_exception(exc, _attempt(run, "s3:PutObject", f"{bucket.arn}/{key}", presigned_post=True))
            result = diagnosed(checks.PRESIGNED_POST, resource, d, status="error")
    _report(
        run,
        checks.PRESIGNED_POST,
        resource,
        result,
        cleanup,
        ok_message=f"POST of s3://{bucket.name}/{key}",
        signed="s3-presigned",
    )


def _post(
    run: Run, s3: Any, bucket: Bucket, grant: Grant, key: str, policy_type: str, sent_type: str, condition: str | None
) -> Finding | None:
    uploads = bucket.spec.uploads
    assert uploads is not None
    conditions: list[Any] = []
    fields: dict[str, str] = {}
    if condition is not None:
        fields["Content-Type"] = policy_type
        if condition.endswith("/"):
            conditions.append(["starts-with", "$Content-Type", condition])
        else:
            conditions.append({"Content-Type": condition})
    if uploads.max_size_mb:
        conditions.append(["content-length-range", 1, uploads.max_size_mb * 1024 * 1024])
    post = s3.generate_presigned_post(bucket.name, key, Fields=fields, Conditions=conditions, ExpiresIn=EXPIRES_S)
    form = dict(post["fields"])
    if condition is not None:
        form["Content-Type"] = sent_type
    body, form_type = http.multipart(form, file_name="probe.txt", content=PROBE_BODY, content_type=sent_type)
    answer = run.http("POST", post["url"], body=body, headers={"Content-Type": form_type})
    if answer.status in (200, 201, 204):
        return None
    if answer.status >= 500:
        return _server_error(checks.PRESIGNED_POST, f"{bucket.arn}/{grant.prefix or ''}*", "POST", key, answer)
    attempt = _attempt(
        run, "s3:PutObject", f"{bucket.arn}/{key}", _grant_text(bucket, grant, "write"), presigned_post=True
    )
    d = diagnose(from_http(answer.status, answer.headers, answer.body), attempt)
    return diagnosed(checks.PRESIGNED_POST, f"{bucket.arn}/{grant.prefix or ''}*", d)


def _post_policy(run: Run, s3: Any, bucket: Bucket, grant: Grant, key: str, content_type: str, condition: str) -> None:
    resource = f"{bucket.arn}/{grant.prefix or ''}*"
    refused = _post(run, s3, bucket, grant, key, content_type, WRONG_CONTENT_TYPE, condition)
    if refused is not None:
        run.add(
            passed(
                checks.PRESIGNED_POST_POLICY,
                resource,
                f"a POST with Content-Type {WRONG_CONTENT_TYPE} against a policy requiring {condition} was refused",
            )
        )
    elif is_emulator(run.env.endpoint):
        # moto (and other emulators) do not evaluate POST policies: an accepted POST here says nothing
        # about AWS, where the same POST is refused with 403 "Policy Condition failed".
        run.add(
            errored(
                checks.PRESIGNED_POST_POLICY,
                resource,
                f"not verifiable on this endpoint: the emulator at {run.env.endpoint} accepted a POST that breaks "
                f"its policy's Content-Type condition ({WRONG_CONTENT_TYPE} sent, {condition} required), so it does "
                "not enforce POST policies; run `cargohold health` against AWS to verify",
                details={"diagnosis": "not-verifiable", "endpoint": run.env.endpoint},
            )
        )
    else:
        run.add(
            failed(
                checks.PRESIGNED_POST_POLICY,
                resource,
                f"a POST with Content-Type {WRONG_CONTENT_TYPE} was accepted although its policy requires "
                f"{condition}. Fix: check that the endpoint is S3 itself (not a proxy that rewrites uploads) and that "
                "the application puts the Content-Type condition in every policy it signs",
                details={"diagnosis": "policy-not-enforced"},
            )
        )


# ------------------------------------------------------------------ cleanup


@contextmanager
def _removed_after(run: Run, bucket: Bucket, keys: list[str]) -> Iterator[list[str]]:
    """Yield a list that collects cleanup problems; remove every version of `keys` on the way out."""
    problems: list[str] = []
    try:
        yield problems
    finally:
        s3 = run.operator_client("s3")
        for key in keys:
            problem = remove_object(s3, bucket.name, key)
            if problem:
                problems.append(problem)


def remove_object(s3: Any, bucket: str, key: str) -> str | None:
    """Delete every version and delete marker of one key; a description of what is left, or None."""
    try:
        try:
            listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
        except ClientError as exc:
            if error_code(exc) not in ("NotImplemented", "MethodNotAllowed", "501", "405"):
                raise
            s3.delete_object(Bucket=bucket, Key=key)  # an endpoint without versions
            return None
        entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
        for version in [v["VersionId"] for v in entries if v["Key"] == key]:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    except (ClientError, BotoCoreError) as exc:
        return f"could not remove s3://{bucket}/{key} ({exc}); remove it with the operator's credentials"
    return None


def _server_error(check: Check, resource: str, action: str, key: str, answer: http.Response) -> Finding:
    code, message, _ = _parsed(answer)
    said = f"{code}: {message}" if code else (message or "no error body")
    return errored(
        check,
        resource,
        f"not verifiable: {action} of {key} got HTTP {answer.status} ({said}), a server error, not an answer about "
        "the principal's keys or grants. Run the check again; if it persists, the endpoint is failing",
        details={"diagnosis": "not-verifiable", "status": answer.status},
    )


def _report(
    run: Run,
    check: Check,
    resource: str,
    result: Finding | None,
    cleanup: list[str],
    *,
    ok_message: str,
    signed: str,
) -> None:
    """Record a probe's verdict; a pass is only a pass where the endpoint checks the kind of signature
    (`signed`) the probe's requests carried."""
    if result is None:
        result = signature_verdict(run, passed(check, resource, f"{ok_message}: OK over HTTP"), signed)
    if cleanup:
        note = "; ".join(cleanup)
        if result.status.value == "pass":
            result = errored(check, resource, f"{result.message}, but the probe object was not cleaned up: {note}")
        else:
            result = replace(result, message=f"{result.message} (cleanup: {note})")
    run.add(result)


# ------------------------------------------------------------------ DynamoDB


def _attribute(kind: str, token: str) -> dict[str, Any]:
    if kind == "N":
        return {"N": str(int(token, 16) % 10**15)}
    if kind == "B":
        return {"B": f"cargohold-health-{token}".encode()}
    return {"S": f"cargohold-health-{token}"}


def probe_item_key(table: Table) -> dict[str, Any]:
    token = secrets.token_hex(8)
    key = {table.spec.hash_key.name: _attribute(table.spec.hash_key.type, token)}
    if table.spec.range_key is not None:
        key[table.spec.range_key.name] = _attribute(table.spec.range_key.type, token)
    return key


def check_tables(run: Run) -> None:
    assert run.principal is not None
    ddb = run.principal_client("dynamodb")
    operator = run.operator_client("dynamodb")
    for table in run.env.tables.values():
        words = {w for g in run.principal.spec.grants if g.table == table.key for w in g.actions}
        if not words:
            continue
        key = probe_item_key(table)
        problems: list[str] = []
        try:
            result = _table_round_trip(run, ddb, table, key, words)
        finally:
            if "write" in words:
                try:
                    operator.delete_item(TableName=table.name, Key=key)
                except (ClientError, BotoCoreError) as exc:
                    if not (isinstance(exc, ClientError) and error_code(exc) == "ResourceNotFoundException"):
                        problems.append(f"could not remove the probe item {key} from {table.name} ({exc})")
        done = "PutItem, GetItem, DeleteItem" if "write" in words else "GetItem (read only)"
        _report(
            run,
            checks.TABLE_PROBE,
            table.arn,
            result,
            problems,
            ok_message=f"{done} on {table.name}",
            signed="dynamodb",
        )


def _table_round_trip(run: Run, ddb: Any, table: Table, key: dict[str, Any], words: set[str]) -> Finding | None:
    grant = f"{{table: {table.key}, actions: [read, write]}}"

    def attempt(action: str) -> Attempt:
        return _attempt(run, action, table.arn, grant)

    calls: list[tuple[str, Callable[[], Any]]] = []
    item = {**key, "cargohold_probe": {"S": "health"}}
    if table.spec.ttl_attribute:  # belt and braces: expires by itself should every cleanup fail
        item[table.spec.ttl_attribute] = {"N": str(int(time.time()) + 3600)}
    hash_name = table.spec.hash_key.name
    if "write" in words:
        calls.append(
            (
                "dynamodb:PutItem",
                lambda: ddb.put_item(
                    TableName=table.name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#k)",  # never overwrite a real item
                    ExpressionAttributeNames={"#k": hash_name},
                ),
            )
        )
    if "read" in words:
        calls.append(("dynamodb:GetItem", lambda: ddb.get_item(TableName=table.name, Key=key, ConsistentRead=True)))
    if "write" in words:
        calls.append(("dynamodb:DeleteItem", lambda: ddb.delete_item(TableName=table.name, Key=key)))
    for action, call in calls:
        try:
            answer = call()
        except (ClientError, BotoCoreError) as exc:
            return diagnosed(checks.TABLE_PROBE, table.arn, diagnose_exception(exc, attempt(action)))
        if action == "dynamodb:GetItem" and "write" in words and "Item" not in answer:
            return failed(
                checks.TABLE_PROBE,
                table.arn,
                f"the probe item written to {table.name} was not there on a consistent read. Fix: check that "
                "nothing deletes items as they are written (a stream consumer, a TTL of 0)",
            )
    return None


# ------------------------------------------------------------------ least privilege


MADE_UP_ACCESS_KEY = "AKIA" + "Q" * 16  # the shape of a key; no account has it
MADE_UP_SECRET = "cargohold-health-made-up-secret-0000000"  # noqa: S105 - deliberately invalid
_REFUSED_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "AccessDenied",
    "AccessDeniedException",
    "Forbidden",
    "403",
}


def made_up_accepted(run: Run, kind: str) -> bool | None:
    """Whether the endpoint answers a request signed with an access key that cannot exist: True (it checks
    no signatures: an emulator without IAM enforcement), False (refused, as AWS always does), None (no
    answer that tells: a server error, no connection). `kind` is "sts", "s3", "dynamodb" (signed headers)
    or "s3-presigned" (a presigned URL, which some emulators check apart from, or not at all). Asked once
    per kind and run; AWS refuses it with InvalidAccessKeyId/InvalidClientTokenId, nothing is changed."""
    if kind not in run.made_up_accepted:
        run.made_up_accepted[kind] = _ask_made_up(run, kind)
    return run.made_up_accepted[kind]


def _ask_made_up(run: Run, kind: str) -> bool | None:
    made_up = boto3.Session(aws_access_key_id=MADE_UP_ACCESS_KEY, aws_secret_access_key=MADE_UP_SECRET)
    if kind == "s3-presigned":
        url = run._client(made_up, "s3").generate_presigned_url("list_buckets", ExpiresIn=60)
        try:
            answer = run.http("GET", url)
        except OSError:
            return None
        if 200 <= answer.status < 300:
            return True
        code, _, _ = _parsed(answer)
        return False if answer.status in (401, 403) or code in _REFUSED_CODES else None
    calls: dict[str, Callable[[Any], Any]] = {
        "sts": lambda c: c.get_caller_identity(),
        "s3": lambda c: c.list_buckets(),
        "dynamodb": lambda c: c.list_tables(Limit=1),
    }
    try:
        calls[kind](run._client(made_up, kind))
    except ClientError as exc:
        failure = from_client_error(exc)
        return False if failure.status in (401, 403) or failure.code in _REFUSED_CODES else None
    except BotoCoreError:
        return None
    return True


def _unverifiable_because(run: Run, kind: str) -> tuple[str, str] | None:
    """(diagnosis, reason) when a pass resting on a `kind` signature cannot be told from what this
    endpoint accepts anyway; None when the endpoint refused a made-up key (the pass is earned)."""
    accepted = made_up_accepted(run, kind)
    where = run.env.endpoint or "the endpoint"
    what = {"s3-presigned": "a presigned URL", "sts": "an STS call", "s3": "an S3 call"}.get(kind, f"a {kind} call")
    what = "a DynamoDB call" if kind == "dynamodb" else what
    if accepted is True:
        return (
            "signature-not-checked",
            f"{where} also accepted a request signed with a made-up access key ({what}): this endpoint accepts "
            "any signature (an emulator without IAM enforcement), so its acceptance proves nothing",
        )
    if accepted is None:
        return (
            "not-verifiable",
            f"whether {where} checks signatures could not be told: {what} signed with a made-up access key got "
            "neither an answer nor a refusal",
        )
    return None


def signature_verdict(run: Run, finding: Finding, kind: str) -> Finding:
    """A PASS that means "the endpoint accepted these credentials' signature" stays a PASS only where a
    made-up signature is refused; elsewhere it is ERROR ("not verifiable"), keeping what the probe saw."""
    if finding.status is not Status.PASS:
        return finding
    why = _unverifiable_because(run, kind)
    if why is None:
        return finding
    diagnosis, reason = why
    return errored(
        finding.check,
        finding.resource,
        f"not verifiable on this endpoint: {finding.message}; but {reason}. Run `cargohold health` against AWS "
        "(or an endpoint that checks signatures) to verify",
        actual=finding.actual,
        details={"diagnosis": diagnosis, "endpoint": run.env.endpoint, "signature": kind, "seen": finding.message},
    )


def check_denied(run: Run) -> None:
    """Harmless read-only calls config.yaml does not grant the principal; each must be AccessDenied."""
    assert run.principal is not None
    principal = run.principal
    s3 = run.principal_client("s3")
    ddb = run.principal_client("dynamodb")
    granted_buckets = {g.bucket for g in principal.spec.grants if g.bucket}
    granted_tables = {g.table for g in principal.spec.grants if g.table}
    probes: list[tuple[str, str, Callable[[], Any]]] = [
        ("s3:ListAllMyBuckets", f"arn:aws:s3:::* (account {run.env.account})", s3.list_buckets)
    ]
    for bucket in run.env.buckets.values():
        if bucket.key not in granted_buckets and bucket.key not in run.missing_buckets:
            probes.append(
                ("s3:ListBucket", bucket.arn, functools.partial(s3.list_objects_v2, Bucket=bucket.name, MaxKeys=1))
            )
    for table in run.env.tables.values():
        if table.key not in granted_tables:
            probes.append(
                ("dynamodb:DescribeTable", table.arn, functools.partial(ddb.describe_table, TableName=table.name))
            )
    for action, resource, call in probes:
        where = f"{action} on {resource}"
        try:
            call()
        except ClientError as exc:
            failure = from_client_error(exc)
            if failure.code in _DENIED:
                run.add(passed(checks.LEAST_PRIVILEGE, where, f"{run.who} is denied {action} on {resource}"))
            else:
                d = diagnose(failure, _attempt(run, action, resource))
                run.add(diagnosed(checks.LEAST_PRIVILEGE, where, d, status="error"))
            continue
        except BotoCoreError as exc:
            d = diagnose_exception(exc, _attempt(run, action, resource))
            run.add(diagnosed(checks.LEAST_PRIVILEGE, where, d, status="error"))
            continue
        if made_up_accepted(run, action.split(":", 1)[0]) is True:
            run.add(
                errored(
                    checks.LEAST_PRIVILEGE,
                    where,
                    f"not verifiable on this endpoint: {run.env.endpoint} accepted a request signed with a made-up "
                    "access key, so it enforces no IAM permissions (an emulator without IAM enforcement); "
                    f"{run.who} was allowed {action} there",
                    details={"diagnosis": "not-enforced", "action": action},
                )
            )
            continue
        run.add(
            failed(
                checks.LEAST_PRIVILEGE,
                where,
                f"over-privileged: {run.who} may {action} on {resource}, which config.yaml does not grant. Fix: "
                f"remove the extra permission (an attached managed policy, another inline policy, a group) from "
                f"{principal.name}; `cargohold apply` restores the policy config.yaml describes",
                details={"diagnosis": "over-privileged", "action": action},
            )
        )
