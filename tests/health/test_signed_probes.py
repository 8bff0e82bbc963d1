"""Probes against servers that check what moto does not: rclone (presigned signatures and expiry),
moto with IAM enforcement (AccessDenied, unknown keys), and a stand-in for S3's redirect."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from health_support import Deployed, RcloneS3, client, example_config

from cargohold_core.config import Environment, load_project
from tests.support.faulty_s3 import FaultyS3
from tests.support.moto_api import set_auth
from tests.support.moto_gaps import S3_ACTION_ALIASES
from toolkit.demo.emulator import Emulator
from toolkit.findings import Status
from toolkit.health import checks, probes
from toolkit.health.credentials import PrincipalCredentials, read_credentials_file
from toolkit.health.probes import Run, check_denied, check_object_round_trips, check_operator, check_tables
from toolkit.health.run import _principal_ready


def rclone_env(write_config: Callable[..., Path], endpoint: str, method: str = "presigned-put") -> Environment:
    config = example_config(endpoint, "hcrclone")
    config["buckets"] = {"docs": {"versioning": False, "uploads": {"method": method, "prefix": "uploads/"}}}
    config["tables"] = {}
    config["principals"] = {"app": {"grants": [{"bucket": "docs", "actions": ["read", "write", "delete"]}]}}
    return load_project(write_config(config)).environment("local")


@pytest.fixture
def rclone_bucket(rclone: RcloneS3, write_config: Callable[..., Path]) -> Iterator[tuple[Environment, Any]]:
    env = rclone_env(write_config, rclone.endpoint)
    s3 = client(rclone.endpoint, "s3")
    name = env.buckets["docs"].name
    s3.create_bucket(Bucket=name)
    yield env, s3
    for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


def round_trip(env: Environment, key: str, secret: str) -> Run:
    run = Run(env=env, operator=boto3.Session(), principal=env.principals["app"])
    run.credentials = PrincipalCredentials(key, secret, source="test")
    check_object_round_trips(run)
    return run


def test_round_trip_passes_where_signatures_are_checked(rclone_bucket: tuple[Environment, Any]) -> None:
    env, s3 = rclone_bucket
    run = round_trip(env, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    [finding] = run.findings
    assert finding.status is Status.PASS, finding.message
    assert "PUT, GET, DELETE" in finding.message
    assert s3.list_objects_v2(Bucket=env.buckets["docs"].name).get("Contents", []) == []


def test_round_trip_is_unknown_when_the_signature_check_itself_gets_no_answer(
    rclone_bucket: tuple[Environment, Any],
) -> None:
    # FaultyS3 in front of rclone answers only the made-up-key request with S3's InternalError (HTTP 500):
    # whether the endpoint checks signatures cannot be told, so the round trip that went through is not
    # verifiable (ERROR), never PASS. The probe's own requests reach rclone untouched.
    env, s3 = rclone_bucket
    made_up = probes.MADE_UP_ACCESS_KEY

    def made_up_request(method: str, path: str) -> bool:
        return made_up in path  # a presigned URL carries its key in the query string

    with FaultyS3(str(env.endpoint), fraction=1.0, faults=["internal"], match=made_up_request) as proxy:
        through = env.at_endpoint(proxy.endpoint)
        run = round_trip(through, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        assert proxy.injected["internal"] == 1  # asked once, and only that request was faulted
    [finding] = run.findings
    assert finding.status is Status.ERROR, finding.message
    assert finding.details["diagnosis"] == "not-verifiable"
    assert "could not be told" in finding.message and "PUT, GET, DELETE" in finding.message
    assert s3.list_objects_v2(Bucket=env.buckets["docs"].name).get("Contents", []) == []


def test_wrong_secret_is_signature_mismatch_and_cleaned_up(rclone_bucket: tuple[Environment, Any]) -> None:
    env, s3 = rclone_bucket
    run = round_trip(env, "AKIAIOSFODNN7EXAMPLE", "w" * 40)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.details["diagnosis"] == "signature-mismatch"
    assert "s3:PutObject" in finding.message
    assert "w" * 40 not in finding.message
    assert s3.list_objects_v2(Bucket=env.buckets["docs"].name).get("Contents", []) == []


def test_unknown_access_key_is_invalid_access_key(rclone_bucket: tuple[Environment, Any]) -> None:
    env, _ = rclone_bucket
    [finding] = round_trip(env, "AKIAZZZZZZZZZZZZZZZZ", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").findings
    assert finding.status is Status.FAIL and finding.details["diagnosis"] == "invalid-access-key"


def test_expired_url_is_diagnosed_and_the_object_still_removed(
    rclone_bucket: tuple[Environment, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env, s3 = rclone_bucket
    monkeypatch.setattr(probes, "EXPIRES_S", 1)
    real = Run.http

    def late(self: Run, method: str, url: str, **kw: Any) -> Any:
        if method == "GET":
            time.sleep(2.2)  # the PUT lands in time, the GET arrives after its URL expired
        return real(self, method, url, **kw)

    monkeypatch.setattr(Run, "http", late)
    [finding] = round_trip(env, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").findings
    assert finding.status is Status.FAIL
    assert finding.details["diagnosis"] == "expired"
    assert "s3:GetObject" in finding.message
    assert s3.list_objects_v2(Bucket=env.buckets["docs"].name).get("Contents", []) == []  # PUT object removed


# ------------------------------------------------------------------ IAM enforced (moto)


@pytest.fixture
def iam_deployed(iam_moto: Emulator, deploy: Callable[..., Deployed], monkeypatch: pytest.MonkeyPatch) -> Deployed:
    deployed = deploy(iam_moto.endpoint)
    iam = client(iam_moto.endpoint, "iam")
    iam.create_user(UserName=f"{deployed.project}-admin")
    iam.put_user_policy(
        UserName=f"{deployed.project}-admin",
        PolicyName="all",
        PolicyDocument=('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'),
    )
    admin = iam.create_access_key(UserName=f"{deployed.project}-admin")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin["SecretAccessKey"])
    return deployed


def principal_run(deployed: Deployed) -> Run:
    run = Run(
        env=deployed.env, operator=boto3.Session(region_name="us-east-1"), principal=deployed.env.principals["app"]
    )
    assert _principal_ready(run, run.principal, deployed.credentials)  # type: ignore[arg-type]
    return run


def test_principal_is_denied_what_it_was_not_granted(iam_deployed: Deployed, enforce_iam: Callable[[], None]) -> None:
    enforce_iam()
    run = principal_run(iam_deployed)
    check_denied(run)
    denied = [f for f in run.findings if f.check is checks.LEAST_PRIVILEGE]
    assert len(denied) == 3 and {f.status for f in denied} == {Status.PASS}, [f.message for f in denied]


def test_over_privileged_principal_fails_least_privilege(
    iam_moto: Emulator, deploy: Callable[..., Deployed], enforce_iam: Callable[[], None], monkeypatch: Any
) -> None:
    # Under both names: the IAM action AWS checks, and the operation name moto 5.2 checks (moto_gaps).
    actions = ["s3:ListAllMyBuckets", S3_ACTION_ALIASES["s3:ListAllMyBuckets"]]
    extra = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    deployed = deploy(iam_moto.endpoint, extra_policy=extra)
    enforce_iam()
    run = Run(env=deployed.env, operator=boto3.Session(), principal=deployed.env.principals["app"])
    assert deployed.credentials is not None
    run.credentials = read_credentials_file(deployed.credentials)
    check_denied(run)
    results = {f.details.get("action") or f.resource.split(" ")[0]: f.status for f in run.findings}
    assert results["s3:ListAllMyBuckets"] is Status.FAIL
    assert results["s3:ListBucket"] is Status.PASS


def test_table_access_denied_names_the_missing_action(iam_deployed: Deployed, enforce_iam: Callable[[], None]) -> None:
    # moto authorises DynamoDB calls against resource "*", so a table-scoped Allow (what config.yaml
    # renders) is refused there; on AWS the same policy allows it. The denial itself is real.
    enforce_iam()
    run = principal_run(iam_deployed)
    check_tables(run)
    [finding] = [f for f in run.findings if f.check is checks.TABLE_PROBE]
    assert finding.status is Status.FAIL
    assert finding.details["diagnosis"] == "access-denied"
    assert "dynamodb:PutItem" in finding.message
    assert "principals:\n  app:" in finding.details["config_fix"]
    set_auth(iam_deployed.endpoint, "inf")  # read back with the fake operator keys
    assert iam_deployed.leftovers() == {}


def test_unknown_operator_key_fails_the_credentials_check(
    iam_deployed: Deployed, enforce_iam: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    enforce_iam()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAZZZZZZZZZZZZZZZZ")
    run = Run(env=iam_deployed.env, operator=boto3.Session(region_name="us-east-1"))
    assert check_operator(run) is None
    [finding] = run.findings
    assert finding.check is checks.CREDENTIALS and finding.status is Status.FAIL
    assert finding.details["diagnosis"] == "invalid-access-key"


def test_unknown_principal_key_fails_the_principal_check(
    iam_deployed: Deployed, enforce_iam: Callable[[], None], tmp_path: Path
) -> None:
    from health_support import write_env_file

    enforce_iam()
    run = Run(env=iam_deployed.env, operator=boto3.Session(), principal=iam_deployed.env.principals["app"])
    bogus = write_env_file(tmp_path / "bogus.env", "AKIAZZZZZZZZZZZZZZZZ", "s" * 40)
    assert not _principal_ready(run, run.principal, bogus)  # type: ignore[arg-type]
    [finding] = run.findings
    assert finding.status is Status.FAIL and finding.details["diagnosis"] == "invalid-access-key"
    assert "...ZZZZ" in finding.message and "s" * 40 not in finding.message


# ------------------------------------------------------------------ the global-endpoint POST redirect


class _Redirect(http.server.BaseHTTPRequestHandler):
    """Answers like S3's global endpoint for a bucket in eu-central-1 (AWS behaviour, not reachable here)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            b"<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified "
            b"temporary endpoint.</Message><Endpoint>b.s3.eu-central-1.amazonaws.com</Endpoint></Error>"
        )
        self.send_response(307)
        self.send_header("Location", "https://b.s3.eu-central-1.amazonaws.com/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_presigned_post_redirected_from_the_global_endpoint_is_diagnosed(
    cors_moto: Emulator, write_config: Callable[..., Path]
) -> None:
    # A stand-in for S3's 307 (moto and rclone do not redirect): the probe must not follow it and
    # must explain the regional endpoint. Cleanup goes to moto (the operator's endpoint is separate).
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = rclone_env(write_config, f"http://127.0.0.1:{server.server_port}", method="presigned-post")
        run = Run(env=env, operator=boto3.Session(), principal=env.principals["app"])
        run.credentials = PrincipalCredentials("AKIAIOSFODNN7EXAMPLE", "secret", source="test")
        run.operator_client = lambda service: client(cors_moto.endpoint, service)  # type: ignore[method-assign]
        client(cors_moto.endpoint, "s3").create_bucket(Bucket=env.buckets["docs"].name)
        probes._presigned_post(
            run, run.principal_client("s3"), env.buckets["docs"], env.principals["app"].spec.grants[0]
        )
    finally:
        server.shutdown()
    post = [f for f in run.findings if f.check is checks.PRESIGNED_POST]
    assert len(post) == 1 and post[0].status is Status.FAIL
    assert post[0].details["diagnosis"] == "global-endpoint-post"
    assert "region_name='eu-central-1'" in post[0].message


