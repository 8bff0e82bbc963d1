"""Acceptance: `cargohold audit`, `health` and `cost` work against a moto server with every shipped config,
in every report format, as real subprocesses (`python -m toolkit`).

For each config (config.yaml and examples/*/config.yaml) the module's own moto server is reset, the `local`
environment is applied by real Terraform with the emulator provider (then the account's Block Public
Access), and the first principal of kind user gets an access key in a 0600 .env file; then each command
runs against it. One account per config, not per command: a reset reloads moto's AWS managed policies
and Terraform remakes everything, which costs seconds each time; the commands only read (health's
probe objects and items are removed by health itself), so they can share it. Every format for every
command on config.yaml (and text to stdout); JSON (to a file) and SARIF (to stdout) for the examples, to
keep the matrix fast. Each output is read back by a real consumer: JSON
Schema validators for our JSON and for SARIF 2.1.0, junitparser for JUnit, botocore's securityhub model for
ASFF, py-ocsf-models for OCSF.

What the emulator cannot be, and how the test deals with it:
- moto serves plain HTTP, and a TLS-only bucket policy (aws:SecureTransport false -> Deny s3:*) refuses
  every object call and CORS preflight over HTTP. `health` runs with the bucket policies minus the
  TLS-only statements; `audit` and `cost` with the module's whole policies (the audit checks them).
  `tls_only()` switches between the two before each command, with boto3 (re-applying would cost seconds).
- moto does not evaluate presigned-POST policies, so `health` reports `health.presigned-post-policy` as
  `error` ("not verifiable on this endpoint") for a bucket with presigned-POST uploads and content
  types (examples/photos), and exits 1.
- moto does not enforce IAM here (it accepts a request signed with a made-up key), so health reports
  `health.least-privilege-denied` as `error` ("not-enforced") for every call the principal should have
  been denied, and exits 1, on every config.
- moto checks no signatures here (the same made-up key is accepted), so what health can only learn from a
  signature being accepted (the operator's and the principal's credentials, the presigned round trips and
  POST, the table items) is `error` ("signature-not-checked"): it ran, but moto would have accepted any key.
These (check, diagnosis) pairs, from health only, are the only `error` findings (and so the only reason
for exit 1) this test accepts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import junitparser
import pytest
import yaml

from cargohold_core import aws
from cargohold_core.config import load_project
from cargohold_core.config.bucket_policy import bucket_policy_statements
from cargohold_core.config.model import Environment
from tests.support import asff_model, ocsf_model
from tests.support.moto_gaps import only_the_lifecycle_gap
from tests.support.terraform_apply import provision
from toolkit.demo.emulator import Emulator, moto_server
from toolkit.report import REPORT_FORMATS
from toolkit.report.json_format import SCHEMA_PATH

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
FULL_MATRIX = REPO / "config.yaml"  # every format for every command on this one
CONFIGS = [FULL_MATRIX, *sorted((REPO / "examples").glob("*/config.yaml"))]
COMMANDS = ("audit", "health", "cost")
ENV = "local"
TLS_SIDS = ("DenyInsecureTransport", "DenyOutdatedTls")  # what tls_only(on=False) leaves out
# The only `error` findings an emulator may cause, as (command, check, details.diagnosis): see the docstring.
EMULATOR_UNKNOWNS = {
    ("health", "health.presigned-post-policy", "not-verifiable"),
    ("health", "health.least-privilege-denied", "not-enforced"),
    *(
        ("health", check, "signature-not-checked")
        for check in (
            "health.credentials",
            "health.principal-credentials",
            "health.presigned-put-get-delete",
            "health.presigned-post",
            "health.table-put-get-delete",
        )
    ),
}


def _config_id(path: Path) -> str:
    return "config.yaml" if path == FULL_MATRIX else path.parent.name


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with moto_server(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_DISABLE_GLOBAL_CORS": "1"}) as emulator:
        yield emulator


@dataclass(frozen=True)
class Deployed:
    source: Path
    config: Path
    env: Environment
    project: str
    principal: str  # the key of the user principal whose keys are in `credentials`
    credentials: Path
    client_env: dict[str, str]


@pytest.fixture(scope="module", params=CONFIGS, ids=_config_id)
def deployed(request: pytest.FixtureRequest, server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """A fresh account with the config's local environment in it (see the module docstring)."""
    source: Path = request.param
    with pytest.MonkeyPatch.context() as monkeypatch:
        return deploy(server, source, tmp_path_factory.mktemp(_config_id(source)), monkeypatch)


