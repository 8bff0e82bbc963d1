"""The click layer: exit codes, text and JSON output, one clean error instead of a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from toolkit.cli import main

REPO = Path(__file__).resolve().parents[2]
ALL_CONFIGS = [REPO / "config.yaml", *sorted((REPO / "examples").glob("*/config.yaml"))]
CONFIG_IDS = [p.parent.name if p.parent != REPO else "config.yaml" for p in ALL_CONFIGS]

# Every variable the root stack declares, and nothing else.
TFVARS_KEYS = set(re.findall(r'^variable "(\w+)"', (REPO / "terraform/stack/variables.tf").read_text(), re.M))

BROKEN = """\
version: 1
project: demo
environments:
  dev:
    region: us-east-1
    account: 111111111111
buckets:
  photos:
    versioning: maybe
    encryption: {type: sse-kmz}
tables:
  users:
    range_key: {name: id}
principals:
  app:
    grants:
      - {bucket: photoz, actions: [read]}
"""
BROKEN_LINES = {  # key path -> line, read off the text above
    "environments.dev.account": 6,
    "buckets.photos.versioning": 9,
    "buckets.photos.encryption.type": 10,
    "tables.users": 12,
    "principals.app.grants[0].bucket": 17,
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------- validate


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=CONFIG_IDS)
def test_validate_every_example(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = run("validate", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}: valid" in result.output
    assert f"{len(raw['environments'])} environments" in result.output
    assert ", ".join(raw["environments"]) in result.output


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=CONFIG_IDS)
def test_validate_json_success(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = run("validate", "-c", str(path), "--format", "json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["valid"] is True
    assert payload["project"] == raw["project"]
    assert payload["environments"] == list(raw["environments"])
    assert payload["buckets"] == len(raw.get("buckets") or {})
    assert payload["tables"] == len(raw.get("tables") or {})
    assert payload["principals"] == len(raw.get("principals") or {})


def test_validate_uses_the_config_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    path = REPO / "examples" / "photos" / "config.yaml"
    monkeypatch.setenv("CARGOHOLD_CONFIG", str(path))
    result = run("validate")
    assert result.exit_code == 0
    assert str(path) in result.output


def test_validate_reports_every_mistake_with_its_line(write_config: Callable[..., Path]) -> None:
    path = write_config(BROKEN)
    result = run("validate", "-c", str(path))
    assert result.exit_code == 1
    assert_no_traceback(result)
    for key_path, line in BROKEN_LINES.items():
        assert f"{path}:{line}:" in result.output
        assert f": {key_path}: " in result.output
    assert f"Error: {len(BROKEN_LINES)} problems in {path}" in result.output
    assert "Hint: fix each problem" in result.output
    assert "did you mean 'sse-kms'" in result.output
    assert "did you mean 'photos'" in result.output


def test_validate_json_failure(write_config: Callable[..., Path]) -> None:
    path = write_config(BROKEN)
    result = run("validate", "-c", str(path), "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.output)  # stdout is pure JSON, nothing else
    error = payload["error"]
    assert error["type"] == "ConfigError"
    assert error["message"] == f"{len(BROKEN_LINES)} problems in {path}"
    problems = error["problems"]
    assert {p["path"]: p["line"] for p in problems} == BROKEN_LINES
    for problem in problems:
        assert set(problem) == {"file", "line", "column", "path", "message", "hint"}
        assert problem["file"] == str(path)
        assert problem["message"]
    assert [p["line"] for p in problems] == sorted(p["line"] for p in problems)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run("validate", "-c", str(missing))
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert f"{missing}: file not found" in result.output
    assert "--config" in result.output


def test_missing_default_config_in_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CARGOHOLD_CONFIG", raising=False)
    result = run("preview", "--env", "dev")
    assert result.exit_code == 1
    assert "config.yaml: file not found" in result.output


def test_missing_config_file_json(tmp_path: Path) -> None:
    result = run("validate", "-c", str(tmp_path / "nope.yaml"), "--format", "json")
    assert result.exit_code == 1
    [problem] = json.loads(result.output)["error"]["problems"]
    assert problem["message"] == "file not found"


# ---------------------------------------------------------------- render


def test_render_prints_the_tfvars_json() -> None:
    result = run("render", "-c", str(REPO / "config.yaml"), "--env", "dev")
    assert result.exit_code == 0
    variables = json.loads(result.output)
    assert set(variables) == TFVARS_KEYS
    assert variables["environment"] == "dev"
    assert variables["project"] == "acme-lms"
    assert variables["buckets"]["student-docs"]["name"] == "acme-lms-dev-student-docs"
    # the dev override of config.yaml is applied
    assert variables["tables"]["courses"]["deletion_protection"] is False
    assert variables["tables"]["users"]["deletion_protection"] is True


def test_render_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "terraform.tfvars.json"
    result = run("render", "-c", str(REPO / "config.yaml"), "-e", "prod", "-o", str(out), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {"written": str(out), "environment": "prod"}
    variables = json.loads(out.read_text(encoding="utf-8"))
    assert set(variables) == TFVARS_KEYS
    logging = variables["buckets"]["student-docs"]["access_logging"]
    assert logging == {"target_bucket": "acme-lms-prod-access-logs", "target_prefix": "student-docs/"}


def test_render_of_a_broken_config_writes_nothing(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    out = tmp_path / "out.json"
    result = run("render", "-c", str(write_config(BROKEN)), "--env", "dev", "-o", str(out))
    assert result.exit_code == 1
    assert not out.exists()


# ---------------------------------------------------------------- preview


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=CONFIG_IDS)
def test_preview_json_for_every_example(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = run("preview", "-c", str(path), "--env", "dev", "--format", "json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.output)
    assert payload["environment"] == "dev"
    assert payload["project"] == raw["project"]
    assert payload["endpoint"] is None
    assert set(payload["buckets"]) == set(raw.get("buckets") or {})
    assert set(payload["tables"]) == set(raw.get("tables") or {})
    assert set(payload["principals"]) == set(raw.get("principals") or {})
    for key, name in payload["buckets"].items():
        assert name == f"{raw['project']}-dev-{key}"
    for principal in payload["principals"].values():
        assert principal["kind"] in ("user", "role")
        assert principal["policy"]["Statement"]
    addresses = [r["address"] for r in payload["resources"]]
    assert addresses and len(addresses) == len(set(addresses))
    assert {r["key"] for r in payload["resources"] if r["kind"] == "bucket"} == set(payload["buckets"])
    assert payload["state"]["bucket"] == f"{raw['project']}-dev-tfstate-{raw['environments']['dev']['account']}"


def test_preview_text_lists_each_resource_under_its_bucket() -> None:
    result = run("preview", "-c", str(REPO / "examples" / "photos" / "config.yaml"), "--env", "local")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("photos / local (ap-south-1, account 123456789012, endpoint http://127.0.0.1:5000)")
    assert "state: s3://photos-local-tfstate-123456789012/cargohold/terraform.tfstate" in out
    assert "bucket photos -> photos-local-photos" in out
    assert "table photos -> photos-local-photos" in out
    assert "principal backend -> photos-local-backend" in out
    assert "    aws_s3_bucket.this" in out
    assert "    = keys: userId (S) / uploadedAt (N)" in out  # each resource's key settings, above its addresses
    count = int(out.strip().splitlines()[-1].split()[0])
    json_result = run("preview", "-c", str(REPO / "examples" / "photos" / "config.yaml"), "--env", "local",
                      "--format", "json")
    payload = json.loads(json_result.output)
    assert count == len(payload["resources"])
    assert payload["settings"]["tables"]["photos"][0] == "keys: userId (S) / uploadedAt (N)"


def test_preview_says_a_roles_external_id_is_set_and_never_shows_it(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        'version: 1\nproject: demo\nenvironments:\n  dev: {region: us-east-1, account: "111111111111"}\n'
        "buckets:\n  docs: {}\nprincipals:\n  vendor:\n    kind: role\n"
        '    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor"]\n'
        "    assume_role_external_id: do-not-echo-me\n    grants: [{bucket: docs, actions: [read]}]\n",
        encoding="utf-8",
    )
    text = run("preview", "-c", str(config), "--env", "dev")
    as_json = run("preview", "-c", str(config), "--env", "dev", "--format", "json")
    assert text.exit_code == as_json.exit_code == 0
    assert "    = assumable by: arn:aws:iam::210987654321:role/vendor (external id set)" in text.output
    assert "do-not-echo-me" not in text.output + as_json.output


@pytest.mark.parametrize("command", ["render", "preview", "bootstrap"])
def test_unknown_env_is_one_line_with_did_you_mean(command: str) -> None:
    result = run(command, "-c", str(REPO / "config.yaml"), "--env", "prd")
    assert result.exit_code == 1
    assert_no_traceback(result)
    lines = result.output.strip().splitlines()
    assert lines[0] == f"Error: no environment 'prd' in {REPO / 'config.yaml'}; did you mean 'prod'?"
    assert lines[1:] == ["Hint: environments defined: local, dev, prod"]


def test_unknown_env_json() -> None:
    result = run("preview", "-c", str(REPO / "config.yaml"), "--env", "stage", "--format", "json")
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["type"] == "CargoholdError"
    assert error["message"].startswith("no environment 'stage'")
    assert "local, dev, prod" in error["hint"]


def test_env_is_required() -> None:
    result = run("preview", "-c", str(REPO / "config.yaml"))
    assert result.exit_code == 2  # click's usage error
    assert "Missing option '--env'" in result.output


# ---------------------------------------------------------------- help and entry points


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        out.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            out.extend(_all_commands(command, (*prefix, name)))
    return out


COMMANDS = _all_commands(main)


def test_the_documented_commands_exist() -> None:
    assert {"validate", "render", "preview", "bootstrap", "demo"} <= {path[0] for path, _ in COMMANDS}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_text(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"`cargohold {' '.join(path)}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"option {param.opts} of {' '.join(path)} has no help"
    result = run(*path, "--help")
    assert result.exit_code == 0
    first_line = command.help.strip().splitlines()[0]
    assert " ".join(first_line.split()) in " ".join(result.output.split())
    if any(p.name == "fmt" for p in command.params):
        assert "--format" in result.output


def test_main_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert path[0] in result.output


def test_version() -> None:
    from toolkit import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m_toolkit_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "--help"],
        capture_output=True, text=True, check=False, cwd=REPO, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "validate" in proc.stdout and "preview" in proc.stdout


def test_installed_script_validates(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "cargohold"
    if not script.exists():
        pytest.skip("the cargohold console script is not installed next to this Python")
    proc = subprocess.run([str(script), "validate", "-c", str(REPO / "config.yaml")],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout
    bad = tmp_path / "config.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    proc = subprocess.run([str(script), "validate", "-c", str(bad)], capture_output=True, text=True, check=False,
                          timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # problems and the error go to stderr
    assert f"{bad}:9:" in proc.stderr


def test_render_to_an_unwritable_path_is_a_clean_error(tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "terraform.tfvars.json"
    result = run("render", "-c", str(REPO / "config.yaml"), "--env", "dev", "-o", str(out))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")


def test_recursive_yaml_alias_is_a_located_problem(write_config: Callable[..., Path]) -> None:
    path = write_config(
        'project: demo\nenvironments: &e\n  dev: {region: us-east-1, account: "111111111111", tags: *e}\n'
    )
    result = run("validate", "-c", str(path))
    assert result.exit_code == 1
    assert f"{path}:3:" in result.output


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["project: demo", 'environments: {dev: {region: us-east-1, account: "111111111111"}}',
             "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, "-m", "toolkit", "validate", "-c", str(path)],
                              capture_output=True, text=True, check=False, cwd=REPO, timeout=8,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    except subprocess.TimeoutExpired:
        pytest.fail("validate did not finish within 8 s on a 9-line file")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
