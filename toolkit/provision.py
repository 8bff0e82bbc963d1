"""Drive the Terraform workflow for one environment of the config: its variables, its S3 backend
(with DynamoDB locking and, for an emulator, endpoint overrides), its workspace and its work dir.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cargohold_core import aws
from cargohold_core.config import Environment, Project, tfvars
from cargohold_core.paths import terraform_root
from toolkit.terraform.locate import default_cache_dir, locate_terraform
from toolkit.terraform.workflow import StackRun

WORK_DIR = ".cargohold"


def backend_settings(env: Environment) -> dict[str, Any]:
    """The S3 backend's -backend-config for the environment (Terraform >= 1.6 option names)."""
    state = env.state
    settings: dict[str, Any] = {
        "bucket": state.bucket,
        "key": state.key,
        "region": state.region,
        "dynamodb_table": state.lock_table,
        "encrypt": state.encrypt,
    }
    # The state is reached the way the stack is (an emulator gets the profile's credentials from the driver).
    if env.spec.profile and not aws.is_emulator(env.endpoint):
        settings["profile"] = env.spec.profile
    role = env.spec.assume_role
    if role is not None:
        settings["assume_role"] = {
            k: v
            for k, v in {
                "role_arn": role.role_arn,
                "external_id": role.external_id,
                "session_name": role.session_name,
                "duration": f"{role.duration}s",
            }.items()
            if v is not None
        }
    if env.endpoint:
        services = ("s3", "dynamodb", "sts", "iam")
        settings["endpoints"] = dict.fromkeys(services, env.endpoint)
        settings.update(
            use_path_style=True,
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
        )
    return settings


def stack_run(
    project: Project,
    env: Environment,
    *,
    terraform: str | None = None,
    work_root: Path | None = None,
    on_log: Callable[[str], None] | None = None,
    imports: str | None = None,
) -> StackRun:
    """The stack run for `env`; `imports` is an imports.tf (discover's import blocks) to plan with."""
    binary = locate_terraform(explicit=terraform or env.spec.terraform.binary)
    root = work_root or project.file.resolve().parent / WORK_DIR
    return StackRun(
        workspace=env.name,
        source_root=terraform_root(),
        work_dir=root / env.name,
        variables=tfvars(env),
        backend=backend_settings(env),
        env=terraform_env(env),
        fingerprint_inputs={project.file.name: project.source},
        stack_files={"imports.tf": imports} if imports is not None else {},
        terraform=binary,
        on_log=on_log,
        keep_lock_file=not aws.is_emulator(env.endpoint),
    )


def terraform_env(env: Environment) -> dict[str, str]:
    """Environment variables Terraform needs for this environment (credentials only for emulators)."""
    out = {"AWS_REGION": env.region, "AWS_DEFAULT_REGION": env.region}
    if aws.is_emulator(env.endpoint):
        # The AWS provider cannot be downloaded for an emulator run (nor should it talk to one):
        # Terraform installs cargohold's emulator provider, which serves the same 6.66.0 schema.
        from toolkit.tfprovider import mirror  # grpc and the provider: only for emulators

        out["TF_CLI_CONFIG_FILE"] = str(mirror.cli_config(default_cache_dir()))
        # The credentials the role is assumed with, when the environment assumes one: the provider
        # block and the backend assume it themselves, as they do against AWS.
        creds = aws.base_session(env).get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            out["AWS_ACCESS_KEY_ID"] = frozen.access_key or ""
            out["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key or ""
            if frozen.token:
                out["AWS_SESSION_TOKEN"] = frozen.token
    return out