# ------------------------------------------------------------------ which endpoints check signatures


def test_where_signatures_are_checked_the_credential_checks_pass(
    iam_deployed: Deployed, enforce_iam: Callable[[], None]
) -> None:
    # moto with IAM enforcement refuses a made-up key (InvalidClientTokenId), so its PASS is earned there;
    # without enforcement the same checks are not verifiable (test_run.py).
    enforce_iam()
    run = principal_run(iam_deployed)
    assert check_operator(run) == "123456789012"
    verdicts = {f.check.id: f for f in run.findings}
    for check_id in ("health.credentials", "health.principal-credentials"):
        assert verdicts[check_id].status is Status.PASS, verdicts[check_id].message


def test_where_made_up_keys_are_accepted_the_credential_checks_are_unknown(iam_deployed: Deployed) -> None:
    run = principal_run(iam_deployed)  # the same server and keys, enforcement off
    assert check_operator(run) == "123456789012"  # the probes still go on: the account is known
    verdicts = {f.check.id: f for f in run.findings}
    for check_id in ("health.credentials", "health.principal-credentials"):
        finding = verdicts[check_id]
        assert finding.status is Status.ERROR and finding.details["diagnosis"] == "signature-not-checked"
        assert f"{iam_deployed.endpoint} also accepted a request signed with a made-up access key" in finding.message
        assert "this endpoint accepts any signature" in finding.message


def test_a_server_error_to_a_presigned_request_is_unknown_never_a_failure(
    iam_deployed: Deployed, enforce_iam: Callable[[], None]
) -> None:
    # moto answers presigned URLs with HTTP 500 while it enforces IAM (tests/support/moto_gaps.py): a
    # server error says nothing about the principal's keys or grants.
    enforce_iam()
    run = principal_run(iam_deployed)
    check_object_round_trips(run)
    put = [f for f in run.findings if f.check is checks.PRESIGNED_PUT]
    assert put and {f.status for f in put} == {Status.ERROR}, [f.message for f in put]
    assert all(f.details["diagnosis"] == "not-verifiable" and "HTTP 500" in f.message for f in put)
    set_auth(iam_deployed.endpoint, "inf")  # read back with the fake operator keys
    assert iam_deployed.leftovers() == {}
