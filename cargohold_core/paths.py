"""Where the Terraform code lives: inside the installed package, or in the source checkout."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from cargohold_core.errors import CargoholdError

_PACKAGE = Path(__file__).resolve().parent


SOURCE_ENV = "CARGOHOLD_TERRAFORM_SOURCE"


def terraform_root() -> Path:
    """The folder holding `stack/` and `modules/` (shipped as cargohold_core/_terraform in the wheel).

    $CARGOHOLD_TERRAFORM_SOURCE points at another such folder: a team's own fork of the stack.
    """
    override = os.environ.get(SOURCE_ENV)
    if override:
        if not (Path(override) / "stack").is_dir():
            raise CargoholdError(
                f"{SOURCE_ENV}={override} has no stack/ folder", hint="point it at a folder holding stack/ and modules/"
            )
        return Path(override)
    return _bundled_terraform()


def provider_schema_dir() -> Path:
    """The committed AWS provider schema (terraform/provider-schema), which the emulator provider serves."""
    return _bundled_terraform() / "provider-schema"


def _bundled_terraform() -> Path:
    for candidate in (_PACKAGE / "_terraform", _PACKAGE.parent / "terraform"):
        if (candidate / "stack").is_dir():
            return candidate
    raise FileNotFoundError("cargohold's Terraform code is missing from this installation")


@cache
def grant_vocabulary() -> dict[str, dict[str, dict[str, Any]]]:
    """The grant words and the IAM actions they stand for, shared with the iam-principal module."""
    path = _bundled_terraform() / "modules" / "iam-principal" / "actions.json"
    data: dict[str, dict[str, dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def example_config() -> Path:
    """The bundled example config.yaml (shipped as cargohold_core/_examples in the wheel)."""
    for candidate in (_PACKAGE / "_examples" / "config.yaml", _PACKAGE.parent / "config.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("cargohold's example config is missing from this installation")


def examples_dir() -> Path:
    for candidate in (_PACKAGE / "_examples" / "examples", _PACKAGE.parent / "examples"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("cargohold's examples are missing from this installation")
