"""Where an endpoint is: the one rule for "this machine" (where an emulator runs), in a module of its own so
that the CLI and the emulator provider can ask without importing one another. (Whether a request goes through
a proxy is not decided here: both request paths follow botocore's rule, s3http.proxy_for.)"""

from __future__ import annotations

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine, where an emulator runs."""
    return host in LOOPBACK_HOSTS
