"""issue / rotate / revoke against a real moto server over HTTP, through the CLI where it matters.

What moto cannot show: IAM's propagation delay (a new key works at once there; on AWS it may be
refused for a few seconds, which `prove` retries through: see test_proof_retries_while_the_key_propagates),
and, without IAM enforcement, that a deleted key is refused (the tests that need that switch it on).
"""

from __future__ import annotations

import dataclasses
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from credentials_support import Deployed, admin_keys, cli, client

from cargohold_core.config import load_project
from toolkit.credentials import keys
from toolkit.demo.emulator import Emulator
from toolkit.findings import Status
from toolkit.health.credentials import parse_dotenv
from toolkit.health.run import run_health


def run(deployed: Deployed, *args: str) -> Result:
    # mix_stderr is gone in click 8.2 (stderr is always apart); result.stdout/.stderr work in both.
    runner = CliRunner()
    return runner.invoke(
        cli(), ["credentials", *args, "-c", str(deployed.config), "-e", "local"], catch_exceptions=False
    )


def values(path: Path) -> dict[str, str]:
    return parse_dotenv(path.read_text())


def secrets_in(path: Path) -> list[str]:
    return [v for k, v in values(path).items() if "SECRET" in k]


def assert_no_secret(result: Result, secret: str) -> None:
    assert secret not in result.stdout
    assert secret not in result.stderr


# ------------------------------------------------------------------ issue


def test_issue_writes_a_0600_env_and_prints_no_secret(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    got = values(path)
    assert set(got) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME"}
    assert got["AWS_REGION"] == "us-east-1"
    assert got["S3_BUCKET_NAME"] == deployed.env.buckets["docs"].name  # the first granted bucket, not "logs"
    assert list(deployed.access_keys()) == [got["AWS_ACCESS_KEY_ID"]]
    assert_no_secret(result, got["AWS_SECRET_ACCESS_KEY"])
    assert got["AWS_ACCESS_KEY_ID"] not in result.stdout  # only its last 4 characters
    assert f"...{got['AWS_ACCESS_KEY_ID'][-4:]}" in result.stdout
    assert str(path) in result.stdout and "S3_BUCKET_NAME" in result.stdout
    # The new key is the principal's own: STS says so (moto maps keys to users even without enforcement).
    sts = client(deployed.endpoint, "sts", key=got["AWS_ACCESS_KEY_ID"], secret=got["AWS_SECRET_ACCESS_KEY"])
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{deployed.user}")


def test_issue_json_has_no_secret_unless_asked(moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path) -> None:
    deployed = deploy(moto.endpoint)
    quiet = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "a.env"), "--format", "json")
    data = json.loads(quiet.stdout)
    [secret] = secrets_in(tmp_path / "a.env")
    assert_no_secret(quiet, secret)
    assert "secret" not in data and data["key"].startswith("...") and data["action"] == "issued"
    assert data["variables"] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME"]

    loud = run(
        deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "b.env"), "--format", "json",
        "--show-secret",
    )  # fmt: skip
    [secret_b] = secrets_in(tmp_path / "b.env")
    assert json.loads(loud.stdout)["secret"]["secret_access_key"] == secret_b
    assert secret_b not in loud.stderr


def test_issue_show_secret_text_goes_to_stdout_only(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / ".env"), "--show-secret")
    [secret] = secrets_in(tmp_path / ".env")
    assert f"AWS_SECRET_ACCESS_KEY={secret}" in result.stdout
    assert secret not in result.stderr


