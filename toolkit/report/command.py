"""What `audit`, `health` and `cost` share on the command line: options, waivers, --since, exit codes.

Exit codes (for schedulers): 0 clean; 2 findings at or above --fail-on; 1 error: the command could
not run (bad config, no credentials) or some check could not read what it needed (the report is
still written, with those results marked `error`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast, overload

import click

from toolkit.findings import Report, Severity, Status
from toolkit.report import publish

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 2


def _severity(ctx: click.Context, param: click.Parameter, value: str) -> Severity | None:
    if value == "none":
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dataclass(frozen=True)
class ReportRequest:
    """What a report command (audit, health, cost) was asked for besides what it measures: where the
    config is, which environment, and how the report is written and judged."""

    config_path: Path
    env_name: str | None  # None only where the command allows it (audit --all-envs)
    fmt: str
    output: Path | None
    fail_on: Severity | None
    waivers_path: Path | None
    since_path: Path | None

    def finish(self, report: Report) -> NoReturn:
        finish(
            report,
            config_path=self.config_path,
            fmt=self.fmt,
            output=self.output,
            fail_on=self.fail_on,
            waivers_path=self.waivers_path,
            since_path=self.since_path,
        )


@overload
def report_command(func: F) -> F: ...
@overload
def report_command(*, env_required: bool = ...) -> Callable[[F], F]: ...


def report_command(func: F | None = None, *, env_required: bool = True) -> Any:
    """The options every report command shares (--config --format --env --output --fail-on --waivers
    --since), handed to the command as one `ReportRequest`, its first argument."""
    from toolkit.cli_options import report_command_options

    names = [f.name for f in ReportRequest.__dataclass_fields__.values()]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def bundled(**kwargs: Any) -> Any:
            request = ReportRequest(**{name: kwargs.pop(name) for name in names})
            return func(request, **kwargs)

        return cast(F, report_command_options(report_options(bundled, env_required=env_required)))

    return decorate(func) if func is not None else decorate


def report_options(func: F, *, env_required: bool = True) -> F:
    """--env --output --fail-on --waivers --since (`report_command` adds --config and --format)."""
    options = [
        click.option(
            "--env", "-e", "env_name", required=env_required, default=None, help="The environment (from config.yaml)."
        ),
        click.option(
            "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to this file."
        ),
        click.option(
            "--fail-on",
            default="low",
            show_default=True,
            callback=_severity,
            help="Exit 2 when a finding at or above this severity remains (info|low|medium|high|critical|none).",
        ),
        click.option(
            "--waivers",
            "waivers_path",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="A waivers file (default: cargohold-waivers.yaml next to the config, when present).",
        ),
        click.option(
            "--since",
            "since_path",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="A JSON report from an earlier run: also show new and resolved findings.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def finish(
    report: Report,
    *,
    config_path: Path,
    fmt: str,
    output: Path | None,
    fail_on: Severity | None,
    waivers_path: Path | None,
    since_path: Path | None,
) -> NoReturn:
    """Apply waivers and --since, write the report, and exit with the scheduler's code."""
    from toolkit.report import since, waivers

    waivers.apply(report, waivers.load(waivers.locate(waivers_path, config_path)))
    if since_path is not None:
        report.comparison = since.compare(since.load(since_path), report)
    publish(report, fmt=fmt, output=output)
    if output is not None:
        c = report.counts()
        click.echo(
            f"wrote {output}: {c['fail']} failed, {c['error']} unknown, {c['waived']} waived, {c['pass']} passed",
            err=True,
        )
    raise click.exceptions.Exit(exit_code(report, fail_on))


def exit_code(report: Report, fail_on: Severity | None) -> int:
    if any(f.status is Status.ERROR and f.waiver is None for f in report.findings):
        return EXIT_ERROR
    if fail_on is not None and report.problems(at_least=fail_on):
        return EXIT_FINDINGS
    return EXIT_CLEAN
