"""Read-only AWS calls for the inventory: bounded concurrency, adaptive retries, a call counter.

A setting that is simply not configured (no bucket policy, no lifecycle...) is a value (None or
empty); any other failure becomes an `Unreadable` value, so a check on it reports ERROR, never PASS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cargohold_core import aws
from cargohold_core.config.model import Environment

T = TypeVar("T")


class CannotRead(Exception):
    """Raised by `Fetched.get()`; the check runner turns it into an ERROR finding."""


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A value read from AWS, or why it could not be read."""

    value: T | None = None
    error: str | None = None

    def get(self) -> T:
        if self.error is not None:
            raise CannotRead(self.error)
        return self.value  # type: ignore[return-value]  # None is a legitimate value ("not configured")

    @property
    def ok(self) -> bool:
        return self.error is None


def error_text(exc: Exception) -> str:
    """Why a read failed, never empty: the AWS error code and message; the HTTP status when the answer
    carried neither (botocore then fills in None or ""); the exception's type when it has no message."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(err.get("Code") or "").strip()
        message = str(err.get("Message") or "").strip()
        if code.isdigit() and status is None:
            status = int(code)
        if code.isdigit():  # botocore's stand-in when the body names no code: the status itself
            code = ""
        http = f"HTTP {status}" if status else "an answer"
        if code and message:
            return f"{code}: {message}"
        if code:
            return f"{code} ({http}, no message)"
        if message:
            return f"{http}: {message}"
        return f"{http} with no error code or message ({type(exc).__name__})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} (no message)"


class Reader:
    """Shared clients (thread-safe in botocore), a bounded pool, and a count of API calls sent."""

    def __init__(self, env: Environment, *, workers: int = 16, session: Any | None = None) -> None:
        self.env = env
        self.workers = max(workers, 8)  # four service readers wait on their own sub-reads in this pool
        self._sent = 0
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        # One session for every client: it loads each service model once (a session per client
        # costs about 0.3 s each). Sessions are not thread-safe, so clients are made under the lock.
        # `session`: one made elsewhere (an organisation member's, assumed from the management account's).
        self._session: Any = session or aws.session(env)  # Any: the stubs type clients per literal service name
        self._clients: dict[tuple[str, str], Any] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cargohold-read")

    @property
    def api_calls(self) -> int:
        return self._sent

    def _count(self, **_: Any) -> None:
        with self._count_lock:
            self._sent += 1

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.env.region)
        with self._lock:
            if key not in self._clients:
                config = aws.RETRIES.merge(Config(max_pool_connections=self.workers))
                made = self._session.client(service, region_name=key[1], endpoint_url=self.env.endpoint, config=config)
                made.meta.events.register("before-send", self._count)  # every attempt, retries included
                aws.adapt_to_emulator(made, self.env)
                self._clients[key] = made
            return self._clients[key]

    def count(self) -> None:
        """Count one request sent outside botocore (toolkit.audit.s3get)."""
        self._count()

    def credentials(self) -> Any:
        """The session's botocore Credentials (None when there are none)."""
        with self._lock:  # sessions are not thread-safe
            return self._session.get_credentials()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def read(call: Callable[[], T], *, absent: tuple[str, ...] = (), default: Any = None) -> Fetched[T]:
    """Run one read; error codes in `absent` mean "not configured" and give `default`."""
    try:
        return Fetched(call())
    except ClientError as exc:
        if aws.error_code(exc) in absent:
            return Fetched(default)
        return Fetched(error=error_text(exc))
    except (BotoCoreError, TimeoutError) as exc:
        return Fetched(error=error_text(exc))