def test_issue_keeps_other_lines_and_fixes_a_readable_file(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    path.write_text("# the app\nDATABASE_URL=postgres://db/app\nAWS_REGION=eu-west-1\nDEBUG=1\n")
    path.chmod(0o644)
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 0, result.output
    lines = path.read_text().splitlines()
    assert lines[:4] == ["# the app", "DATABASE_URL=postgres://db/app", "AWS_REGION=us-east-1", "DEBUG=1"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "was 0644" in result.stdout and "now 0600" in result.stdout


def test_issue_uses_the_principals_variable_names(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    names = {"access_key_id": "APP_S3_KEY", "secret_access_key": "APP_S3_SECRET", "region": None,
             "bucket": "UPLOADS_BUCKET", "bucket_key": "logs"}  # fmt: skip
    deployed = deploy(moto.endpoint, dotenv=names)
    path = tmp_path / ".env"
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 0, result.output
    got = values(path)
    assert set(got) == {"APP_S3_KEY", "APP_S3_SECRET", "UPLOADS_BUCKET"}
    assert got["UPLOADS_BUCKET"] == deployed.env.buckets["logs"].name
    assert_no_secret(result, got["APP_S3_SECRET"])
    # health reads the same file under the same names.
    report = run_health(deployed.env, project=deployed.project, principal="app", credentials=path)
    [proof] = [f for f in report.findings if f.check.id == "health.principal-credentials"]
    # The key read under those names is the user's (moto maps keys to users even without enforcement);
    # whether its secret is right this moto cannot say, as it accepts any signature: not verifiable.
    assert proof.actual == deployed.env.principals["app"].arn, proof.message
    assert proof.status is Status.ERROR and proof.details["diagnosis"] == "signature-not-checked"


def test_a_wrong_bucket_key_in_dotenv_is_refused_before_any_key_is_made(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    # The config is then edited by hand: the config loader itself refuses it, located at the key.
    text = yaml.safe_load(deployed.config.read_text(encoding="utf-8"))
    text["principals"]["app"]["dotenv"] = {"bucket_key": "doc"}
    deployed.config.write_text(yaml.safe_dump(text), encoding="utf-8")
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / ".env"))
    assert result.exit_code == 1
    assert "principals.app.dotenv.bucket_key" in result.stderr and "did you mean 'docs'" in result.stderr
    assert deployed.access_keys() == {} and not (tmp_path / ".env").exists()


def test_issue_refuses_a_role_and_says_how_roles_are_used(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    result = run(deployed, "issue", "--principal", "worker", "--dotenv", str(tmp_path / ".env"))
    assert result.exit_code == 1
    assert "is an IAM role" in result.stderr and "no access keys" in result.stderr
    assert (
        "taskRoleArn" in result.stderr and "instance profile" in result.stderr and "assume_role_arns" in result.stderr
    )
    assert "Traceback" not in result.output and not (tmp_path / ".env").exists()


def test_role_guidance_names_the_external_id_a_caller_must_pass(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        'version: 1\nproject: demo\nenvironments:\n  dev: {region: us-east-1, account: "111111111111"}\n'
        "buckets:\n  docs: {}\nprincipals:\n  vendor:\n    kind: role\n"
        '    assume_role_arns: ["arn:aws:iam::210987654321:role/vendor"]\n'
        "    assume_role_external_id: do-not-echo-me\n    grants: [{bucket: docs, actions: [read]}]\n",
        encoding="utf-8",
    )
    principal = load_project(config).environment("dev").principal("vendor")
    guidance = keys.role_guidance(principal)
    assert "a profile with role_arn and external_id" in guidance and "do-not-echo-me" not in guidance
    plain = dataclasses.replace(principal, spec=principal.spec.model_copy(update={"assume_role_external_id": None}))
    assert "a profile with role_arn, or AWS_ROLE_ARN" in keys.role_guidance(plain)


def test_unknown_principal_gets_a_did_you_mean(moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path) -> None:
    deployed = deploy(moto.endpoint)
    result = run(deployed, "issue", "--principal", "ap", "--dotenv", str(tmp_path / ".env"))
    assert result.exit_code == 1
    assert "no principal 'ap'" in result.stderr and "did you mean 'app'" in result.stderr
    assert "Hint: principals defined: app, worker" in result.stderr


def test_issue_refuses_a_third_key_and_an_env_that_already_holds_one(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "a.env")).exit_code == 0
    again = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "a.env"))
    assert again.exit_code == 1 and "already holds access key" in again.stderr and "rotate" in again.stderr
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "b.env")).exit_code == 0
    third = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "c.env"))
    assert third.exit_code == 1
    assert "already has 2 access keys" in third.stderr
    assert "credentials rotate" in third.stderr and "credentials revoke" in third.stderr
    assert len(deployed.access_keys()) == 2 and not (tmp_path / "c.env").exists()


