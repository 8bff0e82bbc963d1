"""The security-finding formats, read back by what consumes them.

- asff: each finding held to AWS's model of AwsSecurityFinding (tests/support/asff_model.py: botocore's
  securityhub model, with the length limits its documentation states), the batch to botocore's own request
  validation, and, through `cargohold audit --format asff` against the moto server, imported with
  BatchImportFindings in batches of 100.
- ocsf: each event read back as a Detection Finding with py-ocsf-models (tests/support/ocsf_model.py), the
  models prowler writes its OCSF with, and its enums checked against each other.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from report_samples import BUCKET, EVIL, LOGS, PITR, ROOT_KEYS, TABLE, TLS, VERSIONING, mixed, report

from cargohold_core.errors import CargoholdError
from tests.support import asff_model, ocsf_model
from toolkit.cli import main
from toolkit.demo.emulator import Emulator
from toolkit.findings import Finding, Report, Scope, Status, Waiver, errored, failed, passed
from toolkit.report import render, waivers
from toolkit.report.asff_format import BATCH_LIMIT
from toolkit.report.security_finding import Where, aws_resource

WAIVER = Waiver(
    check="test.versioning", resource="arn:aws:s3:::*photos", reason="accepted", owner="o", expires="2999-01-01"
)
DEV, PROD = "111111111111", "222222222222"


def waived() -> Report:
    r = mixed()
    waivers.apply(r, [WAIVER])
    return r


def several_accounts() -> Report:
    """An `audit --all-envs` report: dev in eu-west-1, prod in us-east-1, each finding with its own account."""
    prod_bucket = "arn:aws:s3:::acme-lms-prod-photos"

    def at(finding: Finding, account: str, environment: str) -> Finding:
        return replace(finding, account=account, environment=environment)

    return report(
        [
            at(failed(TLS, BUCKET, "plain HTTP is allowed", region="eu-west-1"), DEV, "dev"),
            at(passed(TLS, prod_bucket, "TLS is required", region="us-east-1"), PROD, "prod"),
            at(failed(ROOT_KEYS, "account", "the root user has 1 access key"), PROD, "prod"),
            at(errored(PITR, "arn:aws:dynamodb:us-east-1:222222222222:table/jobs", "AccessDenied"), PROD, "prod"),
        ],
        account=None,
        environment="all",
        scopes=[Scope("dev", DEV, "eu-west-1"), Scope("prod", PROD, "us-east-1")],
    )


def asff(r: Report) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(render(r, "asff"))
    return findings


def ocsf(r: Report) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(render(r, "ocsf"))
    return events


BUILDS: list[Callable[[], Report]] = [mixed, waived, several_accounts, lambda: report([])]


# -- ASFF


@pytest.mark.parametrize("build", BUILDS)
def test_asff_findings_match_the_securityhub_model(build: Callable[[], Report]) -> None:
    r = build()
    findings = asff(r)
    assert len(findings) == len(r.findings)
    assert [(i, p) for i, f in enumerate(findings) for p in asff_model.finding_problems(f)] == []
    for start in range(0, len(findings), BATCH_LIMIT):
        assert asff_model.batch_problems(findings[start : start + BATCH_LIMIT]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.update(Title="x" * 257), "257 characters, more than 256"),
        (lambda f: f.update(Description="x" * 1025), "more than 1024"),
        (lambda f: f["Severity"].update(Label="SEVERE"), "'SEVERE' is not one of"),
        (lambda f: f.pop("Resources"), "required member Resources is missing"),
        (lambda f: f.pop("Types"), "required attribute Types is missing"),
        (lambda f: f.update(Bogus=1), "has no member Bogus"),
        (lambda f: f.update(AwsAccountId="1234"), "fewer than 12"),
        (lambda f: f.update(Types=["Bogus Checks/x"]), "is not namespace/category/classifier"),
        (lambda f: f.update(CreatedAt="2026-05-01 10:00"), "not an RFC 3339 date-time"),
        (lambda f: f["Compliance"].update(Status="PASS"), "'PASS' is not one of"),
        (lambda f: f["ProductFields"].update({"k": "v" * 2049}), "2049 characters, more than 2048"),
        (lambda f: f.update(Resources=[{"Type": "Other", "Id": "x"}] * 33), "33 items, more than 32"),
    ],
)
def test_asff_model_check_catches_a_broken_finding(change: Callable[[dict[str, Any]], Any], expected: str) -> None:
    finding = copy.deepcopy(asff(mixed())[1])
    assert asff_model.finding_problems(finding) == []
    change(finding)
    assert any(expected in p for p in asff_model.finding_problems(finding)), asff_model.finding_problems(finding)


def test_asff_statuses_severities_and_controls() -> None:
    r = mixed()
    by = {(f["ProductFields"]["cargohold/CheckId"], f["ProductFields"]["cargohold/Resource"]): f for f in asff(r)}
    tls_pass, tls_fail = by[("test.tls-only", BUCKET)], by[("test.tls-only", LOGS)]
    unknown, root, idle = by[("test.pitr", TABLE)], by[("test.root-keys", "account")], by[("test.idle-bucket", BUCKET)]
    assert [x["Compliance"]["Status"] for x in (tls_pass, tls_fail, unknown)] == ["PASSED", "FAILED", "WARNING"]
    # A pass is INFORMATIONAL whatever the check's severity; the check's own stays in Original.
    assert tls_pass["Severity"] == {"Label": "INFORMATIONAL", "Original": "high"}
    assert (
        tls_fail["Severity"] == {"Label": "HIGH", "Original": "high"} == tls_fail["FindingProviderFields"]["Severity"]
    )
    assert unknown["Severity"] == {"Label": "LOW", "Original": "low"}  # an unknown keeps the check's severity
    assert root["Severity"]["Label"] == "CRITICAL" and idle["Severity"] == {
        "Label": "INFORMATIONAL",
        "Original": "info",
    }
    assert tls_fail["Compliance"] == {"Status": "FAILED", "SecurityControlId": "S3.5", "RelatedRequirements": ["S3.5"]}
    assert idle["Compliance"] == {"Status": "PASSED"}  # no Security Hub control for this check
    assert tls_fail["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]
    assert idle["Types"] == ["Software and Configuration Checks"]
    assert tls_fail["GeneratorId"] == "cargohold/test.tls-only"
    assert tls_fail["ProductArn"] == "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    assert tls_fail["Title"] == "Bucket refuses plain HTTP: acme-lms-dev-access-logs"
    assert tls_fail["Description"] == "plain HTTP is allowed (expected: True; actual: False)"
    assert tls_fail["Remediation"] == {"Recommendation": {"Text": TLS.remediation}}
    assert tls_fail["CreatedAt"] == tls_fail["UpdatedAt"] == "2026-05-01T10:00:00Z"
    assert tls_fail["ProductFields"]["cargohold/Fingerprint"] == r.findings[1].fingerprint
    assert tls_fail["ProductFields"]["cargohold/Checkov"] == "CKV_AWS_70"
    assert [x["Resources"][0]["Type"] for x in (tls_fail, unknown, root)] == [
        "AwsS3Bucket",
        "AwsDynamoDbTable",
        "AwsAccount",
    ]
    assert root["Resources"][0]["Id"] == "AWS::::Account:123456789012"
    assert by[("test.versioning", EVIL)]["Resources"][0] == {
        "Type": "Other",
        "Id": EVIL,
        "Partition": "aws",
        "Region": "eu-west-1",
    }
    assert all(x["RecordState"] == "ACTIVE" and "Workflow" not in x and "Note" not in x for x in by.values())


def test_asff_waived_finding_is_suppressed_and_keeps_its_verdict() -> None:
    findings = asff(waived())
    [w] = [f for f in findings if "Workflow" in f]
    assert (
        w["ProductFields"]["cargohold/Resource"] == BUCKET
        and w["ProductFields"]["cargohold/CheckId"] == "test.versioning"
    )
    assert w["Workflow"] == {"Status": "SUPPRESSED"} and w["RecordState"] == "ACTIVE"
    assert w["Compliance"]["Status"] == "FAILED"
    assert w["Note"] == {
        "Text": "Waived until 2999-01-01 by o: accepted",
        "UpdatedBy": "o",
        "UpdatedAt": "2026-05-01T10:00:00Z",
    }
    assert (w["ProductFields"]["cargohold/WaiverReason"], w["ProductFields"]["cargohold/WaiverExpires"]) == (
        "accepted",
        "2999-01-01",
    )


def test_asff_ids_are_stable_and_the_same_alone_or_with_other_accounts() -> None:
    first, again = asff(mixed()), asff(mixed())
    assert [f["Id"] for f in first] == [f["Id"] for f in again]
    assert len({f["Id"] for f in first}) == len(first)
    alone = asff(report([failed(TLS, BUCKET, "plain HTTP is allowed")], account=DEV))
    together = [f for f in asff(several_accounts()) if f["AwsAccountId"] == DEV]
    assert alone[0]["Id"] == together[0]["Id"] == f"cargohold/{DEV}/test.tls-only/{alone[0]['Id'].rsplit('/', 1)[1]}"
    elsewhere = asff(report([failed(TLS, BUCKET, "plain HTTP is allowed")], account=PROD))
    assert elsewhere[0]["Id"] != alone[0]["Id"]


def test_asff_clips_long_text_to_the_documented_limits() -> None:
    resource = "arn:aws:s3:::b/" + "k" * 400
    r = report([failed(VERSIONING, resource, "m" * 2000, expected="e" * 100, actual="a")])
    [finding] = asff(r)
    assert len(finding["Title"]) == 256 and finding["Title"].endswith("…")
    assert len(finding["Description"]) == 1024 and finding["Description"].endswith("…")
    assert asff_model.finding_problems(finding) == []


def test_asff_needs_the_account() -> None:
    with pytest.raises(CargoholdError, match="needs its AWS account id") as exc:
        render(report([passed(TLS, BUCKET, "ok")], account=None), "asff")
    assert "--format json" in (exc.value.hint or "")
    assert asff(report([], account=None)) == []


def test_asff_partition_follows_the_region() -> None:
    bucket = "arn:aws-cn:s3:::acme-cn-photos"
    [finding] = asff(report([failed(TLS, bucket, "plain HTTP")], region="cn-north-1"))
    assert finding["ProductArn"] == "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"
    assert finding["Resources"] == [
        {"Type": "AwsS3Bucket", "Id": bucket, "Partition": "aws-cn", "Region": "cn-north-1"}
    ]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (BUCKET, ("AwsS3Bucket", BUCKET, "acme-lms-dev-photos")),
        (f"{BUCKET} (origin https://app.example.com)", ("AwsS3Bucket", BUCKET, "acme-lms-dev-photos")),
        (f"{BUCKET}/uploads/*", ("Other", f"{BUCKET}/uploads/*", f"{BUCKET}/uploads/*")),
        (TABLE, ("AwsDynamoDbTable", TABLE, "acme-lms-dev-jobs")),
        (f"{TABLE}/index/by-email", ("Other", f"{TABLE}/index/by-email", f"{TABLE}/index/by-email")),
        (
            "arn:aws:iam::123456789012:role/app/worker",
            ("AwsIamRole", "arn:aws:iam::123456789012:role/app/worker", "worker"),
        ),
        ("arn:aws:iam::123456789012:user/app", ("AwsIamUser", "arn:aws:iam::123456789012:user/app", "app")),
        ("arn:aws:iam::123456789012:root", ("AwsAccount", "AWS::::Account:123456789012", "123456789012")),
        ("account", ("AwsAccount", "AWS::::Account:123456789012", "123456789012")),
        ("https://b.s3.amazonaws.com/", ("Other", "https://b.s3.amazonaws.com/", "https://b.s3.amazonaws.com/")),
    ],
)
def test_resources_are_typed_as_security_hub_types_them(resource: str, expected: tuple[str, str, str]) -> None:
    found = aws_resource(failed(TLS, resource, "m"), Where("123456789012", "eu-west-1", "dev"))
    assert (found.type, found.id, found.name) == expected


# -- OCSF


@pytest.mark.parametrize("build", BUILDS)
def test_ocsf_events_read_back_as_detection_findings(build: Callable[[], Report]) -> None:
    r = build()
    events = ocsf(r)
    assert len(events) == len(r.findings)
    assert [(i, p) for i, e in enumerate(events) for p in ocsf_model.problems(e)] == []
    assert all(e["metadata"]["version"] == ocsf_model.MODELS_OCSF_VERSION for e in events)


def test_ocsf_model_check_catches_a_broken_event() -> None:
    event = ocsf(mixed())[1]
    for change in (
        lambda e: e.update(severity_id=7),
        lambda e: e.update(time="soon"),
        lambda e: e["finding_info"].pop("uid"),
        lambda e: e["cloud"].update(acount={}),
    ):
        broken = copy.deepcopy(event)
        change(broken)
        assert ocsf_model.problems(broken) != []


def test_ocsf_enums_agree_with_each_other_and_with_the_findings() -> None:
    r = waived()
    started = int(datetime(2026, 5, 1, 10, tzinfo=UTC).timestamp() * 1000)
    for event, finding in zip(ocsf(r), r.findings, strict=True):
        assert (event["category_uid"], event["category_name"]) == (2, "Findings")
        assert (event["class_uid"], event["class_name"]) == (2004, "Detection Finding")
        assert (event["activity_id"], event["activity_name"]) == (1, "Create")
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"] == 200401
        assert event["type_name"] == "Detection Finding: Create"
        assert SeverityID(event["severity_id"]).name == event["severity"]
        assert StatusID(event["status_id"]).name == event["status"]
        assert event["status_code"] == finding.status.value.upper()
        assert event["status_detail"] == finding.message
        assert event["time"] == event["finding_info"]["created_time"] == started  # milliseconds
        assert event["time_dt"] == "2026-05-01T10:00:00Z"
        assert event["metadata"]["event_code"] == finding.check.id
        assert event["unmapped"]["fingerprint"] == finding.fingerprint
        assert event["unmapped"]["check_severity"] == finding.check.severity.label
        caption = {"info": "Informational"}.get(finding.check.severity.label, finding.check.severity.label.capitalize())
        assert event["severity"] == ("Informational" if finding.status is Status.PASS else caption)
        if finding.waiver is not None:
            assert (event["status_id"], event["status"]) == (3, "Suppressed")
            assert event["unmapped"]["waiver"]["reason"] == "accepted"
        else:
            assert (event["status_id"], event["status"]) == (1, "New") and "waiver" not in event["unmapped"]
    assert sum(e["status_id"] == 3 for e in ocsf(r)) == 1


def test_ocsf_without_an_account_leaves_cloud_account_out() -> None:
    [event] = ocsf(report([errored(PITR, TABLE, "no credentials")], account=None))
    assert event["cloud"] == {"provider": "AWS", "region": "eu-west-1"}
    assert ocsf_model.problems(event) == []


# -- both


@pytest.mark.parametrize("caller", [None, "999999999999"])
def test_a_report_over_several_accounts_gives_each_finding_its_own_account(caller: str | None) -> None:
    r = several_accounts()
    r.account = caller  # the account whose credentials ran it (an organisation's management account) is no finding's
    expected = [
        (DEV, "eu-west-1", "dev"),
        (PROD, "us-east-1", "prod"),
        (PROD, "us-east-1", "prod"),
        (PROD, "us-east-1", "prod"),
    ]
    findings, events = asff(r), ocsf(r)
    assert [
        (f["AwsAccountId"], f["ProductArn"].split(":")[3], f["ProductFields"]["cargohold/Environment"])
        for f in findings
    ] == expected
    for f, (account, region, _) in zip(findings, expected, strict=True):
        assert f["ProductArn"] == f"arn:aws:securityhub:{region}:{account}:product/{account}/default"
    assert findings[2]["Resources"][0]["Id"] == f"AWS::::Account:{PROD}"  # "account" is the finding's own account
    assert [
        (e["cloud"]["account"]["uid"], e["cloud"]["region"], e["cloud"]["account"]["name"]) for e in events
    ] == expected
    assert events[2]["resources"][0]["uid"] == f"arn:aws:iam::{PROD}:root"
    assert [f["Id"] for f in findings] == [e["finding_info"]["uid"] for e in events]  # one identity in both formats


# -- through the CLI, against the moto server


CONFIG = """\
version: 1
project: shub
environments:
  test: {{region: us-east-1, account: "123456789012", endpoint: {endpoint}}}
