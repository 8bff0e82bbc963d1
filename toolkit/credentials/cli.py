"""`cargohold credentials issue|rotate|revoke`: the thin click layer over `toolkit.credentials.keys`.

Exit codes: 0 done; 1 error (nothing changed, or the message says exactly what did); 3 `revoke`
refused without --yes. Secrets go to the .env file only; `--show-secret` also prints them to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cargohold_core.account import guard
from toolkit.cli_options import command_options
from toolkit.output import emit

_env_option = click.option("--env", "-e", "env_name", required=True, help="The environment (from config.yaml).")
_principal_option = click.option(
    "--principal",
    "principal_key",
    required=True,
    help="The application principal (a key under `principals:`), an IAM user.",
)
_dotenv_option = click.option(
    "--dotenv",
    "dotenv_path",
    type=click.Path(path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="The application's .env file (created 0600; its other lines are kept).",
)
_show_secret_option = click.option(
    "--show-secret",
    is_flag=True,
    help="Also print the access key id and secret to stdout (they are always written to the .env file).",
)


@click.group()
def credentials() -> None:
    """Access keys for an IAM-user principal, made outside Terraform (never in its state) and written
    to the application's .env file (mode 0600). A principal of kind `role` needs no keys: the
    application assumes the role (ECS task role, EC2 instance profile, Lambda execution role)."""


@credentials.command("issue")
@_env_option
@_principal_option
@_dotenv_option
@_show_secret_option
@command_options
def issue_command(
    config_path: Path, fmt: str, env_name: str, principal_key: str, dotenv_path: Path, show_secret: bool
) -> None:
    """Create an access key for the principal and write it to the .env file.

    Refused for a role (it needs none) and for a user that already has 2 keys (rotate or revoke).
    """
    from cargohold_core.config import load_project
    from toolkit.credentials.keys import issue

    env = load_project(config_path).environment(env_name)
    guard(env)
    _show(issue(env, principal_key, path=dotenv_path), fmt=fmt, show_secret=show_secret)


@credentials.command("rotate")
@_env_option
@_principal_option
@_dotenv_option
@click.option(
    "--delete-inactive",
    is_flag=True,
    help="When the user has 2 keys (the AWS limit), delete the inactive one to make room.",
)
@click.option(
    "--proof-timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to keep retrying the proof while AWS propagates the new key.",
)
@_show_secret_option
@command_options
def rotate_command(
    config_path: Path,
    fmt: str,
    env_name: str,
    principal_key: str,
    dotenv_path: Path,
    delete_inactive: bool,
    proof_timeout: float,
    show_secret: bool,
) -> None:
    """Replace the principal's access key without downtime.

    Creates a new key, proves it with the health probes, swaps the .env file atomically, then
    deactivates and deletes the old key. If the proof fails, the new key is deleted and the old key
    and the .env file are left as they were (exit 1, with the probes' diagnosis).
    """
    from cargohold_core.config import load_project
    from toolkit.credentials.keys import rotate

    project = load_project(config_path)
    env = project.environment(env_name)
    guard(env)
    outcome = rotate(
        env,
        principal_key,
        project=project.name,
        path=dotenv_path,
        delete_inactive=delete_inactive,
        proof_timeout=proof_timeout,
    )
    _show(outcome, fmt=fmt, show_secret=show_secret)


@credentials.command("revoke")
@_env_option
@_principal_option
@_dotenv_option
@click.option("--key-id", default=None, help="The access key to revoke (default: the one in the .env file).")
@click.option("--yes", is_flag=True, help="Confirm: the application using the key stops working.")
@command_options
def revoke_command(
    config_path: Path, fmt: str, env_name: str, principal_key: str, dotenv_path: Path, key_id: str | None, yes: bool
) -> None:
    """Deactivate and delete an access key, and remove its variables from the .env file. Needs --yes."""
    from cargohold_core.config import load_project
    from toolkit.credentials.keys import RevokeRefused, revoke

    if not yes:
        which = f"key {key_id}" if key_id else f"the key in {dotenv_path}"
        raise RevokeRefused(
            f"revoking deletes {which} of principal '{principal_key}': whatever uses it stops working",
            hint="run again with --yes to confirm",
        )
    env = load_project(config_path).environment(env_name)
    guard(env)
    _show(revoke(env, principal_key, path=dotenv_path, key_id=key_id), fmt=fmt, show_secret=False)


def _show(outcome: Any, *, fmt: str, show_secret: bool) -> None:
    lines = outcome.lines()
    if show_secret and outcome.secret is not None:
        names = outcome.variables[:2]  # the access key id's and the secret's variable names
        lines += [
            "",
            f"{names[0]}={outcome.secret.access_key_id}",
            f"{names[1]}={outcome.secret.secret_access_key}",
        ]
    elif outcome.secret is not None:
        lines.append(f"the secret is only in {outcome.dotenv} (pass --show-secret to print it)")
    emit(outcome.to_json(show_secret=show_secret), fmt=fmt, text="\n".join(lines))