def deploy(server: Emulator, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """Reset the server, make `source`'s local environment in it, and write a user principal's keys to a .env file."""
    reset = urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=60).close()
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    document["environments"][ENV]["endpoint"] = server.endpoint
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    project = load_project(config)
    env = project.environment(ENV)
    client_env = server.client_env(env.region)
    for name, value in client_env.items():
        monkeypatch.setenv(name, value)
    provision(env, tmp_path / "terraform")
    aws.block_public_access_for_account(env)
    user = next(p for p in env.principals.values() if p.spec.kind == "user")
    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name=env.region)
    key = iam.create_access_key(UserName=user.name)["AccessKey"]
    credentials = tmp_path / f"{user.key}.env"
    credentials.write_text(
        f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\nAWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n", encoding="utf-8"
    )
    credentials.chmod(0o600)
    return Deployed(source, config, env, project.name, user.key, credentials, client_env)


def tls_only(d: Deployed, *, on: bool) -> None:
    """Each bucket's policy as the module writes it (`on`), or without its TLS-only statements."""
    s3 = aws.client(d.env, "s3")
    for bucket in d.env.buckets.values():
        statements = bucket_policy_statements(bucket, d.env)
        statements = statements if on else [x for x in statements if x["Sid"] not in TLS_SIDS]
        if statements:
            s3.put_bucket_policy(
                Bucket=bucket.name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
            )
        else:
            s3.delete_bucket_policy(Bucket=bucket.name)


@dataclass(frozen=True)
class Run:
    fmt: str
    output: Path | None  # None: the report went to stdout
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> str:
        return self.output.read_text(encoding="utf-8") if self.output else self.stdout

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\nexit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_command(d: Deployed, command: str, fmt: str, output: Path | None) -> Run:
    args = [sys.executable, "-m", "toolkit", command, "--config", str(d.config), "--env", ENV, "--format", fmt]
    if output is not None:
        args += ["--output", str(output)]
    if command == "health":
        args += ["--principal", d.principal, "--credentials", str(d.credentials)]
    done = subprocess.run(
        args,
        env={**os.environ, **d.client_env},
        cwd=d.config.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Run(fmt, output, args, done.returncode, done.stdout, done.stderr)


def plan(config: Path) -> list[tuple[str, bool]]:
    """(format, to a file?) for each run: every format to a file plus text to stdout on config.yaml;
    JSON to a file and SARIF to stdout on the examples."""
    if config == FULL_MATRIX:
        return [(fmt, True) for fmt in REPORT_FORMATS] + [("text", False)]
    return [("json", True), ("sarif", False)]


def json_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")))


def expected_exit(report: dict[str, Any]) -> int:
    """What the documented exit codes say for this report (default --fail-on low, no waivers)."""
    if report["summary"]["error"]:
        return 1
    return 2 if any(f["status"] == "fail" and f["severity"] != "info" for f in report["findings"]) else 0


@pytest.mark.parametrize("command", COMMANDS)
def test_command_works_in_every_format(
    deployed: Deployed, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployed
    for name, value in d.client_env.items():
        monkeypatch.setenv(name, value)
    tls_only(d, on=command != "health")
    jobs = [(fmt, tmp_path / f"report-{fmt}.out" if to_file else None) for fmt, to_file in plan(d.source)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda job: run_command(d, command, *job), jobs))

    for run in runs:
        assert "Traceback" not in run.stderr, run.describe()
        assert run.returncode in (0, 1, 2), run.describe()
        if run.output is not None:
            assert run.output.is_file(), run.describe()
            assert run.stdout == "", run.describe()  # the report went to the file, nothing to stdout
            assert f"wrote {run.output}" in run.stderr, run.describe()
        else:
            assert "wrote " not in run.stderr, run.describe()

    [json_run] = [r for r in runs if r.fmt == "json"]
    report = json.loads(json_run.report)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in json_validator().iter_errors(report)] == []
    assert (report["command"], report["project"], report["environment"], report["region"]) == (
        command,
        d.project,
        ENV,
        d.env.region,
    )
    assert report["account"] == d.env.account

    errors = [f for f in report["findings"] if f["status"] == "error"]
    unknowns = {(command, f["check"], (f.get("details") or {}).get("diagnosis")) for f in errors}
    assert unknowns <= EMULATOR_UNKNOWNS, json.dumps(errors, indent=1)
    for run in runs:
        assert run.returncode == expected_exit(report), run.describe()

    for run in runs:
        check_format(run, report, d)
    CHECKS[command](report, d.env)


