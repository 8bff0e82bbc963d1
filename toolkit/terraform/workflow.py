"""The guarded plan / apply / destroy / drift workflow for ONE stack run.

Independent of the config model: the caller describes the run in a `StackRun` (what to copy, which
workspace, variables, backend, environment, what else invalidates a plan).

- `plan()` copies the stack into the work dir, writes `terraform.tfvars.json` and `backend.hcl`,
  runs `init -reconfigure`, selects (or creates) the workspace and saves `plan.tfplan` plus
  `plan.meta.json` (a fingerprint of every input, and the summary).
- `apply()` applies exactly that saved plan, once. It refuses (`PlanRefused`) when there is none,
  when any input changed since (stale), when it is a destroy plan not applied through `destroy()`,
  or when it deletes/replaces a protected resource type without `allow_destroy`.
- `destroy()` needs both `allow_destroy=True` and `confirm` equal to the workspace name.
- `drift()` makes a refresh-only plan and reports the attributes changed outside Terraform.

Exit codes for the CLI: plan 0 = no changes, 2 = changes (`PlanOutcome.exit_code`), 1 = error;
apply/destroy 0 = applied, 3 = refused (`PlanRefused.exit_code`), 1 = error (`TerraformError`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cargohold_core.errors import PlanRefused, TerraformError
from toolkit.terraform import hcl
from toolkit.terraform.locate import TerraformBinary, locate_terraform, terraform_version
from toolkit.terraform.plan import (
    DEFAULT_PROTECTED_TYPES,
    DriftedAttribute,
    PlanSummary,
    ResourceChange,
    render,
    summarize,
)
from toolkit.terraform.runner import LineCallback, Runner, build_env

PLAN_FILE = "plan.tfplan"
META_FILE = "plan.meta.json"
DRIFT_PLAN_FILE = "drift.tfplan"
TFVARS_FILE = "terraform.tfvars.json"
BACKEND_FILE = "backend.hcl"
SOURCE_DIR = "src"
INIT_KEY_FILE = ".init-key"
META_VERSION = 1

# Never copied from the source, never fingerprinted: Terraform's own working files.
_IGNORED = frozenset(
    {
        ".terraform",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        "terraform.tfstate.d",
        "__pycache__",
        ".git",
    }
)
# Kept in the stack folder when the source is copied again: provider installs and local state.
_PRESERVED = (
    ".terraform",
    ".terraform.lock.hcl",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "terraform.tfstate.d",
)


@dataclass(frozen=True)
class StackRun:
    workspace: str
    source_root: Path  # copied whole into the work dir (e.g. terraform/ with stack/ and modules/)
    work_dir: Path  # owned by the driver, e.g. .cargohold/<env>
    stack_subdir: str = "stack"
    variables: Mapping[str, Any] = field(default_factory=dict)  # -> terraform.tfvars.json
    backend: Mapping[str, Any] | None = None  # -> backend.hcl for -backend-config; None = local state
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for Terraform
    fingerprint_inputs: Mapping[str, bytes] = field(default_factory=dict)  # e.g. the config file bytes
    # Extra files written into the stack folder beside main.tf, e.g. {"imports.tf": discover's import blocks}.
    stack_files: Mapping[str, str] = field(default_factory=dict)
    protected_types: frozenset[str] = DEFAULT_PROTECTED_TYPES
    terraform: TerraformBinary | None = None  # None: locate_terraform()
    on_log: LineCallback | None = None  # Terraform's human output, line by line (for stderr)
    # False for the emulator provider, built per machine: its hash is not one to keep in a lock file.
    keep_lock_file: bool = True


@dataclass(frozen=True)
class PlanOutcome:
    summary: PlanSummary
    has_changes: bool
    destroy: bool
    plan_file: Path
    fingerprint: str

    @property
    def exit_code(self) -> int:
        return 2 if self.has_changes else 0

    def lines(self) -> list[str]:
        return render(self.summary)


@dataclass(frozen=True)
class ApplyEvent:
    """One progress event of `apply -json`."""

    kind: str  # apply_start, apply_progress, apply_complete, apply_errored, diagnostic, change_summary, ...
    address: str | None
    action: str | None
    message: str


@dataclass(frozen=True)
class ApplyOutcome:
    summary: PlanSummary  # what the applied plan said it would do
    completed: tuple[ApplyEvent, ...]  # apply_complete events, in order


@dataclass(frozen=True)
class DestroyOutcome:
    plan: PlanOutcome
    applied: ApplyOutcome


# --- public workflow -----------------------------------------------------------------------------


def plan(run: StackRun, *, destroy: bool = False) -> PlanOutcome:
    """Make and save a plan for `run`; `exit_code` is 0 (no changes) or 2 (changes)."""
    binary = _binary(run)
    version = _version(binary, run)
    # Fingerprint the inputs before Terraform reads them: an edit made while planning makes the
    # plan stale instead of being recorded as planned.
    fingerprint = _fingerprint(run, destroy=destroy, version=version)
    _discard_saved_plan(run)  # a failed plan must not leave the previous one applicable
    runner = _prepared_runner(run, binary)
    plan_file = run.work_dir / PLAN_FILE
    has_changes = runner.plan_to_file(plan_file, destroy=destroy)
    summary = summarize(runner.show_json(plan_file))
    meta = {
        "meta_version": META_VERSION,
        "fingerprint": fingerprint,
        "plan_sha256": _sha256_file(plan_file),
        "workspace": run.workspace,
        "destroy": destroy,
        "terraform_version": version,
        "has_changes": has_changes,
        "summary": summary.to_json(),
    }
    _meta_path(run).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return PlanOutcome(
        summary=summary,
        has_changes=has_changes,
        destroy=destroy,
        plan_file=plan_file,
        fingerprint=fingerprint,
    )


def apply(
    run: StackRun, *, allow_destroy: bool = False, on_event: Callable[[ApplyEvent], None] | None = None
) -> ApplyOutcome:
    """Apply the saved plan of `run` (once), or raise `PlanRefused` saying why not."""
    return _apply_saved(run, allow_destroy=allow_destroy, on_event=on_event, destroying=False)


def destroy(
    run: StackRun,
    *,
    confirm: str,
    allow_destroy: bool,
    on_event: Callable[[ApplyEvent], None] | None = None,
    on_plan: Callable[[PlanOutcome], None] | None = None,
) -> DestroyOutcome:
    """Destroy everything in the workspace; needs `allow_destroy` AND `confirm == run.workspace`.

    `on_plan` sees the destroy plan before it is applied (e.g. to print what will be deleted).
    """
    if not allow_destroy:
        raise PlanRefused(
            f"destroy of workspace {run.workspace!r} refused: destroying was not allowed",
            hint="pass --allow-destroy (and --confirm with the workspace name) to destroy",
        )
    if confirm != run.workspace:
        raise PlanRefused(
            f"destroy of workspace {run.workspace!r} refused: confirmation {confirm!r} "
            "does not match the workspace name",
            hint=f"confirm with the exact workspace name: --confirm {run.workspace}",
        )
    outcome = plan(run, destroy=True)
    if on_plan is not None:
        on_plan(outcome)
    applied = _apply_saved(run, allow_destroy=True, on_event=on_event, destroying=True)
    return DestroyOutcome(plan=outcome, applied=applied)


def drift(run: StackRun) -> tuple[DriftedAttribute, ...]:
    """Attributes changed outside Terraform (a refresh-only plan; nothing is saved or applied)."""
    runner = _prepared_runner(run, _binary(run))
    drift_file = run.work_dir / DRIFT_PLAN_FILE
    try:
        runner.plan_to_file(drift_file, refresh_only=True)
        return summarize(runner.show_json(drift_file)).drift
    finally:
        drift_file.unlink(missing_ok=True)


def output(run: StackRun) -> dict[str, Any]:
    """The root module's outputs as plain values (`output -json`, unwrapped)."""
    runner = _prepared_runner(run, _binary(run))
    return {name: item.get("value") for name, item in runner.output_json().items()}


