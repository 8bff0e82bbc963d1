"""`cargohold migrate ...`: the thin CLI over the migration engine (migrate/).

Exit codes: 0 done; 1 error (an upload failed, the endpoint or bucket is unusable: refused before
any upload); 2 incomplete or problems: `plan`/`verify` found problems (missing files, collisions,
invalid keys, mismatches), `run` left planned rows behind (skipped by the plan, in conflict, claimed
by another worker; `--allow-partial` accepts that), `cleanup` kept files, `rollback` kept rows or
objects; 3 refused (`cleanup` without --yes-delete-local-files, `rollback` without --yes); 130
interrupted (the journal stays consistent: run again to finish).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from cargohold_core.config import Environment, load_project
from cargohold_core.errors import CargoholdError
from cargohold_core.progress import for_cli
from migrate.job import DynamoDatabase, LoadedJob, load_job
from toolkit.cli_options import command_options
from toolkit.output import emit

F = TypeVar("F", bound=Callable[..., Any])


def job_options(func: F) -> F:
    func = click.option(
        "--env",
        "-e",
        "env_name",
        default=None,
        help="Resolve bucket/table keys, region and endpoint from this environment.",
    )(func)
    func = click.option(
        "--job-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="A YAML file holding one job (instead of config.yaml's `migrations:`).",
    )(func)
    return click.option("--job", "-j", "job_name", default=None, help="The job's name under `migrations:`.")(func)


def resolve(
    config_path: Path, job_name: str | None, job_file: Path | None, env_name: str | None
) -> tuple[LoadedJob, Environment | None]:
    env = None
    if env_name is not None:
        env = load_project(config_path).environment(env_name)
    job = load_job(config_path=config_path, job_name=job_name, job_file=job_file, env=env)
    return job, env


def guard_account(job: LoadedJob, env: Environment | None, *, s3: bool, store: bool) -> None:
    """With --env, a command that touches the account (S3, or a DynamoDB table as its database) runs only
    in the environment's account. A job file without an environment names no account to check."""
    if env is not None and (s3 or (store and isinstance(job.spec.database, DynamoDatabase))):
        from cargohold_core.account import guard

        guard(env)


@contextmanager
def opened_store(job: LoadedJob, env: Environment | None) -> Iterator[Any]:
    from migrate.db import open_store

    client = None
    if isinstance(job.spec.database, DynamoDatabase):
        from cargohold_core import aws  # deferred: boto3 is 0.1 s of every CLI start

        client = aws.client(env, "dynamodb") if env is not None else None
    store = open_store(job.spec.database, dynamodb_client=client, region=job.region, endpoint=job.endpoint)
    try:
        yield store
    finally:
        store.close()


def plan_text(report: Any) -> str:
    r = report
    lines = [
        f"job {r.job}: {r.source_dir} -> s3://{r.bucket}",
        f"  files scanned      {r.files_scanned:>10,}  ({r.bytes_scanned / 1e6:,.1f} MB)",
        f"  objects to upload  {r.objects:>10,}  ({r.object_bytes / 1e6:,.1f} MB)",
        f"  rows read          {r.rows_read:>10,}",
        f"  rows to update     {r.rows_to_update:>10,}",
        f"  already migrated   {r.rows_already_migrated:>10,}",
        f"  unreferenced files {r.unreferenced_files:>10,}  (no row points at them: left alone)",
        f"  rows, file missing {r.missing_files:>10,}",
        f"  rows, outside dir  {r.outside_source:>10,}",
        f"  key collisions     {r.collisions:>10,}",
        f"  invalid keys       {r.invalid_keys:>10,}",
        f"  template errors    {r.template_errors:>10,}",
    ]
    for kind, samples in r.samples.items():
        if kind == "unreferenced_files":
            continue
        lines.append(f"  {kind.replace('_', ' ')}, e.g.:")
        lines += [f"    {sample}" for sample in samples[:5]]
    return "\n".join(lines)


@click.group()
def migrate() -> None:
    """Move local files into S3 and point the database rows at them: resumable and verifiable."""


@migrate.command("plan")
@job_options
@command_options
def plan_command(
    config_path: Path, fmt: str, job_name: str | None, job_file: Path | None, env_name: str | None
) -> None:
    """Scan and match, no writes: files, bytes, rows to update, and every problem found."""
    from migrate.planner import PlanReport, plan

    job, env = resolve(config_path, job_name, job_file, env_name)
    report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
    guard_account(job, env, s3=False, store=True)
    with opened_store(job, env) as store:
        for _ in plan(job, store, report):
            pass
    emit(report.to_json(), fmt=fmt, text=plan_text(report))
    raise click.exceptions.Exit(2 if report.has_problems else 0)


