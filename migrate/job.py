"""A migration job: which local files go to which bucket under which keys, and which database rows
point at them. Written in YAML (a `migrations:` section of config.yaml, or a job file); validated up
front with located errors, like config.yaml.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from cargohold_core.config import Environment, yamlsource
from cargohold_core.config.diagnostics import did_you_mean, problems_from
from cargohold_core.config.yamlsource import KeyPath
from cargohold_core.errors import CargoholdError, ConfigError
from migrate.keys import compile_template


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(Strict):
    directory: str  # relative paths are relative to the job file's folder
    include: list[str] = ["**"]
    exclude: list[str] = []
    follow_symlinks: bool = False
    # How the database's paths are read. Relative ones start from `relative_to` (default: `directory`;
    # e.g. the app's root when it stored "uploads/a.jpg"); absolute ones are used as they are, or with
    # `path_base` (where the files lived when the rows were written) replaced by `directory`.
    relative_to: str | None = None
    path_base: str | None = None


class TargetSpec(Strict):
    bucket: str  # a bucket key from config.yaml (resolved per --env) or a literal bucket name
    key_template: str = "{path}"
    storage_class: (
        Literal["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
        | None
    ) = None
    sse: Literal["AES256", "aws:kms"] | None = None  # None: the bucket's default encryption
    kms_key_id: str | None = None
    content_type: str = "auto"  # "auto": detected from the file name
    cache_control: str | None = None
    metadata: dict[str, str] = {}

    @field_validator("key_template")
    @classmethod
    def _template_compiles(cls, value: str) -> str:
        compile_template(value)  # a TemplateError (a ValueError with a hint) becomes a located problem
        return value


class SqlDatabase(Strict):
    kind: Literal["sql"] = "sql"
    url: str  # SQLAlchemy URL: sqlite:///app.db, postgresql+psycopg://..., mysql+pymysql://...
    table: str
    id_column: str = "id"
    path_column: str
    key_column: str
    url_column: str | None = None
    url_template: str = "https://{bucket}.s3.{region}.amazonaws.com/{key}"
    storage_column: str | None = None
    storage_value: str = "s3"
    where: str | None = None  # an SQL condition, e.g. "storage_type = 'local'"


class DynamoDatabase(Strict):
    kind: Literal["dynamodb"]
    table: str  # a table key from config.yaml or a literal table name
    hash_key: str
    range_key: str | None = None
    path_attribute: str
    key_attribute: str
    url_attribute: str | None = None
    url_template: str = "https://{bucket}.s3.{region}.amazonaws.com/{key}"
    storage_attribute: str | None = None
    storage_value: str = "s3"
    where: dict[str, str | int | bool] = {}  # attribute = value filters


def _database_kind(value: Any) -> str:
    """`kind:` may be left out for SQL databases (they have a `url:`)."""
    if isinstance(value, dict):
        return str(value.get("kind", "sql"))
    return str(getattr(value, "kind", "sql"))


class JournalSpec(Strict):
    url: str | None = None  # default: SQLite next to the config, or the target PostgreSQL database


class Tuning(Strict):
    concurrency: Annotated[int, Field(ge=1, le=512)] = 32
    multipart_threshold_mb: Annotated[int, Field(ge=5, le=5120)] = 64
    part_size_mb: Annotated[int, Field(ge=5, le=5120)] = 16
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    checksum: Literal["sha256", "crc32"] = "sha256"


class Job(Strict):
    description: str | None = None
    source: SourceSpec
    target: TargetSpec
    database: Annotated[
        Annotated[SqlDatabase, Tag("sql")] | Annotated[DynamoDatabase, Tag("dynamodb")],
        Discriminator(_database_kind),
    ]
    journal: JournalSpec = JournalSpec()
    tuning: Tuning = Tuning()


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadedJob:
    """A validated job with everything resolved against the config and the environment."""

    name: str
    spec: Job
    file: Path  # where the job was written (config.yaml or a job file)
    source_dir: Path  # absolute
    relative_to: Path  # absolute: where the database's relative paths start
    bucket: str  # the AWS bucket name
    region: str
    endpoint: str | None
    table: str  # the SQL table, or the AWS name of the DynamoDB table
    journal_url: str


def load_job(
    *, config_path: Path, job_name: str | None = None, job_file: Path | None = None, env: Environment | None = None
) -> LoadedJob:
    """Load one job from a job file, or from the `migrations:` section of config.yaml."""
    if job_file is not None:
        doc = yamlsource.load(job_file)
        name = job_name or job_file.stem
        raw, base = doc.data, cast(KeyPath, ())
    else:
        doc = yamlsource.load(config_path)
        jobs = doc.data.get("migrations") if isinstance(doc.data, dict) else None
        if not isinstance(jobs, dict) or not jobs:
            raise CargoholdError(
                f"{config_path} has no `migrations:` section",
                hint="add `migrations: {NAME: {source: ..., target: ..., database: ...}}`, or pass --job-file",
            )
        if job_name is None:
            if len(jobs) != 1:
                raise CargoholdError(
                    f"{config_path} defines several migrations", hint=f"pick one: --job {' | '.join(jobs)}"
                )
            job_name = next(iter(jobs))
        if job_name not in jobs:
            guess = did_you_mean(job_name, jobs)
            raise CargoholdError(
                f"no migration '{job_name}' in {config_path}" + (f"; did you mean '{guess}'?" if guess else ""),
                hint=f"migrations defined: {', '.join(jobs)}",
            )
        name, raw, base = job_name, jobs[job_name], ("migrations", job_name)
    try:
        spec = Job.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, doc=doc, model=Job, base=base)) from None
    return _resolve(name, spec, file=Path(doc.file), config_path=config_path, env=env)


def _resolve(name: str, spec: Job, *, file: Path, config_path: Path, env: Environment | None) -> LoadedJob:
    here = file.resolve().parent
    source = here / spec.source.directory  # an absolute directory stays as it is
    relative_to = here / spec.source.relative_to if spec.source.relative_to else source
    bucket, region, endpoint = spec.target.bucket, None, None
    if env is not None:
        region, endpoint = env.region, env.endpoint
        if bucket in env.buckets:
            bucket = env.buckets[bucket].name
    else:  # as boto3 does: an endpoint from the environment (an emulator, or an S3-compatible store)
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    database = spec.database
    if isinstance(database, DynamoDatabase):
        if env is not None and database.table in env.tables:  # a table key from config.yaml
            database = database.model_copy(update={"table": env.tables[database.table].name})
    elif database.url.startswith("sqlite:///") and not database.url.startswith("sqlite:////"):
        # A relative SQLite path means relative to the file the job is written in, not to the cwd.
        database = database.model_copy(update={"url": f"sqlite:///{file.resolve().parent / database.url[10:]}"})
    spec = spec.model_copy(update={"database": database})
    table = database.table
    from migrate.journal import default_journal_url  # here: SQLAlchemy is not for every CLI start

    database_url = database.url if isinstance(database, SqlDatabase) else None
    journal_url = spec.journal.url or default_journal_url(
        config_dir=config_path.resolve().parent, job=name, database_url=database_url
    )
    return LoadedJob(
        name=name,
        spec=spec,
        file=file,
        source_dir=source,
        relative_to=relative_to,
        bucket=bucket,
        region=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint=endpoint,
        table=table,
        journal_url=journal_url,
    )
