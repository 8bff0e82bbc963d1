"""Shared fixtures: no test may reach a real network or real AWS; a moto server for AWS tests.

- `_no_remote_network` (autouse) fails any in-process connection to a non-loopback address.
- `_fake_aws_env` (autouse) replaces AWS credentials with dummies and removes profiles, so a
  forgotten endpoint cannot sign a request with someone's real keys.
- `moto` (session) is one moto server over HTTP on loopback (toolkit.demo.emulator.moto_server).
- `write_config` writes a config file into tmp_path from YAML text or a dict.
"""

from __future__ import annotations

import ipaddress
import socket
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from toolkit.demo.emulator import Emulator, moto_server

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIGS = sorted((REPO / "examples").glob("*/config.yaml"))
ALL_CONFIGS = [REPO / "config.yaml", *EXAMPLE_CONFIGS]

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0:0:0:0:0:0:0:1"}


class RemoteNetworkBlocked(AssertionError):
    """Raised when a test's in-process code tries to reach a non-loopback address."""


def _host_of(address: Any) -> str | None:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None  # AF_UNIX paths (str/bytes) and anything that is not a host/port pair


def _is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS or host.startswith("127.") or host.startswith("::ffff:127.")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def _no_remote_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def check(sock: socket.socket | None, address: Any) -> None:
        if sock is not None and sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = _host_of(address)
        if host is not None and not _is_loopback(host):
            raise RemoteNetworkBlocked(f"test tried to open a network connection to {address!r}")

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        check(self, address)
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        check(self, address)
        return real_connect_ex(self, address)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        check(None, address)
        return real_create_connection(address, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # No DNS look-ups of remote names either: they leave the machine before any connect().
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _is_loopback(str(name)) and not _is_ip_literal(str(name)):
            raise RemoteNetworkBlocked(f"test tried to resolve the remote host name {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    # No shared config/credentials files from the machine running the tests.
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.fixture(scope="session")
def moto() -> Iterator[Emulator]:
    """One moto server (over HTTP, on loopback) for the whole session. Use unique names per test."""
    with moto_server() as emulator:
        yield emulator


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(text_or_dict, name="config.yaml") -> the path of the written file."""

    def write(content: str | dict[str, Any], name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(content) if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