def make_uploader(job: LoadedJob, env: Environment | None, *, ledger: Any = None) -> Any:
    from migrate.upload import TransferSettings, Uploader

    tuning = job.spec.tuning
    settings = TransferSettings(
        concurrency=tuning.concurrency,
        multipart_threshold=tuning.multipart_threshold_mb * 1024 * 1024,
        part_size=tuning.part_size_mb * 1024 * 1024,
        checksum=tuning.checksum,
    )
    from cargohold_core import aws

    session = aws.session(env) if env is not None else None
    return Uploader(
        bucket=job.bucket, region=job.region, endpoint=job.endpoint, session=session, settings=settings, ledger=ledger
    )


@contextmanager
def opened(job: LoadedJob, env: Environment | None, *, store: bool = True, uploader: bool = True) -> Iterator[Any]:
    """The journal, and the store and uploader a command needs, closed afterwards."""
    from migrate.journal import open_journal

    guard_account(job, env, s3=uploader, store=store)
    with contextlib.ExitStack() as stack:
        parts: dict[str, Any] = {}
        if store:  # first: a database that is not there is refused before the journal is made
            parts["store"] = stack.enter_context(opened_store(job, env))
        journal = parts["journal"] = stack.enter_context(open_journal(job.journal_url, job.name))
        if uploader:
            made = make_uploader(job, env, ledger=journal)
            stack.callback(made.close)
            parts["uploader"] = made
        yield parts


@migrate.command("run")
@job_options
@click.option("--resume-only", is_flag=True, help="Do not scan again: finish what the journal holds.")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Exit 0 even when planned rows are left behind (plan problems, conflicts); they are still reported.",
)
@click.option(
    "--abort-stale",
    is_flag=True,
    help="First abort every incomplete multipart upload of this job that no live worker is busy with.",
)
@command_options
def run_command(
    config_path: Path,
    fmt: str,
    job_name: str | None,
    job_file: Path | None,
    env_name: str | None,
    resume_only: bool,
    allow_partial: bool,
    abort_stale: bool,
) -> None:
    """Upload (verified by checksum), then point the rows at the objects. Safe to run again after a crash."""
    from migrate import engine
    from migrate.planner import PlanReport, plan

    job, env = resolve(config_path, job_name, job_file, env_name)
    check_source(job)
    report = PlanReport(job=job.name, bucket=job.bucket, source_dir=str(job.source_dir))
    settings = engine.EngineSettings(batch_size=job.spec.tuning.batch_size, allow_partial=allow_partial)
    with opened(job, env) as parts, engine.stop_on_signals() as stop:
        target = job.spec.target
        uploader = parts["uploader"]
        configured = uploader.region
        uploader.probe(sse=target.sse, kms_key_id=target.kms_key_id)  # before any write anywhere
        if uploader.region != configured:
            click.echo(
                f"note: bucket {job.bucket} is in {uploader.region}, not {configured}; uploading there "
                f"(set `region: {uploader.region}` on the environment to say so)",
                err=True,
            )
        if abort_stale:
            engine.abort_stale(parts["journal"], uploader=parts["uploader"], everything=True)
        work = None if resume_only else plan(job, parts["store"], report)
        result = engine.run(
            work,
            journal=parts["journal"],
            store=parts["store"],
            uploader=parts["uploader"],
            settings=settings,
            progress=for_cli(fmt),
            stop_event=stop,
            skipped=None if resume_only else report.problem_counts,
        )
    payload = {**result.to_json(), "plan": None if resume_only else report.to_json()}
    emit(payload, fmt=fmt, text=_run_text(result, None if resume_only else report))
    raise click.exceptions.Exit(result.exit_code)


@migrate.command("status")
@job_options
@command_options
def status_command(
    config_path: Path, fmt: str, job_name: str | None, job_file: Path | None, env_name: str | None
) -> None:
    """What the journal holds: objects and rows per state, and why the job is not complete."""
    from migrate import engine

    job, env = resolve(config_path, job_name, job_file, env_name)
    with opened(job, env, store=False, uploader=False) as parts:
        state = engine.status(parts["journal"])
    emit(state.to_json(), fmt=fmt, text=status_text(state))
    raise click.exceptions.Exit(0 if state.complete else 2)


