"""The options and error handling every `cargohold` command shares, in a module of their own so that each
command can be a plain module-level click command (importable and testable alone)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cargohold_core.errors import CargoholdError, ConfigError
from toolkit.output import FORMATS
from toolkit.report import REPORT_FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def fail(exc: CargoholdError, fmt: str) -> None:
    if fmt == "json":
        payload: dict[str, Any] = {"error": {"message": exc.message, "hint": exc.hint, "type": type(exc).__name__}}
        if isinstance(exc, ConfigError):
            payload["error"]["problems"] = [p.to_json() for p in exc.problems]
        click.echo(json.dumps(payload, indent=2))
    else:
        if isinstance(exc, ConfigError):
            click.echo(exc.render(), err=True)
        click.echo(f"Error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"Hint: {exc.hint}", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def output_options(func: F, *, formats: tuple[str, ...] = FORMATS) -> F:
    """--format on every command, and one clean error instead of a traceback."""

    @click.option(
        "--format", "fmt", type=click.Choice(formats), default="text", show_default=True, help="Output format."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CargoholdError as exc:
            fail(exc, kwargs.get("fmt", "text"))
        except Exception as exc:
            # An AWS failure the library did not turn into a CargoholdError (a ProfileNotFound from a
            # session made deep inside, half the credentials in the environment...): the same one clean
            # line and hint as every explained AWS error, never a traceback.
            from botocore.exceptions import BotoCoreError, ClientError  # deferred: keeps the CLI's start cheap

            if not isinstance(exc, BotoCoreError | ClientError):
                raise
            from cargohold_core.aws import explain

            words = click.get_current_context().command_path.split()[1:]  # without the program's own name
            fail(explain(exc, action=" ".join(["cargohold", *words])), kwargs.get("fmt", "text"))

    return wrapper  # type: ignore[return-value]


def command_options(func: F, *, formats: tuple[str, ...] = FORMATS) -> F:
    """--config and --format."""
    with_output = output_options(func, formats=formats)
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path),
        default=Path("config.yaml"),
        envvar="CARGOHOLD_CONFIG",
        show_default=True,
        help="The config file.",
    )(with_output)


env_option = click.option("--env", "-e", "env_name", required=True, help="The environment (from config.yaml).")


def report_command_options(func: F) -> F:
    """--config and --format for the commands that write reports (audit, health, cost): --format also offers
    sarif, junit, markdown and html."""
    return command_options(func, formats=REPORT_FORMATS)
