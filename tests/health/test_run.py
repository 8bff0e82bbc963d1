"""`run_health` end to end against moto servers over HTTP: each probe's passing and failing case,
and cleanup after both."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from health_support import Deployed, example_config, write_env_file

from tests.support.faulty_s3 import FaultyS3
from toolkit.demo.emulator import Emulator
from toolkit.findings import Finding, Report, Status
from toolkit.health.run import run_health


def by_check(report: Report, check_id: str) -> list[Finding]:
    return [f for f in report.findings if f.check.id == check_id]


def statuses(report: Report, check_id: str) -> set[Status]:
    return {f.status for f in by_check(report, check_id)}


def only(report: Report, check_id: str) -> Finding:
    found = by_check(report, check_id)
    assert len(found) == 1, [f.to_json() for f in found]
    return found[0]


def run(deployed: Deployed, **kw: Any) -> Report:
    kw.setdefault("principal", "app")
    kw.setdefault("credentials", deployed.credentials)
    return run_health(deployed.env, project=deployed.project, **kw)


@pytest.fixture
def healthy(cors_moto: Emulator, deploy: Callable[..., Deployed]) -> tuple[Deployed, Report]:
    deployed = deploy(cors_moto.endpoint)
    return deployed, run(deployed)


# The probes whose PASS would mean "the endpoint accepted this signature": moto without IAM enforcement
# accepts any signature (even a made-up key), so there they are not verifiable (ERROR), never PASS.
SIGNATURE_PROBES = (
    "health.credentials",
    "health.principal-credentials",
    "health.presigned-put-get-delete",
    "health.presigned-post",
    "health.table-put-get-delete",
)


def test_healthy_environment_passes_every_probe_moto_can_show(healthy: tuple[Deployed, Report]) -> None:
    deployed, report = healthy
    for check_id in (
        "health.account",
        "health.bucket-exists",
        "health.bucket-region",
        "health.cors-allowed-origin",
        "health.cors-refused-origin",
    ):
        assert statuses(report, check_id) == {Status.PASS}, [f.to_json() for f in by_check(report, check_id)]
    assert len(by_check(report, "health.bucket-exists")) == 2
    assert len(by_check(report, "health.cors-allowed-origin")) == 2  # both configured origins, wildcard included
    assert report.account == "123456789012"
    assert report.data["principal"] == "app"
    assert str(deployed.credentials) in report.data["credentials"]


def test_probes_that_rest_on_a_signature_are_not_verifiable_where_any_signature_is_accepted(
    healthy: tuple[Deployed, Report],
) -> None:
    # Issue 13: these passed on moto although moto would have accepted any key at all. Each still ran and
    # says what it saw (the round trip went through), but its verdict is unknown, with the reason.
    _, report = healthy
    for check_id in SIGNATURE_PROBES:
        found = by_check(report, check_id)
        assert found and {f.status for f in found} == {Status.ERROR}, [f.to_json() for f in found]
        for finding in found:
            assert finding.message.startswith("not verifiable on this endpoint"), finding.message
            assert "accepted a request signed with a made-up access key" in finding.message
            assert finding.details["diagnosis"] == "signature-not-checked"
    put = only(report, "health.presigned-put-get-delete")
    assert "PUT, GET, DELETE" in put.message and "uploads/cargohold-health-" in put.message  # what it saw
    assert "credentials work: arn:aws:sts::123456789012:user/moto" in only(report, "health.credentials").message


def test_probes_leave_nothing_behind_even_in_a_versioned_bucket(healthy: tuple[Deployed, Report]) -> None:
    deployed, _ = healthy
    assert deployed.leftovers() == {}


def test_post_policy_is_reported_not_verifiable_on_moto(healthy: tuple[Deployed, Report]) -> None:
    # moto does not evaluate POST policies: the wrong Content-Type is accepted. The probe says so
    # (ERROR: unknown) instead of a PASS it could not earn; on AWS the same POST gets a 403.
    _, report = healthy
    finding = only(report, "health.presigned-post-policy")
    assert finding.status is Status.ERROR
    assert finding.message.startswith("not verifiable on this endpoint")
    assert finding.details["diagnosis"] == "not-verifiable"


def test_least_privilege_is_unknown_where_the_endpoint_enforces_nothing(healthy: tuple[Deployed, Report]) -> None:
    # moto without IAM enforcement allows everything, even a made-up key: nothing can be concluded
    # about the principal there (test_signed_probes shows the FAIL on an enforcing server).
    _, report = healthy
    denied = by_check(report, "health.least-privilege-denied")
    assert {f.status for f in denied} == {Status.ERROR}
    actions = sorted(f.details["action"] for f in denied)
    assert actions == ["dynamodb:DescribeTable", "s3:ListAllMyBuckets", "s3:ListBucket"]
    assert all("not verifiable on this endpoint" in f.message for f in denied)


def test_missing_bucket_and_table_are_diagnosed_and_not_probed(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed = deploy(cors_moto.endpoint, skip_buckets=("docs",), skip_tables=("courses",))
    report = run(deployed)
    docs = deployed.env.buckets["docs"].arn
    missing = [f for f in by_check(report, "health.bucket-exists") if f.resource == docs]
    assert missing[0].status is Status.FAIL
    assert missing[0].details["diagnosis"] == "no-such-bucket"
    assert "cargohold apply" in missing[0].message
    assert by_check(report, "health.presigned-put-get-delete") == []  # nothing to probe in a missing bucket
    assert by_check(report, "health.cors-allowed-origin") == []
    table = only(report, "health.table-put-get-delete")
    assert table.status is Status.FAIL
    assert table.details["diagnosis"] == "no-such-table"
    assert deployed.leftovers() == {}


def test_bucket_in_another_region_is_a_region_mismatch(cors_moto: Emulator, deploy: Callable[..., Deployed]) -> None:
    deployed = deploy(cors_moto.endpoint, bucket_regions={"private": "eu-west-1"})
    report = run(deployed)
    private = deployed.env.buckets["private"].arn
    finding = next(f for f in by_check(report, "health.bucket-region") if f.resource == private)
    assert finding.status is Status.FAIL
    assert finding.details["diagnosis"] == "region-mismatch"
    assert (finding.expected, finding.actual) == ("us-east-1", "eu-west-1")
    assert "eu-west-1" in finding.message


def test_cors_origin_missing_from_the_bucket_fails_with_the_fix(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed_rules = {
        "docs": [
            {"AllowedOrigins": ["https://lms.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"]}
        ]
    }
    deployed = deploy(cors_moto.endpoint, cors=deployed_rules)
    report = run(deployed)
    results = {f.resource.split("origin ")[1].rstrip(")"): f for f in by_check(report, "health.cors-allowed-origin")}
    assert results["https://lms.example.com"].status is Status.PASS
    refused = results["https://*.preview.example.com"]
    assert refused.status is Status.FAIL
    assert refused.details["diagnosis"] == "cors-origin-not-allowed"
    assert refused.details["deployed_origins"] == ["https://lms.example.com"]
    assert "buckets.docs.cors[].allowed_origins" in refused.message
    assert "https://cargohold-probe.preview.example.com" in refused.message
    assert statuses(report, "health.cors-refused-origin") == {Status.PASS}


def test_cors_refused_origin_fails_when_the_bucket_allows_every_origin(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    # The deployed rules drifted to AllowedOrigins ["*"] while config.yaml lists two origins.
    drifted = {"docs": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"]}]}
    deployed = deploy(cors_moto.endpoint, cors=drifted)
    report = run(deployed)
    finding = only(report, "health.cors-refused-origin")
    assert finding.status is Status.FAIL
    assert "https://not-allowed.invalid" in finding.message
    assert finding.details == {"diagnosis": "cors-origin-too-broad", "deployed_origins": ["*"]}
    assert statuses(report, "health.cors-allowed-origin") == {Status.PASS}


def test_a_server_error_to_a_preflight_is_not_verifiable_never_refused(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed = deploy(cors_moto.endpoint)
    with FaultyS3(cors_moto.endpoint, fraction=1.0, faults=["internal"], methods={"OPTIONS"}) as proxy:
        through = dataclasses.replace(deployed, env=deployed.env.at_endpoint(proxy.endpoint))
        report = run(through)
        assert proxy.injected["internal"] > 0
    for check in ("health.cors-refused-origin", "health.cors-allowed-origin"):
        assert statuses(report, check) == {Status.ERROR}, check
    refused = only(report, "health.cors-refused-origin")
    assert refused.details == {"diagnosis": "not-verifiable", "status": 500}
    assert "HTTP 500" in refused.message and "not a CORS answer" in refused.message


def test_wildcard_origin_in_config_skips_the_refused_probe(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    config = example_config(cors_moto.endpoint, "hcwildcard1")
    config["buckets"]["docs"]["cors"][0]["allowed_origins"] = ["*"]
    deployed = deploy(cors_moto.endpoint, config=config)
    report = run(deployed)
    assert by_check(report, "health.cors-refused-origin") == []
    assert any(s["check"] == "health.cors-refused-origin" for s in report.data["skipped"])


def test_user_principal_without_credentials_is_an_error_with_the_way_to_provide_them(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed = deploy(cors_moto.endpoint)
    report = run(deployed, credentials=None)
    finding = only(report, "health.principal-credentials")
    assert finding.status is Status.ERROR
    assert "--credentials" in finding.message and "AWS_SECRET_ACCESS_KEY" in finding.message
    assert by_check(report, "health.presigned-put-get-delete") == []


def test_role_principal_is_assumed_with_the_operators_credentials(
    cors_moto: Emulator, deploy: Callable[..., Deployed]
) -> None:
    deployed = deploy(cors_moto.endpoint)
    report = run(deployed, principal="uploader", credentials=None)
    creds = only(report, "health.principal-credentials")
    assert creds.status is Status.ERROR and creds.details["diagnosis"] == "signature-not-checked"  # moto: any key
    assert ":assumed-role/" in creds.message and "/cargohold-health" in creds.message
    put = only(report, "health.presigned-put-get-delete")
    assert put.status is Status.ERROR and put.details["diagnosis"] == "signature-not-checked"
    assert "PUT" in put.message and "GET" not in put.message  # write only: no read or delete granted
    assert "uploads/" in put.message
    assert deployed.leftovers() == {}


def test_keys_of_another_identity_fail_the_principal_check(
    cors_moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(cors_moto.endpoint)
    other = write_env_file(tmp_path / "other.env", "AKIAIOSFODNN7EXAMPLE", "x" * 40)
    report = run(deployed, credentials=other)
    finding = only(report, "health.principal-credentials")
    assert finding.status is Status.FAIL
    assert "not to principal 'app'" in finding.message
    assert "x" * 40 not in str(report.to_json())  # the secret never appears


def test_unknown_principal_is_a_usage_error(cors_moto: Emulator, deploy: Callable[..., Deployed]) -> None:
    from cargohold_core.errors import CargoholdError

    deployed = deploy(cors_moto.endpoint)
    with pytest.raises(CargoholdError, match="no principal 'nope'") as info:
        run(deployed, principal="nope")
    assert info.value.hint is not None and "app" in info.value.hint


def test_an_endpoint_that_is_down_is_unknown_not_a_failed_check(
    deploy: Callable[..., Deployed], cors_moto: Emulator
) -> None:
    # Issue 13: health called this a failure (exit 2, "findings") where audit says "could not run" (exit 1).
    # The CLI's account guard stops first; the library's verdict must agree with it all the same.
    import socket

    from toolkit.findings import Severity
    from toolkit.report.command import EXIT_ERROR, exit_code

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # released on exit: nothing listens there
    deployed = deploy(cors_moto.endpoint)
    down = dataclasses.replace(deployed, env=deployed.env.at_endpoint(f"http://127.0.0.1:{port}"))
    report = run(down)
    finding = only(report, "health.credentials")
    assert finding.status is Status.ERROR, finding.to_json()
    assert finding.details["diagnosis"] == "unreachable"
    assert exit_code(report, Severity.LOW) == EXIT_ERROR
