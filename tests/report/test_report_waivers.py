from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from report_samples import BUCKET, LOGS, PITR, TABLE, TLS, VERSIONING, report

from cargohold_core.errors import CargoholdError, ConfigError
from toolkit.findings import Severity, Status, Waiver, errored, failed, passed
from toolkit.report import waivers

TODAY = datetime.date(2026, 5, 1)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / waivers.WAIVERS_FILE
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def waiver(check: str, resource: str, expires: str = "2027-03-31") -> Waiver:
    return Waiver(check=check, resource=resource, reason="accepted", owner="team@example.com", expires=expires)


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> list[tuple[int, str, str]]:
    return [(p.line, p.path, p.message) for p in exc.value.problems]


# -- locate


def test_locate_prefers_the_explicit_file(tmp_path: Path) -> None:
    explicit = write(tmp_path, "waivers: []")
    assert waivers.locate(explicit, tmp_path / "config.yaml") == explicit


def test_locate_refuses_a_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(CargoholdError, match="waivers file not found") as exc:
        waivers.locate(tmp_path / "nope.yaml", tmp_path / "config.yaml")
    assert exc.value.hint and "--waivers" in exc.value.hint


def test_locate_finds_the_default_next_to_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    assert waivers.locate(None, config) is None
    default = write(tmp_path, "waivers: []")
    assert waivers.locate(None, config) == default


# -- load


