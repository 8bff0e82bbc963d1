"""The `cargohold` command: a thin click layer over the library.

Exit codes: 0 success; 1 error (bad config, failed AWS/Terraform call); 2 usage error (click's own),
and for `plan`/`drift` "changes present"; 3 a refused apply/destroy (stale plan, destructive change
without --allow-destroy). Every command takes --format json.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit import __version__
from toolkit.config import Project, declared_resources, load_project, tfvars
from toolkit.errors import CargoholdError, ConfigError
from toolkit.output import FORMATS, emit

F = TypeVar("F", bound=Callable[..., Any])


def _fail(exc: CargoholdError, fmt: str) -> None:
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


def output_options(func: F) -> F:
    """--format on every command, and one clean error instead of a traceback."""

    @click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CargoholdError as exc:
            _fail(exc, kwargs.get("fmt", "text"))

    return wrapper  # type: ignore[return-value]


def command_options(func: F) -> F:
    """--config and --format."""
    with_output = output_options(func)
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cargohold")
def main() -> None:
    """Provision AWS storage with Terraform from one config.yaml, migrate files into it, audit it."""


@main.command()
@command_options
def validate(config_path: Path, fmt: str) -> None:
    """Check config.yaml and report every problem with its file, line and key."""
    project = load_project(config_path)
    summary = _summary(project)
    counts = ", ".join(_count(summary[f"{kind}s"], kind) for kind in ("bucket", "table", "principal"))
    envs = ", ".join(project.environments)
    text = f"{config_path}: valid - {len(project.environments)} environments ({envs}), {counts}"
    emit({"valid": True, "file": str(config_path), **summary}, fmt=fmt, text=text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _summary(project: Project) -> dict[str, Any]:
    first = next(iter(project.environments.values()))
    return {
        "project": project.name,
        "environments": list(project.environments),
        "buckets": len(first.buckets),
        "tables": len(first.tables),
        "principals": len(first.principals),
    }


@main.command()
@env_option
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the variables to this file.")
@command_options
def render(config_path: Path, fmt: str, env_name: str, output: Path | None) -> None:
    """Render the Terraform variables (terraform.tfvars.json) for an environment."""
    env = load_project(config_path).environment(env_name)
    variables = tfvars(env)
    if output:
        output.write_text(json.dumps(variables, indent=2) + "\n", encoding="utf-8")
        emit({"written": str(output), "environment": env_name}, fmt=fmt, text=f"wrote {output}")
    else:
        click.echo(json.dumps(variables, indent=2))


@main.command()
@env_option
@command_options
def preview(config_path: Path, fmt: str, env_name: str) -> None:
    """List the resources the stack declares for an environment (offline; no credentials needed)."""
    project = load_project(config_path)
    env = project.environment(env_name)
    resources = declared_resources(env)
    result = {
        "project": project.name,
        "environment": env.name,
        "region": env.region,
        "account": env.account,
        "endpoint": env.endpoint,
        "buckets": {k: b.name for k, b in env.buckets.items()},
        "tables": {k: t.name for k, t in env.tables.items()},
        "principals": {k: {"name": p.name, "kind": p.spec.kind, "policy": p.policy} for k, p in env.principals.items()},
        "state": {"bucket": env.state.bucket, "key": env.state.key, "lock_table": env.state.lock_table},
        "resources": [r.to_json() for r in resources],
    }
    lines = [
        f"{project.name} / {env.name} ({env.region}, account {env.account}"
        + (f", endpoint {env.endpoint})" if env.endpoint else ")"),
        f"state: s3://{env.state.bucket}/{env.state.key} (lock table {env.state.lock_table})",
        "",
    ]
    for kind, group in (("bucket", env.buckets), ("table", env.tables), ("principal", env.principals)):
        for key, item in group.items():
            lines.append(f"{kind} {key} -> {item.name}")
            lines += [f"    {r.address.split('.', 2)[-1]}" for r in resources if r.kind == kind and r.key == key]
    lines.append(f"\n{len(resources)} resources declared")
    emit(result, fmt=fmt, text="\n".join(lines))


@main.command()
@env_option
@command_options
def bootstrap(config_path: Path, fmt: str, env_name: str) -> None:
    """Create the environment's Terraform state bucket and lock table (idempotent)."""
    from toolkit.bootstrap import bootstrap as run_bootstrap

    env = load_project(config_path).environment(env_name)
    steps = run_bootstrap(env)
    emit(
        {"environment": env_name, "steps": [s.to_json() for s in steps]},
        fmt=fmt,
        text="\n".join(f"{s.action:9} {s.resource}" for s in steps),
    )


@main.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="A config with a `local` environment (default: the bundled example).",
)
@output_options
def demo(config_path: Path | None, fmt: str) -> None:
    """The main job on embedded defaults: a local AWS emulator, the example config, no account needed."""
    from toolkit.demo import run_demo

    result = run_demo(config_path=config_path, narrate=fmt == "text")
    emit(result, fmt=fmt, text=None)


if __name__ == "__main__":  # pragma: no cover
    main()
