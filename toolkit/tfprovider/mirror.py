"""The filesystem mirror and CLI config through which Terraform installs the emulator provider.

Built at run time, because the provider executable is a script whose first line must name the
interpreter running cargohold. Unpacked layout
(`registry.terraform.io/hashicorp/aws/6.66.0/<os>_<arch>/terraform-provider-aws_v6.66.0_x5`);
Terraform pins its hash in `.terraform.lock.hcl`, which is therefore never committed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path

from toolkit.tfprovider.schema import VERSION

SOURCE = "registry.terraform.io/hashicorp/aws"

_SCRIPT = """#!{python}
# cargohold's emulator provider, served to Terraform as hashicorp/aws {version} (toolkit/tfprovider).
from toolkit.tfprovider.server import main

main()
"""


def target_platform() -> str:
    system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), platform.system().lower())
    machine = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    return f"{system}_{machine}"


def build(cache_dir: Path, *, python: str | None = None) -> Path:
    """The mirror folder (created once per interpreter and version) holding the provider executable."""
    script = _SCRIPT.format(python=python or sys.executable, version=VERSION)
    digest = hashlib.sha256(script.encode()).hexdigest()[:12]
    mirror = cache_dir / f"emulator-provider-{VERSION}-{digest}"
    executable = mirror / SOURCE / VERSION / target_platform() / f"terraform-provider-aws_v{VERSION}_x5"
    if not executable.is_file():
        executable.parent.mkdir(parents=True, exist_ok=True)
        partial = executable.with_name(f"{executable.name}.{os.getpid()}.partial")
        partial.write_text(script)
        partial.chmod(0o755)
        partial.replace(executable)  # atomic: a concurrent run never sees half a script
    return mirror


def cli_config(cache_dir: Path, *, python: str | None = None) -> Path:
    """A Terraform CLI config that installs hashicorp/aws from the emulator mirror and nothing else."""
    mirror = build(cache_dir, python=python)
    config = mirror / "terraform.rc"
    text = (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{SOURCE}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{SOURCE}"]\n'
        "  }\n"
        "}\n"
    )
    if not config.is_file() or config.read_text() != text:
        partial = config.with_name(f"terraform.rc.{os.getpid()}.partial")
        partial.write_text(text)
        partial.replace(config)
    return config
