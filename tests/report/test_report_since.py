from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_samples import BUCKET, LOGS, PITR, TABLE, TLS, VERSIONING, report

from cargohold_core.errors import CargoholdError
from toolkit.findings import Report, Waiver, errored, failed, passed
from toolkit.report import render, since

WAIVER = Waiver(check="test.pitr", resource="*", reason="r", owner="o", expires="2027-01-01")


def earlier() -> Report:
    return report(
        [
            failed(TLS, LOGS, "plain HTTP allowed"),  # will pass
            failed(VERSIONING, BUCKET, "off"),  # will still fail
            errored(PITR, TABLE, "AccessDenied"),  # will be waived
            failed(VERSIONING, LOGS, "off"),  # will be gone
            failed(TLS, "arn:aws:s3:::waived-before", "x", waiver=WAIVER),  # was waived: not a problem
        ]
    )


def later() -> Report:
    return report(
        [
            passed(TLS, LOGS, "TLS required"),
            failed(VERSIONING, BUCKET, "off"),
            errored(PITR, TABLE, "AccessDenied", waiver=WAIVER),
            failed(TLS, "arn:aws:s3:::waived-before", "x"),  # waiver expired: new
            failed(TLS, BUCKET, "plain HTTP allowed"),  # new
        ]
    )


def saved(tmp_path: Path, r: Report) -> Path:
    path = tmp_path / "before.json"
    path.write_text(render(r, "json"))
    return path


def test_compare_finds_new_and_resolved_problems(tmp_path: Path) -> None:
    comparison = since.compare(since.load(saved(tmp_path, earlier())), later())
    assert sorted((f["check"], f["resource"]) for f in comparison["new"]) == [
        ("test.tls-only", "arn:aws:s3:::acme-lms-dev-photos"),
        ("test.tls-only", "arn:aws:s3:::waived-before"),
    ]
    assert sorted((f["check"], f["resource"], f["now"]) for f in comparison["resolved"]) == [
        ("test.pitr", TABLE, "waived"),
        ("test.tls-only", LOGS, "pass"),
        ("test.versioning", LOGS, "gone"),
    ]
    assert comparison["counts"] == {"new": 2, "resolved": 3, "unchanged": 1}
    assert comparison["since"]["started_at"] == "2026-05-01T10:00:00Z"


def test_compare_with_itself_changes_nothing(tmp_path: Path) -> None:
    r = earlier()
    comparison = since.compare(since.load(saved(tmp_path, r)), r)
    assert comparison["new"] == [] and comparison["resolved"] == []
    assert comparison["counts"]["unchanged"] == len(r.problems())


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_human_formats_show_the_comparison(tmp_path: Path, fmt: str) -> None:
    r = later()
    r.comparison = since.compare(since.load(saved(tmp_path, earlier())), r)
    out = render(r, fmt)
    assert "2 new, 3 resolved, 1 unchanged" in out
    assert "waived-before" in out and "gone" in out


def test_compare_refuses_another_environment(tmp_path: Path) -> None:
    previous = since.load(saved(tmp_path, earlier()))
    with pytest.raises(CargoholdError, match="environment 'dev', this run for 'prod'"):
        since.compare(previous, report([], environment="prod"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "is not a cargohold JSON report"),
        ('{"tool": {"name": "prowler"}, "schema_version": "1.0", "findings": []}', "is not a cargohold JSON report"),
        ('{"tool": {"name": "cargohold"}, "schema_version": "2.0", "findings": []}', "schema_version '2.0'"),
        ('{"tool": {"name": "cargohold"}, "findings": []}', "schema_version None"),
        ('{"tool": {"name": "cargohold"}, "schema_version": "1.0", "findings": [{"status": "fail"}]}', "findings"),
    ],
)
def test_load_refuses_what_is_not_an_earlier_report(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "before.json"
    path.write_text(content)
    with pytest.raises(CargoholdError, match=message) as exc:
        since.load(path)
    assert exc.value.hint


def test_load_points_at_the_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "before.json"
    path.write_text('{\n  "tool": {"name": "cargohold"},\n  "schema_version": "1.0",,\n}')
    with pytest.raises(CargoholdError, match=r"before\.json:3:"):
        since.load(path)


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CargoholdError, match="file not found"):
        since.load(tmp_path / "nope.json")


def test_load_reads_what_json_format_writes(tmp_path: Path) -> None:
    r = earlier()
    assert since.load(saved(tmp_path, r))["findings"] == json.loads(render(r, "json"))["findings"]
