"""A fresh emulated account per test (the discovery reads the whole account), and helpers to point a
config at it."""

from __future__ import annotations

from pathlib import Path

from cargohold_core.config import load_project
from cargohold_core.config.model import Environment, Project
from tests.support.moto_api import account, account_server  # noqa: F401 - this folder's fixtures

LOCAL_ENDPOINT = "http://127.0.0.1:5000"  # what the shipped configs' `local` environments name


def pointed(source: Path | str, target: Path, endpoint: str, env: str = "local") -> tuple[Project, Environment]:
    """The config (a file or YAML text) written to `target` with its emulator endpoint replaced."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(LOCAL_ENDPOINT, endpoint).replace("ENDPOINT", endpoint), encoding="utf-8")
    project = load_project(target)
    return project, project.environment(env)