def test_load_reads_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        waivers:
          - check: test.versioning
            resource: "arn:aws:s3:::acme-lms-dev-*"   # fnmatch pattern
            reason: access logs are write-once
            owner: platform-team@example.com
            expires: 2027-03-31
          - check: test.tls-only
            resource: arn:aws:s3:::one
            reason: quoted date
            owner: me
            expires: "2026-12-01"
        """,
    )
    loaded = waivers.load(path)
    assert [w.to_json() for w in loaded] == [
        {
            "check": "test.versioning",
            "resource": "arn:aws:s3:::acme-lms-dev-*",
            "reason": "access logs are write-once",
            "owner": "platform-team@example.com",
            "expires": "2027-03-31",
        },
        {
            "check": "test.tls-only",
            "resource": "arn:aws:s3:::one",
            "reason": "quoted date",
            "owner": "me",
            "expires": "2026-12-01",
        },
    ]


def test_load_without_a_file_waives_nothing(tmp_path: Path) -> None:
    assert waivers.load(None) == []
    assert waivers.load(write(tmp_path, "")) == []


def test_load_reports_every_problem_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        waivers:
          - check: test.versioning
            resource: arn:aws:s3:::a
            reasn: typo
            owner: me
            expires: 2027-03-31
          - check: test.versioning
            resource: arn:aws:s3:::b
            reason: ok
            owner: ""
            expires: next year
        """,
    )
    with pytest.raises(ConfigError) as exc:
        waivers.load(path)
    found = problems(exc)
    assert (4, "waivers[0].reasn", "unknown key 'reasn'; did you mean 'reason'?") in found
    assert (2, "waivers[0]", "required key 'reason' is missing") in found
    assert (10, "waivers[1].owner", "expected non-empty text, got ''") in found
    assert (11, "waivers[1].expires", "expected a date, got 'next year'") in found
    assert all(p.file == str(path) for p in exc.value.problems)
    assert any("YYYY-MM-DD" in (p.hint or "") for p in exc.value.problems)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- check: x\n", 1, "the file must be a mapping with a `waivers:` list"),
        ("waiver: []\n", 1, "unknown key 'waiver'; did you mean 'waivers'?"),
        ("waivers: {check: x}\n", 1, "expected a list (lines starting with '- ')"),
        ("waivers:\n  - just text\n", 2, "expected a mapping with `check`, `resource`, `reason`, `owner`, `expires`"),
        ("waivers:\n  - check: [unclosed\n", 3, "YAML syntax error"),
    ],
)
def test_load_refuses_a_malformed_file(tmp_path: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        waivers.load(write(tmp_path, text))
    assert any(p.line == line and p.message.startswith(message) for p in exc.value.problems), problems(exc)


def test_load_refuses_an_unknown_check_with_a_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        waivers:
          - check: test.versioning
            resource: "*"
            reason: ok
            owner: me
            expires: 2027-03-31
          - check: test.versionin
            resource: "*"
            reason: typo
            owner: me
            expires: 2027-03-31
        """,
    )
    with pytest.raises(ConfigError) as exc:
        waivers.load(path, known_ids=["test.versioning", "test.tls-only"])
    assert problems(exc) == [(7, "check", "unknown check 'test.versionin'; did you mean 'test.versioning'?")]


def test_apply_refuses_an_unknown_check_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "waivers:\n  - {check: s3.nothing, resource: '*', reason: r, owner: o, expires: 2027-01-01}\n"
    )
    loaded = waivers.load(path)  # the ids are only known once the checks have run
    with pytest.raises(ConfigError) as exc:
        waivers.apply(report([]), loaded, today=TODAY)
    assert [(p.file, p.line) for p in exc.value.problems] == [(str(path), 2)]


# -- apply


def test_apply_mutes_matching_failures_and_unknowns_only() -> None:
    r = report(
        [
            failed(VERSIONING, LOGS, "off"),
            failed(VERSIONING, BUCKET, "off"),
            errored(PITR, TABLE, "AccessDenied"),
            passed(TLS, LOGS, "on"),
        ]
    )
    waivers.apply(
        r,
        [
            waiver("test.versioning", "arn:aws:s3:::*-access-logs"),
            waiver("test.pitr", "*:table/*"),
            waiver("test.tls-only", "*"),
        ],
        today=TODAY,
    )
    muted = {(f.check.id, f.resource) for f in r.findings if f.waiver}
    assert muted == {("test.versioning", LOGS), ("test.pitr", TABLE)}
    assert r.counts() == {"pass": 1, "fail": 1, "error": 0, "waived": 2}
    assert [f.resource for f in r.problems()] == [BUCKET]
    # The TLS waiver only met a passing finding: it muted nothing.
    assert [w["check"] for w in r.stats["unused_waivers"]] == ["test.tls-only"]


def test_waiver_patterns_are_case_sensitive() -> None:
    r = report([failed(VERSIONING, LOGS, "off")])
    waivers.apply(r, [waiver("test.versioning", LOGS.upper())], today=TODAY)
    assert r.findings[0].waiver is None


def test_an_expired_waiver_mutes_nothing_and_is_a_finding() -> None:
    r = report([failed(VERSIONING, LOGS, "off")])
    stale = waiver("test.versioning", LOGS, expires="2026-04-30")
    waivers.apply(r, [stale], today=TODAY)
    assert r.findings[0].waiver is None and r.findings[0].status is Status.FAIL
    expired = [f for f in r.findings if f.check.id == "waiver.expired"]
    assert len(expired) == 1
    assert expired[0].status is Status.FAIL and expired[0].severity is Severity.MEDIUM
    assert "2026-04-30" in expired[0].message and LOGS in expired[0].message
    assert waivers.EXPIRED in r.checks
    assert r.stats["waivers"] == {"loaded": 1, "expired": 1}
    assert r.stats["unused_waivers"] == []  # expired is reported as such, not as unused


def test_a_waiver_is_valid_through_its_last_day() -> None:
    r = report([failed(VERSIONING, LOGS, "off")])
    waivers.apply(r, [waiver("test.versioning", LOGS, expires=TODAY.isoformat())], today=TODAY)
    assert r.findings[0].waiver is not None
    assert not any(f.check.id == "waiver.expired" for f in r.findings)


def test_a_waiver_for_a_check_that_did_not_run_is_not_unused() -> None:
    r = report([failed(VERSIONING, LOGS, "off")], checks=[VERSIONING])
    waivers.apply(r, [waiver("test.pitr", "*"), waiver("test.versioning", "arn:aws:s3:::other")], today=TODAY)
    assert [w["check"] for w in r.stats["unused_waivers"]] == ["test.versioning"]


def test_expired_check_is_fully_declared() -> None:
    check = waivers.EXPIRED
    assert check.id == "waiver.expired" and check.severity is Severity.MEDIUM
    for name in ("title", "category", "service", "remediation", "config_fix"):
        assert getattr(check, name).strip(), name
    assert "expires:" in check.config_fix


def test_load_locates_an_impossible_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "waivers:\n  - check: test.pitr\n    resource: '*'\n    reason: r\n    owner: o\n    expires: 2027-13-31\n",
    )
    with pytest.raises(ConfigError) as exc:
        waivers.load(path)
    [problem] = exc.value.problems
    assert (problem.line, problem.column) == (6, 14)
    assert "2027-13-31" in problem.message and "YYYY-MM-DD" in (problem.hint or "")


def test_apply_knows_the_checks_of_every_command() -> None:
    # A waivers file shared by audit, health and cost: during an audit, a waiver of a check that only
    # another command runs is valid, and not unused. A fresh interpreter, where no health module is loaded.
    script = (
        "import sys\n"
        "from toolkit.findings import Report, Waiver\n"
        "from toolkit.report import waivers\n"
        "assert 'toolkit.health.checks' not in sys.modules\n"
        "r = Report(command='audit', project='p', environment='e', region='r', account='a', "
        "started_at='2026-05-01T10:00:00Z', duration_s=0.1, tool_version='0')\n"
        "w = Waiver(check='health.cors-allowed-origin', resource='*', reason='r', owner='o', expires='2099-01-01')\n"
        "waivers.apply(r, [w])\n"
        "print(r.stats['unused_waivers'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_command_declares_checks_where_waivers_look() -> None:
    prefixes = {check_id.split(".")[0] for check_id in waivers.catalogue_ids()}
    assert prefixes >= {"s3", "iam", "dynamodb", "drift", "health", "cost", "waiver"}
