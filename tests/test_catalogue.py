"""Every check of every command declares everything a scheduler's user needs to act on a finding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from toolkit.findings import Check
from toolkit.report.catalogue import CATEGORIES, all_checks, markdown

REPO = Path(__file__).resolve().parents[1]
CHECKS = all_checks()
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9*]*$")
SECURITY_HUB = re.compile(r"^(S3|DynamoDB|IAM)\.\d+$")
CHECKOV = re.compile(r"^CKV2?_AWS_\d+$")


def test_every_command_has_checks() -> None:
    assert {c.category for c in CHECKS} == set(CATEGORIES)
    assert len(CHECKS) >= 40


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_check_declares_everything(check: Check) -> None:
    assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9-]+", check.id)
    assert check.title and check.remediation.strip() and check.config_fix.strip()
    assert check.category in CATEGORIES and check.service
    # Only the waiver check reads nothing from AWS.
    assert check.permissions or check.category == "waiver"
    assert all(IAM_ACTION.match(p) for p in check.permissions), check.permissions
    assert isinstance(check.security_hub, tuple) and isinstance(check.checkov, tuple)
    assert all(SECURITY_HUB.match(s) for s in check.security_hub), check.security_hub
    assert all(CHECKOV.match(c) for c in check.checkov), check.checkov


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_config_fix_is_yaml_a_user_can_paste(check: Check) -> None:
    yaml.safe_load(check.config_fix)  # comments and placeholders, but never broken YAML


def test_docs_checks_page_is_current() -> None:
    assert (REPO / "docs" / "checks.md").read_text(encoding="utf-8") == markdown(), (
        "regenerate it: python -m toolkit.report.catalogue > docs/checks.md"
    )