def check_format(run: Run, report: dict[str, Any], d: Deployed) -> None:
    text, findings, summary = run.report, report["findings"], report["summary"]
    if run.fmt == "json":
        return
    if run.fmt == "sarif":
        log = json.loads(text)
        assert [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(log)] == []
        [sarif_run] = log["runs"]
        shown = sorted((f["check"], f["resource"]) for f in findings if f["status"] != "pass")
        results = sorted(
            (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) for r in sarif_run["results"]
        )
        assert results == shown
        assert sarif_run["invocations"][0]["executionSuccessful"] is (summary["error"] == 0)
    elif run.fmt == "junit":
        xml = junitparser.JUnitXml.fromstring(text)
        cases = [case for suite in xml for case in suite]
        assert len(cases) == len(findings)
        outcomes = {"failure": 0, "error": 0, "skipped": 0, "passed": 0}
        for case in cases:
            kinds = [type(result).__name__.lower() for result in case.result]
            outcomes[kinds[0] if kinds else "passed"] += 1
        assert outcomes == {
            "failure": summary["fail"],
            "error": summary["error"],
            "skipped": summary["waived"],
            "passed": summary["pass"],
        }
    elif run.fmt == "asff":
        records = json.loads(text)
        assert [p for r in records for p in asff_model.finding_problems(r)] == []
        assert {r["AwsAccountId"] for r in records} <= {d.env.account}
        compliance = {"pass": "PASSED", "fail": "FAILED", "error": "WARNING"}
        assert sorted(r["Compliance"]["Status"] for r in records) == sorted(compliance[f["status"]] for f in findings)
    elif run.fmt == "ocsf":
        events = json.loads(text)
        assert [p for e in events for p in ocsf_model.problems(e)] == []
        assert {e["cloud"]["account"]["uid"] for e in events} <= {d.env.account}
        assert sorted(e["status_code"] for e in events) == sorted(f["status"].upper() for f in findings)
    elif run.fmt in ("markdown", "html"):
        assert text.strip()
        assert d.project in text and ENV in text
    elif run.fmt == "text":
        lines = text.splitlines()
        assert lines[0].startswith(f"cargohold {report['command']}: {d.project} / {ENV} ")
        counts = f"{summary['fail']} failed, {summary['error']} unknown, {summary['waived']} waived"
        assert lines[-1] == f"{counts}, {summary['pass']} passed"
    else:
        raise AssertionError(f"no check for format {run.fmt}")


def declared(env: Environment) -> dict[str, str]:
    """ARN -> what it is, for every bucket, table and principal the environment declares."""
    out = {b.arn: f"bucket {b.key}" for b in env.buckets.values()}
    out |= {t.arn: f"table {t.key}" for t in env.tables.values()}
    out |= {p.arn: f"principal {p.key}" for p in env.principals.values()}
    return out


def statuses(report: dict[str, Any], check: str) -> dict[str, str]:
    return {f["resource"]: f["status"] for f in report["findings"] if f["check"] == check}


def check_audit(report: dict[str, Any], env: Environment) -> None:
    """Every read worked on a fresh environment, and every declared resource exists and matches config.yaml."""
    assert [f for f in report["findings"] if f["status"] == "error"] == []
    gaps = {
        f["resource"]
        for f in report["findings"]
        if f["check"] == "drift.changed" and only_the_lifecycle_gap(f.get("expected"), f.get("actual"))
    }
    for check in ("drift.missing", "drift.changed"):
        found = {
            arn: "pass" if check == "drift.changed" and arn in gaps else s for arn, s in statuses(report, check).items()
        }
        assert {arn: found.get(arn) for arn in declared(env)} == dict.fromkeys(declared(env), "pass"), check


def check_health(report: dict[str, Any], env: Environment) -> None:
    """The operator's credentials and the principal's keys from the .env file went through, and the keys
    are the principal's; moto accepts any signature, so neither is more than not verifiable (error)."""
    assert set(statuses(report, "health.credentials").values()) == {"error"}
    principal = report["data"]["principal"]
    assert statuses(report, "health.principal-credentials") == {env.principals[principal].arn: "error"}
    [proof] = [f for f in report["findings"] if f["check"] == "health.principal-credentials"]
    assert proof["details"]["diagnosis"] == "signature-not-checked"
    assert proof["actual"] == env.principals[principal].arn  # the key is the principal's, as STS said


def check_cost(report: dict[str, Any], env: Environment) -> None:
    """A non-negative total, and a line for every declared bucket and table."""
    estimate = report["data"]["estimate"]
    total = estimate["total_monthly_usd"]
    assert isinstance(total, (int, float)) and not isinstance(total, bool) and total >= 0
    priced = {r["arn"] for r in estimate["resources"]}
    wanted = {b.arn for b in env.buckets.values()} | {t.arn for t in env.tables.values()}
    assert wanted - priced == set()


CHECKS = {"audit": check_audit, "health": check_health, "cost": check_cost}
