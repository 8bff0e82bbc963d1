"""One exception root for the toolkit; the CLI turns these into one clean error and an exit code.

Library code raises, never prints or exits. Every error carries a `hint` that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass


class CargoholdError(Exception):
    """Base of every error a user can cause or fix. `hint` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a YAML file: where it is, what is wrong, what to write instead."""

    file: str
    line: int  # 1-based; 0 when the location is unknown
    column: int  # 1-based; 0 when unknown
    path: str  # dotted key path, e.g. "buckets.photos.cors[0].allowed_methods"
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class ConfigError(CargoholdError):
    """A configuration file that cannot be used; lists every problem found, each located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{count} {noun} in {self.problems[0].file if self.problems else 'the configuration'}",
            hint="fix each problem listed above, then run `cargohold validate` again",
        )

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class TerraformError(CargoholdError):
    """Terraform could not be found or a Terraform command failed."""


class PlanRefused(CargoholdError):
    """A saved plan may not be applied (stale, missing, or destructive without permission)."""

    exit_code = 3


class AwsError(CargoholdError):
    """An AWS call failed in a way the user must act on (credentials, permissions, region)."""