def test_a_missing_user_is_explained(moto: Emulator, write_config: Callable[..., Path], tmp_path: Path) -> None:
    from credentials_support import config

    path = write_config(config(moto.endpoint))  # written, never deployed
    result = CliRunner().invoke(
        cli(), ["credentials", "issue", "-c", str(path), "-e", "local", "--principal", "app",
                "--dotenv", str(tmp_path / ".env")], catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "iam:ListAccessKeys: NoSuchEntity" in result.stderr
    assert "does not exist: deploy it first (`cargohold apply`)" in result.stderr


def test_the_object_holding_a_secret_does_not_show_it(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    outcome = keys.issue(deployed.env, "app", path=tmp_path / ".env")
    [secret] = secrets_in(tmp_path / ".env")
    assert (
        secret not in repr(outcome) and secret not in str(outcome.to_json()) and secret not in "".join(outcome.lines())
    )


# ------------------------------------------------------------------ rotate


def test_rotate_swaps_the_key_and_the_old_one_stops_working(
    keys_moto: Emulator,
    deploy: Callable[..., Deployed],
    enforce_iam: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deployed = deploy(keys_moto.endpoint)
    admin = admin_keys(keys_moto.endpoint, f"{deployed.project}-admin")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin[1])
    path = tmp_path / ".env"
    path.write_text("DEBUG=1\n")
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    old = values(path)

    # The proof runs without IAM enforcement: moto answers presigned URLs with HTTP 500 while it
    # enforces IAM (and authorises DynamoDB against "*"), so the round trips could not pass there.
    # Without enforcement the proof still checks the key's STS identity is the user's, and the round trips
    # go through; but that moto accepts any signature, so the rotation says the proof is not verifiable.
    result = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 0, result.output
    new = values(path)
    assert new["AWS_ACCESS_KEY_ID"] != old["AWS_ACCESS_KEY_ID"]
    assert path.read_text().startswith("DEBUG=1\n") and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_no_secret(result, new["AWS_SECRET_ACCESS_KEY"])
    assert_no_secret(result, old["AWS_SECRET_ACCESS_KEY"])
    assert "passed the health probes" not in result.stdout
    assert "the health probes ran with the new key but could not verify it" in result.stdout
    assert f"{deployed.endpoint} accepts any signature" in result.stdout
    assert deployed.access_keys() == {new["AWS_ACCESS_KEY_ID"]: "Active"}  # the old key is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "config.yaml"]  # no proof or temp file left

    enforce_iam()  # now a deleted key is really refused
    sts_new = client(deployed.endpoint, "sts", key=new["AWS_ACCESS_KEY_ID"], secret=new["AWS_SECRET_ACCESS_KEY"])
    assert sts_new.get_caller_identity()["Arn"].endswith(f":user/{deployed.user}")
    sts_old = client(deployed.endpoint, "sts", key=old["AWS_ACCESS_KEY_ID"], secret=old["AWS_SECRET_ACCESS_KEY"])
    with pytest.raises(Exception, match="InvalidClientTokenId"):
        sts_old.get_caller_identity()


def test_a_failed_proof_keeps_the_old_key_and_the_env_file(
    keys_moto: Emulator,
    deploy: Callable[..., Deployed],
    enforce_iam: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The app user is granted only the table, so the proof is its STS identity and the table probe
    # (moto's presigned URLs fail with HTTP 500 under IAM enforcement, which would prove nothing).
    deployed = deploy(keys_moto.endpoint, buckets=False)
    admin = admin_keys(keys_moto.endpoint, f"{deployed.project}-admin")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin[1])
    path = tmp_path / ".env"
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    assert "S3_BUCKET_NAME" not in values(path)  # no bucket grant: no bucket variable
    before = path.read_bytes()
    old_id = values(path)["AWS_ACCESS_KEY_ID"]
    # Break the principal: its group loses the policy, so the new key cannot do the app's job.
    iam = deployed.iam()
    [attached] = iam.list_attached_group_policies(GroupName=deployed.user)["AttachedPolicies"]
    iam.detach_group_policy(GroupName=deployed.user, PolicyArn=attached["PolicyArn"])
    enforce_iam()

    result = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 1
    assert "failed the health probes" in result.stderr
    assert "health.table-put-get-delete" in result.stderr and "AccessDenied" in result.stderr
    assert f"...{old_id[-4:]} and {path} are unchanged" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_bytes() == before
    assert deployed.access_keys() == {old_id: "Active"}  # the new key was deleted, the old one untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "config.yaml"]


def test_rotate_with_an_inactive_second_key_needs_delete_inactive(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    spare = deployed.iam().create_access_key(UserName=deployed.user)["AccessKey"]["AccessKeyId"]
    deployed.iam().update_access_key(UserName=deployed.user, AccessKeyId=spare, Status="Inactive")
    current = values(path)["AWS_ACCESS_KEY_ID"]

    refused = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path))
    assert refused.exit_code == 1 and "--delete-inactive" in refused.stderr
    assert set(deployed.access_keys()) == {current, spare}

    done = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path), "--delete-inactive", "--format", "json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["deleted_keys"] == [f"...{spare[-4:]}"] and data["old_key"] == f"...{current[-4:]}"
    assert list(deployed.access_keys()) == [values(path)["AWS_ACCESS_KEY_ID"]]
    assert "secret" not in data


