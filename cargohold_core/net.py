"""Where an endpoint is: the one rule for "this machine" (where an emulator runs), in a module of its own so
that the CLI, the emulator provider and the S3 request layer can ask without importing one another."""

from __future__ import annotations

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine, where an emulator runs."""
    return host in LOOPBACK_HOSTS
