"""The account guard, against one moto server holding two accounts (moto keeps state per account id):
123456789012, where the default test credentials land, and 222222222222, reached by assuming a role.
Every command that touches an account refuses, with exit 3, before anything is read or written, when
the credentials are for another account than the environment's; with the right ones it goes ahead."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from cargohold_core.config import load_project
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

OTHER = "222222222222"
CONFIG = """\
version: 1
project: guard
environments:
  prod: {{region: us-east-1, account: "{account}", endpoint: {endpoint}}}
buckets:
  docs: {{versioning: true}}
tables:
  users: {{hash_key: {{name: userId}}}}
principals:
  app:
    kind: user
    grants:
      - {{bucket: docs, actions: [read, write]}}
migrations:
  files:
    source: {{directory: files}}
    target: {{bucket: docs, key_template: "{{filename}}"}}
    database:
      url: sqlite:///app.db
      table: documents
      id_column: id
      path_column: path
      key_column: s3_key
"""

# Each command that touches the account, as a user would type it.
COMMANDS = {
    "bootstrap": ["bootstrap"],
    "plan": ["plan"],
    "apply": ["apply"],
    "destroy": ["destroy", "--allow-destroy", "--confirm", "prod"],
    "drift": ["drift"],
    "migrate run": ["migrate", "run", "--job", "files"],
    "credentials issue": ["credentials", "issue", "--principal", "app"],
    "discover": ["discover", "--output-dir", "discovered"],
    "audit": ["audit"],
    "health": ["health"],
    "cost": ["cost"],
}


def write_project(folder: Path, endpoint: str, account_id: str) -> Path:
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "a.txt").write_text("a")
    with sqlite3.connect(folder / "app.db") as db:
        db.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
        db.execute("INSERT INTO documents (path) VALUES ('a.txt')")
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(account=account_id, endpoint=endpoint), encoding="utf-8")
    return config


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    argv = [*args, "--config", str(config), "--env", "prod"]
    return CliRunner().invoke(main, argv, env=env, catch_exceptions=False)


def held(endpoint: str, **credentials: str) -> dict[str, list[str]]:
    """What an account holds: buckets, tables, users."""
    kw: dict[str, Any] = {"endpoint_url": endpoint, "region_name": "us-east-1", **credentials}
    return {
        "buckets": [b["Name"] for b in boto3.client("s3", **kw).list_buckets()["Buckets"]],
        "tables": boto3.client("dynamodb", **kw).list_tables()["TableNames"],
        "users": [u["UserName"] for u in boto3.client("iam", **kw).list_users()["Users"]],
    }


def other_account_credentials(endpoint: str) -> dict[str, str]:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    role = f"arn:aws:iam::{OTHER}:role/platform-admin"
    got = sts.assume_role(RoleArn=role, RoleSessionName="guard-test")["Credentials"]
    return {
        "aws_access_key_id": got["AccessKeyId"],
        "aws_secret_access_key": got["SecretAccessKey"],
        "aws_session_token": got["SessionToken"],
    }


def as_env(credentials: dict[str, str]) -> dict[str, str]:
    return {name.upper(): value for name, value in credentials.items()}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_wrong_account_is_refused_before_anything_is_touched(
    command: str,
    tmp_path: Path,
    account: Emulator,
) -> None:
    config = write_project(tmp_path, account.endpoint, OTHER)  # prod is 222222222222; the shell's keys are not
    other = other_account_credentials(account.endpoint)
    before = held(account.endpoint), held(account.endpoint, **other)
    result = run(config, *COMMANDS[command])
    assert result.exit_code == 3, result.output
    assert f"environment 'prod' is account {OTHER} (aws), but the credentials in use are for account 123456789012" in (
        result.output
    )
    assert "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" in result.output
    assert "Traceback" not in result.output
    assert (held(account.endpoint), held(account.endpoint, **other)) == before  # nothing made in either account
    assert not (tmp_path / "discovered").exists() and not (tmp_path / ".env.app").exists()


def test_the_right_account_goes_ahead(tmp_path: Path, account: Emulator) -> None:
    config = write_project(tmp_path, account.endpoint, OTHER)
    other = other_account_credentials(account.endpoint)
    result = run(config, "bootstrap", env=as_env(other))
    assert result.exit_code == 0, result.output
    state = load_project(config).environment("prod").state
    assert held(account.endpoint, **other)["buckets"] == [state.bucket]
    assert held(account.endpoint, **other)["tables"] == [state.lock_table]
    assert held(account.endpoint) == {"buckets": [], "tables": [], "users": []}  # the shell's own account


def test_the_message_names_the_profile_and_never_the_secret(
    tmp_path: Path,
    account: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_project(tmp_path, account.endpoint, OTHER)
    files = tmp_path / "aws-credentials"
    files.write_text("[dev]\naws_access_key_id = AKIADEVEXAMPLE0001\naws_secret_access_key = dev-secret-value\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_PROFILE", "dev")
    result = run(config, "audit")
    assert result.exit_code == 3, result.output
    assert "profile 'dev' in the shared credentials file (access key ...0001)" in result.output
    assert "dev-secret-value" not in result.output


def test_an_unknown_profile_is_one_clear_error(
    tmp_path: Path, account: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path, account.endpoint, OTHER)
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    result = run(config, "audit")
    assert result.exit_code == 1, result.output
    assert "The config profile (nosuch) could not be found (from AWS_PROFILE)" in result.output
    assert "Hint: profiles configured here: none; set AWS_PROFILE to one of them, or unset it" in result.output
    assert "Traceback" not in result.output
