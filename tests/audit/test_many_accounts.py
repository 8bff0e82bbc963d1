"""`audit --all-envs` and `audit --organization`: one report over several accounts, against one moto
server (moto keeps state per account id; an assumed role's credentials land in the role's account).
dev is the shell's account (123456789012); staging and prod are reached through `assume_role:`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import boto3
from click.testing import CliRunner, Result

from cargohold_core.config import load_project
from toolkit.audit.many import audit_many, environment_targets
from toolkit.cli import main
from toolkit.demo.emulator import Emulator
from toolkit.report import REPORT_FORMATS, render

DEV, STAGING, PROD = "123456789012", "222222222222", "333333333333"
CONFIG = """\
version: 1
project: fleet
environments:
  dev: {{region: us-east-1, account: "{dev}", endpoint: {endpoint}}}
  staging:
    region: us-east-1
    account: "{staging}"
    endpoint: {endpoint}
    assume_role: {{role_arn: "arn:aws:iam::{staging}:role/auditor"}}
  prod:
    region: us-east-1
    account: "{prod}"
    endpoint: {endpoint}
    assume_role: {{role_arn: "arn:aws:iam::{prod}:role/auditor"}}
{extra}buckets:
  docs: {{versioning: true, tls_only: false}}
"""


def credentials_in(endpoint: str, account_id: str) -> dict[str, str]:
    if account_id == DEV:
        return {}
    got = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return {
        "aws_access_key_id": got["AccessKeyId"],
        "aws_secret_access_key": got["SecretAccessKey"],
        "aws_session_token": got["SessionToken"],
    }


def s3_in(endpoint: str, account_id: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials_in(endpoint, account_id))


def make_docs(endpoint: str, account_id: str, env: str, *, versioned: bool) -> None:
    s3 = s3_in(endpoint, account_id)
    s3.create_bucket(Bucket=f"fleet-{env}-docs")
    if versioned:
        s3.put_bucket_versioning(Bucket=f"fleet-{env}-docs", VersioningConfiguration={"Status": "Enabled"})


def write_config(folder: Path, endpoint: str, extra: str = "") -> Path:
    config = folder / "config.yaml"
    config.write_text(
        CONFIG.format(dev=DEV, staging=STAGING, prod=PROD, endpoint=endpoint, extra=extra), encoding="utf-8"
    )
    return config


def audit(config: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["audit", "--config", str(config), *args, "--fail-on", "none"], catch_exceptions=False
    )


def drift_of(report: dict[str, Any], scope: str) -> dict[str, str]:
    """The scope's failed drift checks and their messages."""
    return {
        f["check"]: f["message"]
        for f in report["findings"]
        if f["environment"] == scope and f["check"].startswith("drift.") and f["status"] == "fail"
    }


