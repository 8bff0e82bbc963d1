"""A drift finding's line says what config.yaml expects and what is live, in every human format."""

from __future__ import annotations

from report_samples import VERSIONING, report

from toolkit.audit.drift import CHANGED
from toolkit.findings import Finding, failed
from toolkit.report import render
from toolkit.report.view import VALUE_WIDTH, differences

BUCKET = "arn:aws:s3:::acme-lms-dev-docs"
LONG_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{n}" for n in range(30)]}]}


def drift() -> Finding:
    return failed(
        CHANGED,
        BUCKET,
        "bucket docs: versioning, tags, lifecycle, policy differ from config.yaml",
        expected={
            "versioning": "Enabled",
            "tags": {"cargohold:key": "docs", "Owner": "team-a"},
            "lifecycle": [{"id": "tidy", "filter": {"prefix": ""}, "noncurrent_expiration_days": 90}],
            "policy": LONG_POLICY,
        },
        actual={
            "versioning": "Suspended",
            "tags": {"cargohold:key": "photos", "Owner": "team-a"},
            "lifecycle": [{"id": "tidy", "filter": {"prefix": "tmp/"}, "noncurrent_expiration_days": 90}],
            "policy": None,
        },
    )


WANTED = [
    "versioning: expected Enabled, actual Suspended",
    "tags.cargohold:key: expected docs, actual photos",
    'lifecycle[tidy].filter.prefix: expected "", actual tmp/',
]


def test_text_and_markdown_show_expected_and_actual_of_each_drifted_setting() -> None:
    r = report([drift()])
    text = render(r, "text")
    flat = " ".join(text.split())  # the message may wrap onto several lines
    for line in WANTED:
        assert line in flat
    assert "Owner" not in flat  # what matches is not listed
    markdown = render(r, "markdown")
    for line in WANTED:
        assert line.replace("[", "\\[").replace("]", "\\]") in markdown
    row = next(x for x in markdown.splitlines() if "drift.changed" in x)
    assert "versioning: expected Enabled, actual Suspended" in row  # on the finding's own row


def test_long_values_are_cut_and_the_json_keeps_them_whole() -> None:
    (line,) = differences({"policy": LONG_POLICY}, {"policy": None})
    assert line.startswith('policy: expected {"Statement":') and line.endswith("…, actual (none)")
    assert len(line) < VALUE_WIDTH + 40
    r = report([drift()])
    assert "s3:Get29" not in render(r, "text") and "s3:Get29" in render(r, "json")


def test_html_shows_expected_and_actual() -> None:
    html = render(report([drift()]), "html")
    assert "<dt>expected</dt>" in html and "Suspended" in html and "photos" in html


def test_other_findings_keep_their_message() -> None:
    other = failed(VERSIONING, BUCKET, "versioning is off", expected="Enabled", actual="Suspended")
    row = next(x for x in render(report([other]), "markdown").splitlines() if "test.versioning" in x)
    assert row.endswith("versioning is off |")
