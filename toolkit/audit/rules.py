"""How a check is written: a pure function over one inventory model (and what config.yaml wants).

A rule returns a `Verdict` (pass or fail), or None when it does not apply to that resource. Reading a
value that could not be fetched raises `CannotRead`; the runner turns that into an ERROR finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from toolkit.findings import Check, Status

R = TypeVar("R")  # the resource model a rule judges
S = TypeVar("S")  # what config.yaml wants for it (None for a resource the config does not declare)


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str
    expected: Any = None
    actual: Any = None
    details: dict[str, Any] = field(default_factory=dict)


def ok(message: str, **kw: Any) -> Verdict:
    return Verdict(Status.PASS, message, **kw)


def bad(message: str, **kw: Any) -> Verdict:
    return Verdict(Status.FAIL, message, **kw)


@dataclass(frozen=True)
class Rule(Generic[R, S]):
    check: Check
    judge: Callable[[R, S | None], Verdict | None]


class RuleSet(Generic[R, S]):
    """The rules for one kind of resource, in declaration order."""

    def __init__(self) -> None:
        self.rules: list[Rule[R, S]] = []

    def __call__(self, check: Check) -> Callable[[Callable[[R, S | None], Verdict | None]], Any]:
        def register(judge: Callable[[R, S | None], Verdict | None]) -> Callable[[R, S | None], Verdict | None]:
            self.rules.append(Rule(check, judge))
            return judge

        return register
