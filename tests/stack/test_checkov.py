"""checkov over the real stack, with each example's rendered variables.

Every failed check must be accepted, with a reason, in terraform/checkov-accepted.yaml; every
accepted entry must still fail somewhere (so the file never outlives its reasons).
checkov runs from its own virtualenv (its `hcl2` module clashes with python-hcl2's): scripts/test.sh
makes it and sets CARGOHOLD_CHECKOV.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from cargohold_core.config import load_project, tfvars
from cargohold_core.paths import terraform_root

REPO = Path(__file__).resolve().parents[2]
ACCEPTED = REPO / "terraform" / "checkov-accepted.yaml"
SCANS = [
    ("config.yaml", "dev"),
    ("config.yaml", "prod"),  # access logging
    ("examples/lms/config.yaml", "dev"),
    ("examples/lms-materials/config.yaml", "dev"),
    ("examples/photos/config.yaml", "dev"),  # the public-read prefix
    ("examples/generations/config.yaml", "prod"),  # SSE-KMS
    ("examples/chat-pdfs/config.yaml", "dev"),
    ("tests/fixtures/dr/config.yaml", "prod"),  # replication into a DR bucket in another region, object lock
]


def checkov_binary() -> str:
    found = os.environ.get("CARGOHOLD_CHECKOV") or shutil.which("checkov")
    local = REPO / ".venv-checkov" / "bin" / "checkov"
    if not found and local.exists():
        found = str(local)
    if not found:
        pytest.skip("checkov is not installed: run `bash scripts/test.sh` (it makes .venv-checkov)")
    return str(Path(found).absolute())


def scan(binary: str, config: str, env_name: str, work: Path) -> list[tuple[str, str, str]]:
    env = load_project(REPO / config).environment(env_name)
    root = work / f"{config.replace('/', '_')}-{env_name}"
    shutil.copytree(terraform_root(), root, ignore=shutil.ignore_patterns(".terraform", "examples", "*.md"))
    (root / "stack" / "case.tfvars.json").write_text(json.dumps(tfvars(env)))
    proc = subprocess.run(
        [
            binary,
            "-d",
            ".",
            "--var-file",
            "case.tfvars.json",
            "--skip-download",
            "--framework",
            "terraform",
            "-o",
            "json",
            "--quiet",
        ],
        cwd=root / "stack",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode in (0, 1), f"checkov failed on {config}/{env_name}: {proc.stderr[-2000:]}"
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failures = []
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, f"checkov could not parse the stack: {report['summary']}"
        failures += [(f["check_id"], f["resource"], f"{config}/{env_name}") for f in report["results"]["failed_checks"]]
    return failures


def matches(resource: str, pattern: str) -> bool:
    """Glob match where only `*` is special (addresses are full of brackets and quotes)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), resource) is not None


@pytest.mark.slow
def test_checkov_reports_nothing_outside_the_accepted_file(tmp_path: Path) -> None:
    binary = checkov_binary()
    accepted = yaml.safe_load(ACCEPTED.read_text())
    for check_id, entry in accepted.items():
        assert entry.get("reason", "").strip(), f"{check_id} needs a reason"
        assert entry.get("kind") in ("scanner", "design"), f"{check_id} needs kind: scanner or design"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda case: scan(binary, case[0], case[1], tmp_path), SCANS)
        failures = [f for result in results for f in result]

    used: set[str] = set()
    unexpected = []
    for check_id, resource, where in failures:
        patterns = accepted.get(check_id, {}).get("resources", [])
        if any(matches(resource, p) for p in patterns):
            used.add(check_id)
        else:
            unexpected.append(f"{check_id} on {resource} ({where})")
    assert not unexpected, "checkov findings not in terraform/checkov-accepted.yaml:\n" + "\n".join(unexpected)
    assert set(accepted) == used, f"accepted entries that no longer fail anywhere: {sorted(set(accepted) - used)}"
    assert failures, "the scan found nothing at all, which means it scanned nothing"
