"""An embedded AWS emulator: a moto server in a child process, on loopback, on a free port.

Used by `cargohold demo` and by the tests. A child process (not a thread) keeps the emulator's
work off the caller's GIL and lets each server get its own environment (e.g. moto's CORS switch).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from cargohold_core.errors import CargoholdError

FAKE_ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class Emulator:
    endpoint: str
    pid: int

    def client_env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment that points boto3/Terraform at this emulator with fake credentials."""
        return {
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(endpoint: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CargoholdError(
                f"the moto server exited with code {proc.returncode} before it was ready",
                hint="run `python -m moto.server -H 127.0.0.1` by hand to see why",
            )
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise CargoholdError(
        f"the moto server at {endpoint} was not ready after {timeout:.0f}s",
        hint="check that nothing else is slowing this machine down, then try again",
    )


@contextmanager
def moto_server(*, extra_env: Mapping[str, str] | None = None, timeout: float = 30.0) -> Iterator[Emulator]:
    """Start `moto.server` on 127.0.0.1 and stop it on exit. Loopback only, by design."""
    if importlib.util.find_spec("moto") is None:
        raise CargoholdError(
            "the embedded AWS emulator (moto) is not installed",
            hint="install cargohold with its emulator extra: pip install 'cargohold[emulator]'",
        )
    port = free_port()
    env = dict(os.environ)
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(endpoint, proc, timeout)
        yield Emulator(endpoint=endpoint, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
