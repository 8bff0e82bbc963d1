"""Each module's own `terraform test` files (terraform/modules/*/tests/*.tftest.hcl), run by real Terraform.

The files plan the module with `mock_provider "aws"`: Terraform reads the hashicorp/aws 6.66.0 schema from
cargohold's emulator provider (installed from its mirror, as `cargohold plan` does on an emulator) and mocks
every resource, so no endpoint is involved. They cover every variable validation and precondition (one run
each, `expect_failures`) and what each optional feature plans. A validation added without its run fails
test_every_validation_has_a_run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.terraform.locate import TerraformBinary, default_cache_dir
from toolkit.tfprovider import mirror

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (REPO / "terraform" / "modules").iterdir() if (p / "main.tf").is_file())

pytestmark = pytest.mark.terraform

# Checks no input can trip, so no run can expect them to fail: iam-principal's guard against a wildcard in
# its own actions.json (the vocabulary is checked for wildcards in tests/config/test_policy.py).
UNREACHABLE = {"iam-principal": 1}


def _terraform(binary: TerraformBinary, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # HOME: the provider caches its certificate under $HOME/.cache
    env = {**os.environ, "HOME": str(cwd), "TF_CLI_CONFIG_FILE": str(mirror.cli_config(default_cache_dir()))}
    return subprocess.run(
        [str(binary.path), *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_the_module_tests_pass(module: Path, tf_binary: TerraformBinary, tmp_path: Path) -> None:
    work = tmp_path / module.name
    shutil.copytree(module, work)  # init writes .terraform and a lock file: never into the source tree
    init = _terraform(tf_binary, work, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr
    result = _terraform(tf_binary, work, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Success! [1-9]\d* passed, 0 failed\.", result.stdout), result.stdout


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_every_validation_has_a_run(module: Path) -> None:
    checks = sum(
        len(re.findall(r"^\s*(?:validation|precondition)\s*\{", f.read_text(), re.M)) for f in module.glob("*.tf")
    )
    runs = sum(f.read_text().count("expect_failures") for f in (module / "tests").glob("*.tftest.hcl"))
    assert checks > 0
    reachable = checks - UNREACHABLE.get(module.name, 0)
    assert runs >= reachable, (
        f"{module.name}: {reachable} validations and preconditions, {runs} runs expecting a failure"
    )


def test_a_broken_assertion_fails(tf_binary: TerraformBinary, tmp_path: Path) -> None:
    """The runner above can fail: a module whose feature plans differently from its test is reported."""
    work = tmp_path / "s3-bucket"
    shutil.copytree(REPO / "terraform" / "modules" / "s3-bucket", work)
    main = work / "main.tf"
    main.write_text(
        main.read_text().replace('object_ownership = "BucketOwnerEnforced"', 'object_ownership = "ObjectWriter"')
    )
    assert _terraform(tf_binary, work, "init", "-backend=false", "-input=false").returncode == 0
    result = _terraform(tf_binary, work, "test")
    assert result.returncode != 0
    assert 'run "defaults_are_hardened"... fail' in result.stdout
