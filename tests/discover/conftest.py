"""A fresh emulated account per test (the discovery reads the whole account), and helpers to point a
config at it."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolkit.config import load_project
from toolkit.config.model import Environment, Project
from toolkit.emulator import Emulator, moto_server

LOCAL_ENDPOINT = "http://127.0.0.1:5000"  # what the shipped configs' `local` environments name


@pytest.fixture(scope="module")
def account_server() -> Iterator[Emulator]:
    with moto_server(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as emulator:
        yield emulator


@pytest.fixture
def account(account_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A fresh, empty emulated account."""
    request = urllib.request.Request(f"{account_server.endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).close()
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    return account_server


def pointed(source: Path | str, target: Path, endpoint: str, env: str = "local") -> tuple[Project, Environment]:
    """The config (a file or YAML text) written to `target` with its emulator endpoint replaced."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(LOCAL_ENDPOINT, endpoint).replace("ENDPOINT", endpoint), encoding="utf-8")
    project = load_project(target)
    return project, project.environment(env)
