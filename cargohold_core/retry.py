"""The one retry policy: which answers are worth another attempt, and how long to wait before it.

Used by the S3 request paths (the uploader's PUTs, the audit's configuration GETs) and the database
adapters. botocore-driven calls keep botocore's own retry modes (cargohold_core.aws.RETRIES).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# HTTP statuses and S3 error codes a later attempt may get past (as botocore's standard mode reads them).
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
    {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "OperationAborted",
        "Throttling",
        "ThrottlingException",
    }
)

_JITTER = random.Random()  # noqa: S311 - jitter, not crypto


def retryable_answer(status: int, code: str | None) -> bool:
    """Whether an S3 error answer is worth another attempt."""
    return status in RETRYABLE_STATUS or code in RETRYABLE_CODES


@dataclass(frozen=True)
class Backoff:
    """At most `max_attempts` tries (the first included); after failure n (1-based) wait a uniform
    random time in [0, min(cap, base * 2**(n-1))] seconds: AWS's "full jitter" backoff."""

    max_attempts: int = 6
    base: float = 0.1
    cap: float = 5.0

    def delay(self, failures: int) -> float:
        return _JITTER.uniform(0, min(self.cap, self.base * 2 ** (failures - 1)))

    def run(self, call: Callable[[], T], *, retryable: Callable[[Exception], bool]) -> T:
        """Call `call` until it succeeds, retrying the exceptions `retryable` accepts; re-raise the last one."""
        failures = 0
        while True:
            try:
                return call()
            except Exception as exc:
                failures += 1
                if failures >= self.max_attempts or not retryable(exc):
                    raise
            time.sleep(self.delay(failures))