def test_all_envs_audits_each_environment_in_its_own_account_and_an_unreachable_one_is_an_error(
    tmp_path: Path, account: Emulator
) -> None:
    make_docs(account.endpoint, DEV, "dev", versioned=True)
    make_docs(account.endpoint, STAGING, "staging", versioned=False)  # drifted: versioning off
    # prod's bucket is missing altogether; a fourth environment's endpoint has nothing listening, and a
    # fifth names an account its credentials are not for
    extra = (
        '  down: {region: us-east-1, account: "444444444444", endpoint: "http://127.0.0.1:9"}\n'
        '  wrong: {region: us-east-1, account: "555555555555", endpoint: ' + account.endpoint + "}\n"
    )
    result = audit(write_config(tmp_path, account.endpoint, extra), "--all-envs", "--format", "json")
    assert result.exit_code == 1, result.output  # some account could not be audited
    report = json.loads(result.stdout)
    assert report["environment"] == "all-envs" and report["account"] is None
    assert [(s["name"], s["account"]) for s in report["scopes"]] == [
        ("dev", DEV),
        ("staging", STAGING),
        ("prod", PROD),
        ("down", "444444444444"),
        ("wrong", "555555555555"),
    ]
    errors = {s["name"]: s["error"] for s in report["scopes"]}
    assert (errors["dev"], errors["staging"], errors["prod"]) == (None, None, None)
    assert "127.0.0.1:9" in errors["down"]
    assert (
        "environment 'wrong' is account 555555555555 (aws), but the credentials in use are for account "
        in (errors["wrong"])
    )
    audited = {f["environment"]: f["status"] for f in report["findings"] if f["check"] == "account.audited"}
    assert audited == {"dev": "pass", "staging": "pass", "prod": "pass", "down": "error", "wrong": "error"}
    # an account that could not be audited has that one finding; the others their whole audit
    assert [f["check"] for f in report["findings"] if f["environment"] in ("down", "wrong")] == ["account.audited"] * 2
    checks = {
        scope: {f["check"] for f in report["findings"] if f["environment"] == scope} for scope in ("dev", "staging")
    }
    assert all(len(found) > 10 and "s3.bucket-public-access-block" in found for found in checks.values())

    owner = {"dev": DEV, "staging": STAGING, "prod": PROD}
    for finding in report["findings"]:  # each finding is about its own account's resources
        if finding["resource"].startswith("arn:aws:s3:::fleet-"):
            env = finding["resource"].split("-")[1]
            assert (finding["environment"], finding["account"]) == (env, owner[env])
    # hand-made buckets drift from config.yaml in each account (no policy, no public access block...),
    # but only staging's is unversioned, and only prod's is missing
    assert "versioning" not in drift_of(report, "dev")["drift.changed"]
    assert "versioning" in drift_of(report, "staging")["drift.changed"]
    assert set(drift_of(report, "prod")) == {"drift.missing"}


def test_every_format_holds_every_account(tmp_path: Path, account: Emulator) -> None:
    make_docs(account.endpoint, DEV, "dev", versioned=True)
    extra = '  down: {region: us-east-1, account: "444444444444", endpoint: "http://127.0.0.1:9"}\n'
    project = load_project(write_config(tmp_path, account.endpoint, extra))
    report = audit_many(project, environment_targets(project), workers=8, kind="all-envs")
    for fmt in REPORT_FORMATS:
        text = render(report, fmt)
        for account_id in (DEV, STAGING, PROD, "444444444444"):
            assert account_id in text, (fmt, account_id)
        if fmt == "junit":
            suites = ET.fromstring(text).findall("testsuite")
            assert [s.get("name") for s in suites] == ["audit.dev", "audit.staging", "audit.prod", "audit.down"]
        if fmt == "text":
            assert f"account {PROD} (prod, us-east-1): " in text
            assert "account 444444444444 (down, us-east-1): could not be audited" in text


def test_organization_mode_audits_the_members_no_environment_names(tmp_path: Path, account: Emulator) -> None:
    orgs = boto3.client("organizations", endpoint_url=account.endpoint, region_name="us-east-1")
    orgs.create_organization(FeatureSet="ALL")
    members = []
    for name in ("analytics", "sandbox"):
        made = orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        members.append(made["AccountId"])
    public = s3_in(account.endpoint, members[0])
    public.create_bucket(Bucket="analytics-exports")  # no Block Public Access, no versioning
    config = tmp_path / "config.yaml"
    config.write_text(
        f'version: 1\nproject: fleet\nenvironments:\n  mgmt: {{region: us-east-1, account: "{DEV}", '
        f"endpoint: {account.endpoint}}}\n",
        encoding="utf-8",
    )
    result = audit(config, "--organization", "OrganizationAccountAccessRole", "--env", "mgmt", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [s["name"] for s in report["scopes"]] == ["mgmt", *(f"org:{m}" for m in sorted(members))]
    exports = [f for f in report["findings"] if f["resource"] == "arn:aws:s3:::analytics-exports"]
    assert exports and {f["account"] for f in exports} == {members[0]}
    assert any(f["check"] == "s3.versioning" and f["status"] == "fail" for f in exports)
    # no drift for members: config.yaml declares nothing there
    members_drift = [f for f in report["findings"] if f["environment"].startswith("org:") and "drift." in f["check"]]
    assert members_drift == []


def test_flags_that_do_not_go_together_are_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    assert "leave out --env" in audit(config, "--all-envs", "--env", "dev").output
    assert "--organization needs --env" in audit(config, "--organization", "Auditor").output
    assert "or audit them all with --all-envs" in audit(config).output
