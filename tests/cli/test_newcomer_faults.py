"""What a newcomer hits first (issue 13): the endpoint is down, there are no credentials, the credentials
are refused, AWS_PROFILE names a profile that does not exist. Every command that touches the account
must then print ONE error line that says which of these it is (naming the endpoint when it is the
endpoint), a hint that fits that cause, no traceback, and the same exit code (1: could not run) for
the same situation, whichever command it is.

Real parts: a closed loopback port (nothing listens), the process's own credential chain emptied, the
module's moto server with its IAM enforcement switched on (it then refuses the throwaway key).
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.moto_api import set_auth
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

CONFIG = """\
version: 1
project: newbie
environments:
  prod: {{region: us-east-1, account: "123456789012"{endpoint}}}
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

# Every command family that reads or writes the account, as a user types it (plus --config/--env).
COMMANDS = {
    "audit": ["audit"],
    "health": ["health"],
    "cost": ["cost"],
    "bootstrap": ["bootstrap"],
    "discover": ["discover", "--output-dir", "discovered"],
    "plan": ["plan"],
    "migrate run": ["migrate", "run", "--job", "files"],
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released: connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(folder: Path, endpoint: str | None) -> Path:
    (folder / "files").mkdir(parents=True, exist_ok=True)
    (folder / "files" / "a.txt").write_text("a")
    with sqlite3.connect(folder / "app.db") as db:
        db.execute("CREATE TABLE IF NOT EXISTS documents (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(endpoint=f", endpoint: {endpoint}" if endpoint else ""), encoding="utf-8")
    return config


def run(config: Path, command: str) -> Result:
    argv = [*COMMANDS[command], "--config", str(config), "--env", "prod"]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def assert_one_clean_error(result: Result) -> tuple[str, str]:
    """Exit 1, exactly one `Error:` line and one `Hint:` line, no traceback; returns (error, hint)."""
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 1, result.output
    [error] = error_lines(result)
    hints = [line for line in result.output.splitlines() if line.startswith("Hint:")]
    assert len(hints) == 1, result.output
    return error, hints[0]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere in the chain (conftest already empties the config files and IMDS)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------ the endpoint is down


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_emulator_endpoint_that_is_down_is_named_with_a_hint_to_start_it(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    # What a newcomer runs first: config.yaml's `local` points at an emulator that is not running. With
    # no credentials configured the emulator gets throwaway ones, so the endpoint is what fails.
    monkeypatch.chdir(tmp_path)
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = run(project(tmp_path, endpoint), command)
    error, hint = assert_one_clean_error(result)
    assert f"endpoint {endpoint}" in error and "unreachable" in error, error
    assert "emulator" in hint and "endpoint" in hint, hint
    assert "credentials" not in hint, hint  # the credentials are not what is wrong


# ------------------------------------------------------------------ no credentials at all


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("endpoint", [None, "https://storage.example.invalid"], ids=["aws", "other-endpoint"])
def test_no_credentials_at_all_says_so_and_does_not_blame_the_network(
    command: str, endpoint: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    # Nothing is sent: botocore finds no credentials before it connects (the conftest guard would
    # fail the test on any attempt to resolve or reach a remote host).
    monkeypatch.chdir(tmp_path)
    result = run(project(tmp_path, endpoint), command)
    error, hint = assert_one_clean_error(result)
    assert "no AWS credentials found" in error, error
    assert "AWS_PROFILE" in hint and "AWS_ACCESS_KEY_ID" in hint, hint
    assert "network" not in hint, hint


@pytest.mark.parametrize("command", ["audit", "health", "bootstrap", "migrate run"])
@pytest.mark.parametrize("emulator", [False, True], ids=["aws", "emulator"])
def test_half_the_credentials_is_a_credentials_problem_not_a_network_one(
    command: str, emulator: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    # With an emulator endpoint, cargohold itself asks the chain whether there are credentials (to give
    # throwaway ones when there are none), and botocore raises for half a pair right there.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")  # the secret is missing
    result = run(project(tmp_path, f"http://127.0.0.1:{closed_port()}" if emulator else None), command)
    error, hint = assert_one_clean_error(result)
    assert "incomplete AWS credentials" in error, error
    assert "AWS_SECRET_ACCESS_KEY" in hint and "network" not in hint, hint


# ------------------------------------------------------------------ credentials refused


@pytest.mark.parametrize("command", list(COMMANDS))
def test_credentials_the_endpoint_refuses_are_named_as_rejected(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: Emulator
) -> None:
    # moto with IAM enforcement on: the throwaway key in the shell exists in no account there.
    monkeypatch.chdir(tmp_path)
    config = project(tmp_path, account.endpoint)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # the endpoint comes from config.yaml, as for a user
    set_auth(account.endpoint, "0")
    try:
        result = run(config, command)
    finally:
        set_auth(account.endpoint, "inf")
    error, hint = assert_one_clean_error(result)
    assert "credentials rejected" in error and "InvalidClientTokenId" in error, error
    assert "access key" in hint and "network" not in hint, hint


# ------------------------------------------------------------------ AWS_PROFILE names no profile


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_profile_that_does_not_exist_is_one_line_not_a_traceback(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    result = run(project(tmp_path, None), command)
    error, hint = assert_one_clean_error(result)
    assert "The config profile (nosuch) could not be found (from AWS_PROFILE)" in error, error
    assert "unset it" in hint, hint


def test_a_missing_profile_without_env_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    # `migrate run --job-file` names no environment: the uploader makes its own session.
    monkeypatch.chdir(tmp_path)
    project(tmp_path, None)
    job = tmp_path / "job.yaml"
    job.write_text(
        "source: {directory: files}\n"
        'target: {bucket: docs, key_template: "{filename}"}\n'
        "database: {url: 'sqlite:///app.db', table: documents, path_column: path, key_column: s3_key}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    argv = ["migrate", "run", "--job-file", str(job), "-c", str(tmp_path / "none.yaml")]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    error, _ = assert_one_clean_error(result)
    assert "nosuch" in error, error