def test_rotate_refuses_when_the_second_key_is_active(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    other = deployed.iam().create_access_key(UserName=deployed.user)["AccessKey"]["AccessKeyId"]
    result = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path), "--delete-inactive")
    assert result.exit_code == 1
    assert "both are active" in result.stderr and f"--key-id {other}" in result.stderr
    assert len(deployed.access_keys()) == 2


def test_rotate_without_an_env_file_uses_the_only_active_key(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    old = deployed.iam().create_access_key(UserName=deployed.user)["AccessKey"]["AccessKeyId"]
    path = tmp_path / ".env"
    result = run(deployed, "rotate", "--principal", "app", "--dotenv", str(path))
    assert result.exit_code == 0, result.output
    assert old not in deployed.access_keys() and list(deployed.access_keys()) == [values(path)["AWS_ACCESS_KEY_ID"]]
    assert "rotated the user's only active key" in result.stdout


def test_proof_retries_while_the_key_propagates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # moto makes keys usable at once; AWS may refuse a new key for a few seconds (InvalidClientTokenId).
    # The retry loop is shown here with health answers standing in for that delay.
    from toolkit.findings import Report, failed, passed
    from toolkit.health import checks

    env = load_project(Path(__file__).resolve().parents[2] / "config.yaml")
    environment = next(iter(env.environments.values()))
    principal = next(p for p in environment.principals.values() if p.spec.kind == "user")
    answers = [
        [failed(checks.PRINCIPAL_CREDENTIALS, principal.arn, "refused", details={"diagnosis": "invalid-access-key"})],
        [failed(checks.PRINCIPAL_CREDENTIALS, principal.arn, "refused", details={"diagnosis": "invalid-access-key"})],
        [passed(checks.PRINCIPAL_CREDENTIALS, principal.arn, "works")],
    ]
    seen_files: list[Path] = []

    def fake_health(*_: Any, credentials: Path, **__: Any) -> Report:
        seen_files.append(credentials)
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        return Report(command="health", project="p", environment="e", region="us-east-1", account=None,
                      started_at="", duration_s=0, tool_version="0", checks=[], findings=answers.pop(0))  # fmt: skip

    monkeypatch.setattr("toolkit.health.run.run_health", fake_health)
    slept: list[float] = []
    creds = keys.PrincipalCredentials("AKIAEXAMPLEEXAMPLE12", "s" * 40)
    proof = keys.prove(environment, project="p", principal=principal, creds=creds, folder=tmp_path, sleep=slept.append)
    assert proof.ok and proof.attempts == 3 and slept == [1.0, 2.0]
    assert not any(p.exists() for p in seen_files)  # the proof file is always removed

    answers[:] = [[failed(checks.PRESIGNED_PUT, "s3://b", "denied", details={"diagnosis": "access-denied"})]] * 5
    final = keys.prove(environment, project="p", principal=principal, creds=creds, folder=tmp_path, sleep=slept.append)
    assert not final.ok and final.attempts == 1  # AccessDenied is not propagation: no retry


def test_a_proof_where_any_signature_is_accepted_is_not_verifiable_and_a_server_error_blocks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Stand-in health answers (as above): what health says on moto without enforcement, then a 5xx.
    from toolkit.findings import Report, errored, passed
    from toolkit.health import checks

    env = load_project(Path(__file__).resolve().parents[2] / "config.yaml")
    environment = next(iter(env.environments.values()))
    principal = next(p for p in environment.principals.values() if p.spec.kind == "user")
    unchecked = {"diagnosis": "signature-not-checked"}
    answers = [
        [
            errored(checks.PRINCIPAL_CREDENTIALS, principal.arn, "not verifiable", details=unchecked),
            errored(checks.PRESIGNED_PUT, "s3://b", "not verifiable", details=unchecked),
        ],
        [
            passed(checks.PRINCIPAL_CREDENTIALS, principal.arn, "works"),
            errored(checks.PRESIGNED_PUT, "s3://b", "HTTP 500", details={"diagnosis": "not-verifiable"}),
        ],
    ]

    def fake_health(*_: Any, **__: Any) -> Report:
        return Report(command="health", project="p", environment="e", region="us-east-1", account=None,
                      started_at="", duration_s=0, tool_version="0", checks=[], findings=answers.pop(0))  # fmt: skip

    monkeypatch.setattr("toolkit.health.run.run_health", fake_health)
    creds = keys.PrincipalCredentials("AKIAEXAMPLEEXAMPLE12", "s" * 40)
    proof = keys.prove(environment, project="p", principal=principal, creds=creds, folder=tmp_path, sleep=print)
    assert proof.ok
    assert [p.check for p in proof.unverified] == [checks.PRINCIPAL_CREDENTIALS.id, checks.PRESIGNED_PUT.id]
    reason = keys.unverified_reason(environment, proof)
    assert reason is not None and "accepts any signature" in reason
    blocked = keys.prove(environment, project="p", principal=principal, creds=creds, folder=tmp_path, sleep=print)
    # A server error proves nothing either way: the rotation does not go ahead.
    assert [p.check for p in blocked.problems] == [checks.PRESIGNED_PUT.id] and not blocked.unverified


# ------------------------------------------------------------------ revoke


def test_revoke_needs_yes_then_deletes_the_key_and_the_variables(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    path.write_text("DEBUG=1\n")
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    key_id = values(path)["AWS_ACCESS_KEY_ID"]

    refused = run(deployed, "revoke", "--principal", "app", "--dotenv", str(path))
    assert refused.exit_code == 3 and "--yes" in refused.stderr
    assert deployed.access_keys() == {key_id: "Active"}

    done = run(deployed, "revoke", "--principal", "app", "--dotenv", str(path), "--yes")
    assert done.exit_code == 0, done.output
    assert deployed.access_keys() == {}
    assert path.read_text() == "DEBUG=1\n"
    assert f"revoked access key ...{key_id[-4:]}" in done.stdout


def test_revoke_removes_a_file_that_held_only_our_variables(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    result = run(deployed, "revoke", "--principal", "app", "--dotenv", str(path), "--yes", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["file_removed"] is True
    assert not path.exists() and deployed.access_keys() == {}


def test_revoke_by_key_id_leaves_an_env_holding_another_key(
    moto: Emulator, deploy: Callable[..., Deployed], tmp_path: Path
) -> None:
    deployed = deploy(moto.endpoint)
    path = tmp_path / ".env"
    assert run(deployed, "issue", "--principal", "app", "--dotenv", str(path)).exit_code == 0
    before = path.read_bytes()
    other = deployed.iam().create_access_key(UserName=deployed.user)["AccessKey"]["AccessKeyId"]
    result = run(deployed, "revoke", "--principal", "app", "--dotenv", str(path), "--key-id", other, "--yes")
    assert result.exit_code == 0, result.output
    assert other not in deployed.access_keys() and path.read_bytes() == before
    assert "left unchanged" in result.stdout
    unknown = run(deployed, "revoke", "--principal", "app", "--key-id", other, "--yes", "--dotenv", str(path))
    assert unknown.exit_code == 1 and "is not a key of IAM user" in unknown.stderr


def test_an_operator_without_iam_rights_gets_access_denied_explained(
    keys_moto: Emulator,
    deploy: Callable[..., Deployed],
    enforce_iam: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deployed = deploy(keys_moto.endpoint, tables=False)
    weak = deployed.iam().create_user(UserName=f"{deployed.project}-weak")["User"]["UserName"]
    key = deployed.iam().create_access_key(UserName=weak)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    enforce_iam()
    result = run(deployed, "issue", "--principal", "app", "--dotenv", str(tmp_path / "app.env"))
    assert result.exit_code == 1
    assert "Error: iam:ListAccessKeys: AccessDenied" in result.stderr
    assert "iam:CreateAccessKey" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "app.env").exists()
