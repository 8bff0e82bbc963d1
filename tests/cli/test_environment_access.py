"""Per-environment access: `profile:` and `assume_role:` in config.yaml take cargohold (boto3) and
Terraform (the provider block and the S3 backend) to the environment's account, against one moto
server holding two accounts. The shell's own credentials are for 123456789012; prod is 222222222222,
reached only through the role or the profile. moto grants every AssumeRole (it checks no trust
policy), so a refused AssumeRole is not tested here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cargohold_core import aws
from cargohold_core.config import load_project
from tests.cli.test_account_guard import OTHER, held, other_account_credentials, run, write_project
from toolkit.demo.emulator import Emulator

ROLE = f"arn:aws:iam::{OTHER}:role/cargohold-deployer"


def with_access(config: Path, access: str) -> Path:
    """The guard test's project, its prod environment given `access` (YAML flow-mapping entries)."""
    text = config.read_text(encoding="utf-8")
    marker = "endpoint: "
    start = text.index(marker)
    end = text.index("}", start)
    config.write_text(text[:end] + f", {access}" + text[end:], encoding="utf-8")
    return config


def test_assume_role_takes_every_aws_call_to_the_environments_account(tmp_path: Path, account: Emulator) -> None:
    config = with_access(
        write_project(tmp_path, account.endpoint, OTHER),
        f'assume_role: {{role_arn: "{ROLE}", session_name: ci-deploy, duration: 30m, external_id: ext-1234}}',
    )
    result = run(config, "bootstrap")
    assert result.exit_code == 0, result.output
    state = load_project(config).environment("prod").state
    other = other_account_credentials(account.endpoint)
    assert held(account.endpoint, **other)["buckets"] == [state.bucket]
    assert held(account.endpoint) == {"buckets": [], "tables": [], "users": []}  # the shell's own account

    audited = run(config, "audit", "--format", "json", "--fail-on", "none")
    assert audited.exit_code in (0, 1), audited.output  # findings are not the point: whose account it read is
    assert json.loads(audited.stdout)["account"] == OTHER


def test_a_role_in_another_account_is_refused_by_validation(tmp_path: Path, account: Emulator) -> None:
    config = write_project(tmp_path, account.endpoint, "333333333333")
    config = with_access(config, f'assume_role: {{role_arn: "{ROLE}"}}')
    result = run(config, "audit")
    assert result.exit_code == 1, result.output
    assert "environments.prod.assume_role.role_arn: the role is in account 222222222222, but this environment is" in (
        result.output
    )


def test_the_credentials_are_described_as_the_role_and_what_assumed_it(tmp_path: Path, account: Emulator) -> None:
    config = with_access(write_project(tmp_path, account.endpoint, OTHER), f'assume_role: {{role_arn: "{ROLE}"}}')
    session = aws.session(load_project(config).environment("prod"))
    assert aws.credentials_source(session) == (
        f"role {ROLE} (session 'cargohold') assumed with the environment variables "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (access key ...MPLE)"
    )
    assert session.client("sts", endpoint_url=account.endpoint).get_caller_identity()["Account"] == OTHER


def test_a_profile_wins_over_the_shell_credentials(
    tmp_path: Path, account: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = other_account_credentials(account.endpoint)
    files = tmp_path / "aws-credentials"
    files.write_text("[prod-admin]\n" + "".join(f"{name} = {value}\n" for name, value in other.items()))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files))
    config = with_access(write_project(tmp_path / "p", account.endpoint, OTHER), "profile: prod-admin")
    result = run(config, "bootstrap")  # AWS_ACCESS_KEY_ID (account 123456789012) is still set in the shell
    assert result.exit_code == 0, result.output
    assert held(account.endpoint, **other)["tables"] == [load_project(config).environment("prod").state.lock_table]
    assert held(account.endpoint)["tables"] == []

    wrong = with_access(write_project(tmp_path / "w", account.endpoint, OTHER), "profile: nosuch")
    refused = run(wrong, "audit")
    assert refused.exit_code == 1, refused.output
    assert "(from environments.prod.profile in config.yaml)" in refused.output
    assert "profiles configured here: prod-admin; correct it" in refused.output
    assert other["aws_secret_access_key"] not in refused.output


def test_preview_shows_how_the_account_is_reached_and_never_the_external_id(tmp_path: Path) -> None:
    config = with_access(
        write_project(tmp_path, "http://127.0.0.1:9", OTHER),
        f'profile: base, assume_role: {{role_arn: "{ROLE}", external_id: secret-ish-4321, duration: 2h}}',
    )
    text = run(config, "preview")
    assert text.exit_code == 0, text.output
    assert f"access: profile base, then assume {ROLE} (session cargohold, 120 min, with an external id)" in text.output
    shown = run(config, "preview", "--format", "json")
    assert json.loads(shown.stdout)["access"] == {
        "profile": "base",
        "assume_role": {"role_arn": ROLE, "external_id": "(set)", "session_name": "cargohold", "duration": 7200},
    }
    assert "secret-ish-4321" not in text.output + shown.output


@pytest.mark.terraform
@pytest.mark.slow
def test_terraform_assumes_the_role_for_the_stack_and_its_state(tmp_path: Path, account: Emulator) -> None:
    """Real Terraform with the emulator provider: the provider block's assume_role and the S3 backend's
    assume_role (Terraform's own backend code) each call AssumeRole with the shell's credentials."""
    config = with_access(write_project(tmp_path, account.endpoint, OTHER), f'assume_role: {{role_arn: "{ROLE}"}}')
    for step, code in ((["bootstrap"], 0), (["plan"], 2), (["apply"], 0)):  # plan: 2 = changes to apply
        result = run(config, *step)
        assert result.exit_code == code, (step, result.output)
    other = other_account_credentials(account.endpoint)
    inside = held(account.endpoint, **other)
    env = load_project(config).environment("prod")
    assert sorted(inside["buckets"]) == sorted([env.state.bucket, env.buckets["docs"].name])
    assert sorted(inside["tables"]) == sorted([env.state.lock_table, env.tables["users"].name])
    assert inside["users"] == [env.principals["app"].name]
    assert held(account.endpoint) == {"buckets": [], "tables": [], "users": []}
    backend = (tmp_path / ".cargohold" / "prod" / "backend.hcl").read_text()
    assert f'role_arn = "{ROLE}"' in backend