@migrate.command("verify")
@job_options
@click.option("--no-hash", is_flag=True, help="Compare local files by size and mtime instead of re-hashing.")
@command_options
def verify_command(
    config_path: Path, fmt: str, job_name: str | None, job_file: Path | None, env_name: str | None, no_hash: bool
) -> None:
    """Every migrated row points at an object whose size and checksum match the journal and the file."""
    from migrate import engine

    job, env = resolve(config_path, job_name, job_file, env_name)
    with opened(job, env) as parts:
        result = engine.verify(
            parts["journal"],
            uploader=parts["uploader"],
            store=parts["store"],
            source_dir=job.source_dir,
            settings=engine.EngineSettings(hash_local=not no_hash),
        )
    emit(result.to_json(), fmt=fmt, text=verify_text(result))
    raise click.exceptions.Exit(result.exit_code)


@migrate.command("rollback")
@job_options
@click.option(
    "--delete-objects",
    is_flag=True,
    help="Also delete the uploaded objects no row points at any more (never one whose local file is gone).",
)
@click.option(
    "--restore-files",
    is_flag=True,
    help="Bring local files deleted by cleanup back from their objects first, so their rows can be restored.",
)
@click.option("--yes", is_flag=True, help="Confirm: put every migrated row back as it was.")
@command_options
def rollback_command(
    config_path: Path,
    fmt: str,
    job_name: str | None,
    job_file: Path | None,
    env_name: str | None,
    delete_objects: bool,
    restore_files: bool,
    yes: bool,
) -> None:
    """Restore every migrated row's previous values (rows changed since, or whose file is gone, are reported)."""
    from migrate import engine

    if not yes:
        raise RollbackRefused("rollback rewrites every migrated row", hint="run again with --yes to confirm")
    job, env = resolve(config_path, job_name, job_file, env_name)
    with opened(job, env) as parts:
        result = engine.rollback(
            parts["journal"],
            store=parts["store"],
            uploader=parts["uploader"],
            delete_objects=delete_objects,
            restore_files=restore_files,
            source_dir=job.source_dir,
        )
    emit(result.to_json(), fmt=fmt, text=rollback_text(result, delete_objects=delete_objects))
    raise click.exceptions.Exit(result.exit_code)


@migrate.command("cleanup")
@job_options
@click.option(
    "--yes-delete-local-files",
    "confirm",
    is_flag=True,
    help="Confirm: delete local files whose objects verify again and whose rows all point at them.",
)
@command_options
def cleanup_command(
    config_path: Path, fmt: str, job_name: str | None, job_file: Path | None, env_name: str | None, confirm: bool
) -> None:
    """Delete local files, only those verified in S3 whose rows, read live, all point at them."""
    from migrate import engine

    job, env = resolve(config_path, job_name, job_file, env_name)
    with opened(job, env) as parts:
        result = engine.cleanup(
            parts["journal"],
            uploader=parts["uploader"],
            store=parts["store"],
            source_dir=job.source_dir,
            confirm=confirm,
        )
    emit(
        result.to_json(),
        fmt=fmt,
        text=(
            f"deleted {result.files_deleted:,} local files ({result.bytes_freed / 1e6:,.1f} MB); "
            f"kept {len(result.kept):,}"
            + "".join(f"\n  kept {r}: {why}" for r, why in result.kept[:20])
            + _more(len(result.kept), 20)
        ),
    )
    raise click.exceptions.Exit(result.exit_code)


def check_source(job: LoadedJob) -> None:
    """A source directory that is not there would report every row "file missing": refuse instead."""
    if not job.source_dir.is_dir():
        raise CargoholdError(
            f"the job's source directory {job.source_dir} does not exist (or is not a directory)",
            hint=f"fix `source.directory` in {job.file} (relative paths start from that file's folder)",
        )


def _more(total: int, shown: int) -> str:
    return f"\n  ... and {total - shown:,} more (--format json lists them all)" if total > shown else ""