def saved_plan(run: StackRun) -> PlanSummary | None:
    """The summary of the saved plan, if there is one (no Terraform call)."""
    meta = _read_meta(run)
    return None if meta is None else _summary_from_meta(meta)


# --- apply guards ----------------------------------------------------------------------------------


def _apply_saved(
    run: StackRun, *, allow_destroy: bool, on_event: Callable[[ApplyEvent], None] | None, destroying: bool
) -> ApplyOutcome:
    plan_file = run.work_dir / PLAN_FILE
    meta = _read_meta(run)
    if meta is None or not plan_file.is_file():
        raise PlanRefused("no saved plan to apply", hint="run plan first; a plan is applied only once")
    if meta.get("meta_version") != META_VERSION or meta.get("plan_sha256") != _sha256_file(plan_file):
        raise PlanRefused("the saved plan does not match its metadata", hint="run plan again to make a fresh plan")
    # Inputs first, with the version recorded in the plan: a stale plan is refused without running
    # Terraform at all. Then the version itself (an upgraded Terraform also makes a plan stale).
    destroy_plan = bool(meta.get("destroy"))
    stale = "stale plan: config/modules/variables changed since the plan; run plan again"
    if _fingerprint(run, destroy=destroy_plan, version=str(meta.get("terraform_version"))) != meta.get("fingerprint"):
        raise PlanRefused(stale, hint="run plan again, review it, then apply")
    if destroy_plan and not destroying:
        raise PlanRefused(
            "the saved plan is a destroy plan; it can only be applied by destroy",
            hint="run destroy (with --allow-destroy and --confirm <workspace>), or plan again",
        )
    summary = _summary_from_meta(meta)
    guarded = summary.destructive(run.protected_types)
    if guarded and not allow_destroy:
        listed = "\n".join(_describe(change) for change in guarded)
        raise PlanRefused(
            f"the plan deletes or replaces {len(guarded)} protected resource(s):\n{listed}",
            hint="if losing these (and their data) is intended, apply with --allow-destroy; "
            "otherwise change the configuration so they are kept, and plan again",
        )
    binary = _binary(run)
    if _version(binary, run) != meta.get("terraform_version"):
        raise PlanRefused(stale + " (the Terraform version changed)", hint="run plan again")
    runner = _runner(run, binary)
    completed: list[ApplyEvent] = []

    def handle(raw: dict[str, Any]) -> None:
        event = _event(raw)
        if event.kind == "apply_complete":
            completed.append(event)
        if on_event is not None:
            on_event(event)

    try:
        runner.apply_plan(plan_file, on_event=handle)
    finally:
        _discard_saved_plan(run)  # applied, or partly applied: either way the plan is spent
    return ApplyOutcome(summary=summary, completed=tuple(completed))


