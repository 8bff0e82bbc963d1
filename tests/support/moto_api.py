"""moto's own control API, and the per-test emulated account built on it.

- `reset(endpoint)`: every service back to empty (a fresh account), in a few milliseconds.
- `set_auth(endpoint, count)`: IAM enforcement on after `count` more requests ("0": now; "inf": off).
- `account_server` / `account` fixtures: one server per test module (with AWS managed policies, so
  AmazonS3FullAccess exists), reset before each test. For tests that read a whole account (audit,
  discover, the scenarios), where unique names are not enough to keep tests apart.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from cargohold_core import aws
from toolkit.demo.emulator import Emulator, moto_server


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).close()


def set_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def account_server() -> Iterator[Emulator]:
    with moto_server(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as emulator:
        yield emulator


@pytest.fixture
def account(account_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A fresh, empty emulated account, and the environment variables that point boto3 at it."""
    reset(account_server.endpoint)
    aws.forget_assumed_roles()  # moto forgot the roles' keys with the rest of its state
    for name, value in account_server.client_env().items():
        monkeypatch.setenv(name, value)
    return account_server


def into_emulator_account(document: dict[str, Any], env_name: str, endpoint: str) -> dict[str, Any]:
    """A config document whose environment `env_name` is moved into moto's default account at `endpoint`:
    every ARN naming the environment's own account (its keys, its role to assume) moves with it; a named
    profile is dropped (it names credentials on the user's machine)."""
    import json

    original = str(document["environments"][env_name]["account"])
    moved: dict[str, Any] = json.loads(json.dumps(document).replace(f":{original}:", f":{MOTO_ACCOUNT}:"))
    spec = moved["environments"][env_name]
    spec.update(account=MOTO_ACCOUNT, endpoint=endpoint)
    spec.pop("profile", None)
    return moved


MOTO_ACCOUNT = "123456789012"
