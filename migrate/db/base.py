"""What every database adapter shares: its error type and the retry/backoff loop."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cargohold_core.errors import CargoholdError
from cargohold_core.s3http import full_jitter

T = TypeVar("T")


_JITTER = random.Random()  # noqa: S311 - jitter, not crypto


class RowStoreError(CargoholdError):
    """A database adapter could not read or update rows (bad table/column, a failed batch, ...)."""


@dataclass(frozen=True)
class Backoff:
    """Jittered exponential backoff: attempt n (1-based) sleeps up to min(cap, base * 2**(n-1)) seconds."""

    max_attempts: int = 6
    base: float = 0.1
    cap: float = 5.0

    def delay(self, attempt: int) -> float:
        return full_jitter(_JITTER, attempt - 1, base=self.base, cap=self.cap)

    def run(self, call: Callable[[], T], *, retryable: Callable[[Exception], bool]) -> T:
        """Call `call` until it succeeds, retrying the exceptions `retryable` accepts; re-raise the last one."""
        attempt = 1
        while True:
            try:
                return call()
            except Exception as exc:
                if attempt >= self.max_attempts or not retryable(exc):
                    raise
            time.sleep(self.delay(attempt))
            attempt += 1


DEFAULT_BACKOFF = Backoff()