def _describe(change: ResourceChange) -> str:
    text = f"  {change.action} {change.address}"
    if change.replace_paths:
        text += f" (forced by: {', '.join(change.replace_paths)})"
    return text


def _event(raw: Mapping[str, Any]) -> ApplyEvent:
    hook = raw.get("hook") or {}
    resource = hook.get("resource") or {}
    return ApplyEvent(
        kind=str(raw.get("type", "text")),
        address=resource.get("addr"),
        action=hook.get("action"),
        message=str(raw.get("@message", "")),
    )


# --- work dir, fingerprint, metadata --------------------------------------------------------------


def prepared_runner(run: StackRun) -> Runner:
    """The run's Terraform with the source copied, init done and the workspace selected: for a command
    the guarded workflow does not wrap (the tests' one-step `apply -auto-approve`, the benchmarks)."""
    return _prepared_runner(run, _binary(run))


def _binary(run: StackRun) -> TerraformBinary:
    return run.terraform or locate_terraform(env={**os.environ, **run.env})


def _version(binary: TerraformBinary, run: StackRun) -> str:
    stat = binary.path.stat()
    return _cached_version(
        path=str(binary.path), kind=binary.kind, mtime=stat.st_mtime_ns, size=stat.st_size, env=_env_key(run)
    )


@lru_cache(maxsize=16)
def _cached_version(*, path: str, kind: str, mtime: int, size: int, env: tuple[tuple[str, str], ...]) -> str:
    del mtime, size  # only part of the cache key: a replaced binary is asked again
    binary = TerraformBinary(path=Path(path), kind=kind)  # type: ignore[arg-type]  # kind came from one
    return terraform_version(binary, env=dict(env))


def _env_key(run: StackRun) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(build_env(os.environ, run.env).items()))


def _runner(run: StackRun, binary: TerraformBinary) -> Runner:
    return Runner(
        binary=binary.path,
        working_dir=run.work_dir / SOURCE_DIR / run.stack_subdir,
        env=build_env(os.environ, run.env),
        on_line=run.on_log,
    )


def _prepared_runner(run: StackRun, binary: TerraformBinary) -> Runner:
    stack = _copy_source(run)
    (stack / TFVARS_FILE).write_text(_render_tfvars(run))
    for name, text in sorted(run.stack_files.items()):
        if Path(name).name != name or not name.endswith(".tf"):
            raise TerraformError(f"stack file {name!r} must be a plain file name ending in .tf")
        (stack / name).write_text(text)
    backend_file = None
    if run.backend is not None:
        backend_file = run.work_dir / BACKEND_FILE
        backend_file.write_text(hcl.attributes(run.backend))
    runner = _runner(run, binary)
    # `init` is the slowest fixed cost; it is skipped only when nothing it reads has changed.
    key_file = run.work_dir / INIT_KEY_FILE
    key = _init_key(run, binary)
    if (stack / ".terraform").is_dir() and _read_text(key_file) == key:
        if _read_text(stack / ".terraform" / "environment") == run.workspace:
            return runner
    else:
        key_file.unlink(missing_ok=True)
        if not run.keep_lock_file:
            (stack / ".terraform.lock.hcl").unlink(missing_ok=True)
        runner.init_backend(backend_config=backend_file)
        key_file.write_text(key)
    runner.select_workspace(run.workspace)
    return runner


