"""What every database adapter shares: its error type and the retry policy it uses."""

from __future__ import annotations

from cargohold_core.errors import CargoholdError
from cargohold_core.retry import Backoff

__all__ = ["DEFAULT_BACKOFF", "Backoff", "RowStoreError"]


class RowStoreError(CargoholdError):
    """A database adapter could not read or update rows (bad table/column, a failed batch, ...)."""


DEFAULT_BACKOFF = Backoff()