buckets:
  docs: {{versioning: true}}
"""


def test_audit_writes_asff_that_security_hub_imports(
    tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(endpoint=moto.endpoint), encoding="utf-8")
    out = tmp_path / "audit.asff.json"
    argv = ["audit", "--config", str(config), "--env", "test", "--format", "asff", "--output", str(out)]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert result.exit_code in (1, 2), result.output  # the bucket is missing: drift
    findings = json.loads(out.read_text(encoding="utf-8"))
    assert findings and all(f["AwsAccountId"] == "123456789012" for f in findings)
    assert [p for f in findings for p in asff_model.finding_problems(f)] == []
    missing = [f for f in findings if f["ProductFields"]["cargohold/CheckId"] == "drift.missing"]
    assert missing and all(f["Compliance"]["Status"] == "FAILED" for f in missing)

    hub = boto3.client("securityhub", endpoint_url=moto.endpoint, region_name="us-east-1")
    for _ in range(2):  # the second import updates the same findings (same Ids), it adds none
        for start in range(0, len(findings), BATCH_LIMIT):
            answer = hub.batch_import_findings(Findings=findings[start : start + BATCH_LIMIT])
            assert (answer["FailedCount"], answer["SuccessCount"]) == (0, len(findings[start : start + BATCH_LIMIT]))
    stored = {f["Id"] for page in hub.get_paginator("get_findings").paginate() for f in page["Findings"]}
    assert {f["Id"] for f in findings} <= stored
