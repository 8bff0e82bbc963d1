"""`cargohold demo`: the whole story on embedded defaults, against its own moto server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cargohold_core.config import declared_resources, load_project
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/config.yaml"))


def test_demo_json() -> None:
    result = CliRunner().invoke(main, ["demo", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)  # nothing but JSON on stdout in json mode

    assert payload["project"] == "acme-lms"
    assert payload["environment"] == "local"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", payload["emulator"])

    state = "acme-lms-local-tfstate-123456789012"
    assert payload["bootstrap"] == [
        {"resource": f"s3://{state}", "action": "created"},
        {"resource": "dynamodb:acme-lms-local-tflock", "action": "created"},
    ]
    assert [s["action"] for s in payload["bootstrap_again"]] == ["unchanged", "unchanged"]
    assert payload["state_backend"] == {
        "bucket": state,
        "versioning": "Enabled",
        "encryption": "AES256",
        "public_access_blocked": True,
        "lock_table": "acme-lms-local-tflock",
        "lock_key": "LockID",
    }

    assert len(payload["examples"]) == 5
    assert [e["name"] for e in payload["examples"]] == EXAMPLES
    for example in payload["examples"]:
        project = load_project(REPO / "examples" / example["name"] / "config.yaml")
        assert example["project"] == project.name
        assert example["resources"] == len(declared_resources(next(iter(project.environments.values()))))

    resources = payload["declared_resources"]
    assert resources
    expected = declared_resources(load_project(REPO / "config.yaml").environment("local"))
    assert [r["address"] for r in resources] == [r.address for r in expected]
    assert payload["seconds"] >= 0

    migration = payload["migration"]
    assert migration["plan"]["objects"] == 6 and migration["plan"]["missing_files"] == 1
    assert migration["run"]["uploaded"] == 6 and migration["run"]["rows_updated"] == 7
    assert migration["verify"]["ok"] is True
    assert (migration["second_run"]["uploaded"], migration["second_run"]["rows_updated"]) == (0, 0)
    assert migration["cleanup"]["files_deleted"] == 6
    after = {row[0]: row for row in migration["rows_after"]}
    assert sum(1 for row in after.values() if row[3] == "s3" and row[2]) == 7
    assert [row for row in after.values() if row[3] == "local"] == [
        [8, "./uploads/u-1004/c-300/unit-1/lost.pdf", None, "local"]
    ]

    # The hand-made setup: discovered (what config.yaml cannot say is reported), audited (the planted
    # problems show up), then brought under config.yaml and its pasted key rotated into a 0600 file.
    adoption = payload["adoption"]
    assert len(adoption["discovered"]["buckets"]) == 3 and len(adoption["discovered"]["tables"]) == 2
    assert any("AmazonS3FullAccess" in line for line in adoption["discovered"]["could_not_express"])
    assert adoption["discovered"]["import_blocks"] > 0
    planted = {
        "s3.public-exposure",
        "s3.bucket-public-access-block",
        "s3.account-public-access-block",
        "s3.acls-disabled",
        "s3.cors-wildcard-write",
        "iam.full-access-managed-policy",
        "iam.policy-attached-to-user",
    }
    assert planted <= set(adoption["audit_before"]["checks"])
    assert (adoption["rotated"]["mode_before"], adoption["rotated"]["mode_after"]) == ("0o644", "0o600")
    assert adoption["rotated"]["proof_verified"] is False  # moto accepts any signature: the proof cannot be one

    # After config.yaml, the audit finds exactly what config.yaml relaxes for `local`; the TLS-only policy the emulator
    # cannot evaluate (tls_only: false on two buckets, and the state bucket) is waived, not hidden.
    audit = payload["audit"]
    assert sorted((p["check"], p["resource"].rsplit(":", 1)[-1]) for p in audit["problems"]) == [
        ("dynamodb.deletion-protection", "table/acme-lms-local-courses"),
        ("dynamodb.pitr", "table/acme-lms-local-courses"),
        ("s3.versioning", "acme-lms-local-access-logs"),
    ]
    assert audit["summary"]["waived"] == 3 and audit["summary"]["error"] == 0
    applied = adoption["applied"]
    assert applied["provider"] == "cargohold emulator provider, hashicorp/aws 6.66.0 schema"
    assert applied["terraform"]["binary"] and applied["second_plan_has_changes"] is False
    # Health: nothing fails. The account, buckets, regions and CORS preflights pass; what rests on a signature
    # (the credentials, the presigned round trips, the table items) or on IAM (least privilege) ran but is
    # not verifiable on moto, which accepts any signature and enforces no IAM (issue 13: these used to PASS).
    health = payload["health"]
    assert health["summary"]["fail"] == 0 and health["summary"]["pass"] == 10
    assert {p["check"] for p in health["problems"]} == {
        "health.credentials",
        "health.principal-credentials",
        "health.presigned-put-get-delete",
        "health.table-put-get-delete",
        "health.least-privilege-denied",
    }
    assert all(p["status"] == "error" and "not verifiable" in p["message"] for p in health["problems"])
    assert {p["details"]["diagnosis"] for p in health["problems"]} == {"signature-not-checked", "not-enforced"}
    assert payload["cost"] == {"measured_monthly_usd": 0.0, "planned_50gb_standard_monthly_usd": 1.15}


def test_demo_text_tells_the_numbered_story() -> None:
    result = CliRunner().invoke(main, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    numbered = [line.split(".", 1)[0] for line in lines if re.match(r"^\d+\. ", line)]
    assert numbered == [str(n) for n in range(1, 15)]
    assert "Summary:" in result.output
    out = result.output
    assert "Validated 5 bundled examples" in out
    assert "moto server" in out
    assert "created   s3://acme-lms-local-tfstate-123456789012" in out
    assert "unchanged" in out
    assert "versioning Enabled, encryption AES256, public access blocked: True" in out
    assert "lock table key: LockID" in out
    assert "Preview of environment 'local'" in out
    assert "verify: 6 objects and 7 rows checked: all match" in out
    assert "run again: 0 uploads, 0 row updates" in out
    assert "cleanup: deleted 6 local files" in out
    assert "not verifiable here: the emulator accepts any signature" in out
    assert "proven by the health probes" not in out  # the emulator cannot prove a key
    assert lines[-1].startswith("Done in ")


def test_demo_with_a_config_without_local_env(write_config: Callable[..., Path]) -> None:
    path = write_config("project: demo\nenvironments:\n  dev: {region: us-east-1, account: '111111111111'}\n")
    result = CliRunner().invoke(main, ["demo", "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Error: {path} has no 'local' environment for the demo" in result.output


def test_demo_without_the_emulator_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto cannot be uninstalled inside the test run: stand in for its absence at the one place that asks.
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a))
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 1
    assert "the embedded AWS emulator (moto) is not installed" in result.output
    assert "pip install 'cargohold[emulator]'" in result.output
    assert "Traceback" not in result.output