def _init_key(run: StackRun, binary: TerraformBinary) -> str:
    digest = hashlib.sha256()
    for path in _source_files(run.source_root):
        digest.update(path.relative_to(run.source_root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    backend = b"" if run.backend is None else hcl.attributes(run.backend).encode()
    digest.update(run.stack_subdir.encode() + b"\0" + backend + b"\0" + str(binary.path).encode())
    digest.update(repr(_env_key(run)).encode())
    return digest.hexdigest()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _copy_source(run: StackRun) -> Path:
    """Copy source_root into <work_dir>/src, keeping provider installs and local state."""
    if not (run.source_root / run.stack_subdir).is_dir():
        raise TerraformError(
            f"no stack folder {run.stack_subdir!r} in {run.source_root}",
            hint="point source_root at the folder holding the stack and its modules",
        )
    if run.work_dir.resolve().is_relative_to(run.source_root.resolve()):
        raise TerraformError(
            f"the work dir {run.work_dir} is inside the Terraform source {run.source_root}",
            hint="keep the work dir (e.g. .cargohold/<env>) outside the folder that is copied",
        )
    run.work_dir.mkdir(parents=True, exist_ok=True)
    src = run.work_dir / SOURCE_DIR
    stack = src / run.stack_subdir
    stash = run.work_dir / ".preserved"
    if stash.exists():
        shutil.rmtree(stash)
    stash.mkdir()
    for name in _PRESERVED:
        if (stack / name).exists():
            (stack / name).rename(stash / name)
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(run.source_root, src, ignore=lambda _dir, names: [n for n in names if _ignored(n)])
    for name in _PRESERVED:
        if (stash / name).exists() and not (stack / name).exists():
            (stash / name).rename(stack / name)
    shutil.rmtree(stash)
    return stack


def _ignored(name: str) -> bool:
    return name in _IGNORED or name.endswith(".tfplan")


def _render_tfvars(run: StackRun) -> str:
    return json.dumps(run.variables, indent=2, sort_keys=True, default=str) + "\n"


def _source_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
        for name in sorted(filenames):
            if not _ignored(name):
                yield Path(dirpath) / name


def _fingerprint(run: StackRun, *, destroy: bool, version: str) -> str:
    digest = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        # Length-prefixed, so no two different input sets can hash the same byte stream.
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    for path in _source_files(run.source_root):
        part(f"file:{path.relative_to(run.source_root).as_posix()}", path.read_bytes())
    part("stack_subdir", run.stack_subdir.encode())
    part("tfvars", _render_tfvars(run).encode())
    part("backend", b"" if run.backend is None else hcl.attributes(run.backend).encode())
    for name in sorted(run.stack_files):
        part(f"stack_file:{name}", run.stack_files[name].encode())
    for key in sorted(run.fingerprint_inputs):
        part(f"input:{key}", run.fingerprint_inputs[key])
    part("workspace", run.workspace.encode())
    part("destroy", b"1" if destroy else b"0")
    part("terraform_version", version.encode())
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _meta_path(run: StackRun) -> Path:
    return run.work_dir / META_FILE


def _read_meta(run: StackRun) -> dict[str, Any] | None:
    try:
        meta = json.loads(_meta_path(run).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _discard_saved_plan(run: StackRun) -> None:
    (run.work_dir / PLAN_FILE).unlink(missing_ok=True)
    _meta_path(run).unlink(missing_ok=True)


def _summary_from_meta(meta: Mapping[str, Any]) -> PlanSummary:
    data = meta.get("summary") or {}
    changes = tuple(
        ResourceChange(
            address=item["address"],
            type=item["type"],
            action=item["action"],
            replace_paths=tuple(item.get("replace_paths") or ()),
            reason=item.get("reason"),
            previous_address=item.get("previous_address"),
        )
        for item in data.get("changes") or ()
    )
    drifted = tuple(DriftedAttribute(**item) for item in data.get("drift") or ())
    return PlanSummary(
        changes=changes,
        output_changes=tuple(data.get("output_changes") or ()),
        drift=drifted,
        counts=dict(data.get("counts") or {}),
    )