def status_text(state: Any) -> str:
    o, r = state.objects, state.rows
    lines = [
        f"job {state.job}: " + ("complete" if state.complete else "INCOMPLETE"),
        f"  objects  done {o['done']:,}  pending {o['pending']:,}  uploaded {o['uploaded']:,}  failed {o['failed']:,}"
        f"  rolled back {o['rolled_back']:,}  deleted {o['deleted']:,}",
        f"  rows     updated {r['updated']:,}  pending {r['pending']:,}  conflict {r['conflict']:,}"
        f"  missing {r['missing']:,}  rolled back {r['rolled_back']:,}",
        f"  files    present {state.files.get('present', 0):,}  cleaned {state.files.get('cleaned', 0):,}",
        f"  bytes    {state.bytes_done / 1e6:,.1f} of {state.bytes_total / 1e6:,.1f} MB uploaded",
    ]
    if state.incomplete:
        lines.append(
            "  incomplete: " + ", ".join(f"{why.replace('_', ' ')} {n:,}" for why, n in state.incomplete.items())
        )
    for claim in state.claims:
        alive = "alive" if claim.alive else "dead (its claims are taken back by the next run)"
        until = claim.to_json()["lease_until"]
        lines.append(f"  claimed: {claim.objects:,} objects by {claim.worker_id}, {alive}, lease until {until}")
    if state.open_uploads:
        lines.append(
            f"  incomplete multipart uploads: {state.open_uploads:,} (resumed by `run`, or `run --abort-stale`)"
        )
    lines += [f"  failed: {key}: {error}" for key, error in state.failures[:10]]
    lines += [f"  {e['at']} {e['action']}: {json.dumps(e['detail'])}" for e in state.events]
    return "\n".join(lines)


def verify_text(result: Any) -> str:
    lines = [
        f"checked {result.objects_checked:,} objects and {result.rows_checked:,} rows: "
        + ("all match" if result.ok else f"{len(result.problems):,} problems")
    ]
    lines += [f"  {p.kind}: {p.key or ''} {p.row_id or ''} {p.detail}" for p in result.problems[:50]]
    lines.append(_more(len(result.problems), 50).lstrip("\n"))
    if result.size_only:
        lines.append(
            f"  {len(result.size_only):,} multipart objects checked by size only: the server reports no "
            "checksum it promises for them (the local files were re-hashed against the journal)"
        )
    return "\n".join(line for line in lines if line)


def rollback_text(result: Any, *, delete_objects: bool) -> str:
    lines = [
        f"restored {result.rows_restored:,} rows; {len(result.conflicts):,} conflicts, {len(result.missing):,} missing"
        f" rows; {result.files_restored:,} local files restored from S3"
    ]
    if result.kept:
        lines.append(f"kept {len(result.kept):,} rows pointing at S3 (their local file is not there to point back at):")
        lines += [f"  row {row}: {why}" for row, why in result.kept[:20]]
        lines.append(
            "  (rollback --restore-files brings files deleted by cleanup back first)" + _more(len(result.kept), 20)
        )
    if delete_objects:
        lines.append(f"deleted {result.objects_deleted:,} objects; kept {len(result.objects_kept):,}")
        lines += [f"  kept {key}: {why}" for key, why in result.objects_kept[:20]] + [
            _more(len(result.objects_kept), 20)
        ]
    else:
        lines.append(
            f"{result.objects_left:,} rolled back objects are still in the bucket (--delete-objects removes them)"
        )
    return "\n".join(line for line in lines if line)


class RollbackRefused(CargoholdError):
    exit_code = 3


def _run_text(result: Any, report: Any) -> str:
    lines = []
    if report is not None:
        lines.append(plan_text(report))
    lines.append(
        f"uploaded {result.uploaded:,} objects ({result.bytes_uploaded / 1e6:,.1f} MB) in {result.elapsed:.1f}s; "
        f"rows updated {result.rows_updated:,} (already {result.rows_already:,}); reused {result.reused:,}; "
        f"re-uploaded after a change {result.requeued:,}"
    )
    if result.failed:
        lines.append(f"failed: {len(result.failed)}" + "".join(f"\n  {k}: {e}" for k, e in result.failed[:20]))
    if result.conflicts:
        lines.append(f"rows changed by the application during the migration (left alone): {result.conflicts[:20]}")
    if result.missing:
        lines.append(f"rows deleted during the migration: {result.missing[:20]}")
    if result.parts_reused:
        lines.append(f"multipart parts reused from an interrupted run: {result.parts_reused:,}")
    if result.uploads_aborted:
        lines.append(f"incomplete multipart uploads aborted: {result.uploads_aborted:,}")
    if result.fatal:
        lines.append(f"stopped: {result.fatal}; the journal is consistent, fix it and run again")
    for claim in result.claimed_by_others:
        lines.append(
            f"{claim.objects:,} objects still claimed by worker {claim.worker_id} "
            f"(lease until {claim.to_json()['lease_until']})"
        )
    if result.interrupted:
        lines.append("interrupted: the journal is consistent; run again to finish")
    elif result.incomplete:
        reasons = ", ".join(f"{why.replace('_', ' ')} {n:,}" for why, n in result.incomplete.items())
        verdict = "accepted (--allow-partial)" if result.allow_partial else "exit 2"
        lines.append(f"INCOMPLETE: {reasons}; {verdict}")
    return "\n".join(lines)
