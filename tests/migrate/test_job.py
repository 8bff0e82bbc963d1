"""Loading migration jobs: from config.yaml's `migrations:` or a job file, with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargohold_core.config import load_project
from cargohold_core.errors import CargoholdError, ConfigError
from migrate.job import DynamoDatabase, SqlDatabase, load_job

REPO = Path(__file__).resolve().parents[2]


def test_the_example_job_resolves_against_an_environment() -> None:
    config = REPO / "config.yaml"
    env = load_project(config).environment("dev")
    job = load_job(config_path=config, env=env)
    assert job.name == "student-uploads"
    assert job.bucket == "acme-lms-dev-student-docs"  # the bucket key, resolved for dev
    assert job.region == "us-east-1"
    assert job.source_dir == REPO / "legacy" / "uploads"
    assert isinstance(job.spec.database, SqlDatabase)
    # a relative SQLite path is relative to the config file, not to the working directory
    assert job.spec.database.url == f"sqlite:///{REPO / 'legacy' / 'app.db'}"
    assert job.journal_url == f"sqlite:///{REPO / '.cargohold' / 'migrations' / 'student-uploads.sqlite'}"


def test_postgresql_jobs_keep_their_journal_in_the_database(tmp_path: Path) -> None:
    job_file = tmp_path / "gen.yaml"
    job_file.write_text(
        "source: {directory: out}\n"
        "target: {bucket: my-bucket, key_template: 'generations/{path}'}\n"
        "database: {url: 'postgresql+psycopg://app@db/app', table: generations, path_column: file_path,"
        " key_column: s3_key, url_column: s3_url}\n"
    )
    job = load_job(config_path=tmp_path / "config.yaml", job_file=job_file)
    assert job.name == "gen" and job.bucket == "my-bucket"
    assert job.journal_url == "postgresql+psycopg://app@db/app"
    assert job.source_dir == tmp_path / "out"


def test_dynamodb_table_key_resolves_to_its_aws_name(tmp_path: Path) -> None:
    config = REPO / "examples" / "photos" / "config.yaml"
    env = load_project(config).environment("dev")
    job_file = tmp_path / "photos.yaml"
    job_file.write_text(
        "source: {directory: /srv/photos}\n"
        "target: {bucket: photos, key_template: 'uploads/{userId}/{filename}'}\n"
        "database: {kind: dynamodb, table: photos, hash_key: userId, range_key: uploadedAt,"
        " path_attribute: localPath, key_attribute: s3Key}\n"
    )
    job = load_job(config_path=config, job_file=job_file, env=env)
    assert isinstance(job.spec.database, DynamoDatabase)
    assert job.spec.database.table == "photos-dev-photos"
    assert job.bucket == "photos-dev-photos"
    assert job.region == "ap-south-1"


def test_job_file_mistakes_are_located(tmp_path: Path) -> None:
    job_file = tmp_path / "bad.yaml"
    job_file.write_text(
        "source:\n"
        "  directory: up\n"
        "  folow_symlinks: true\n"  # line 3
        "target:\n"
        "  bucket: b\n"
        "  storage_class: GLACIER_INSTANT\n"  # line 6
        "database:\n"
        "  url: sqlite:///x.db\n"
        "  table: t\n"
        "  path_column: p\n"  # key_column missing: reported at `database`
        "tuning: {concurrency: 0}\n"  # line 11
    )
    with pytest.raises(ConfigError) as caught:
        load_job(config_path=tmp_path / "config.yaml", job_file=job_file)
    found = {(p.line, p.path): p for p in caught.value.problems}
    assert "did you mean 'follow_symlinks'" in found[(3, "source.folow_symlinks")].message
    assert "GLACIER_INSTANT" in found[(6, "target.storage_class")].message
    assert "key_column" in found[(7, "database")].message
    assert (11, "tuning.concurrency") in found


def test_config_migration_mistakes_point_into_config_yaml(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "project: demo\n"
        "environments: {dev: {region: us-east-1, account: '111111111111'}}\n"
        "migrations:\n"
        "  one:\n"
        "    source: {directory: up}\n"
        "    target: {bucket: b, sse: AES-256}\n"  # line 6
        "    database: {kind: dynamodb, table: t, hash_key: id, path_attribute: p, key_attribute: k, url: x}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_job(config_path=config)
    paths = {(p.line, p.path) for p in caught.value.problems}
    assert (6, "migrations.one.target.sse") in paths
    assert (7, "migrations.one.database.url") in paths


def test_a_bad_key_template_is_located_before_anything_runs(tmp_path: Path) -> None:
    job_file = tmp_path / "bad.yaml"
    job_file.write_text(
        "source: {directory: up}\n"
        "target:\n"
        "  bucket: b\n"
        "  key_template: '{user_id}/{path|slgu}'\n"  # line 4
        "database: {url: 'sqlite:///a.db', table: t, path_column: p, key_column: k}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_job(config_path=tmp_path / "config.yaml", job_file=job_file)
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (4, "target.key_template")
    assert "unknown filter 'slgu'" in problem.message and "did you mean 'slug'?" in problem.message
    assert problem.hint is not None and "clean, nfc, nfkc, ascii, slug, lower, upper, strip" in problem.hint


def test_a_key_template_that_cannot_be_parsed_points_into_config_yaml(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "project: demo\n"
        "environments: {dev: {region: us-east-1, account: '111111111111'}}\n"
        "migrations:\n"
        "  one:\n"
        "    source: {directory: up}\n"
        "    target: {bucket: b, key_template: '{user_id/{path|clean}'}\n"  # line 6
        "    database: {url: 'sqlite:///a.db', table: t, path_column: p, key_column: k}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_job(config_path=config)
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (6, "migrations.one.target.key_template")
    assert "cannot be parsed" in problem.message and problem.hint
    config.write_text(config.read_text().replace("'{user_id/{path|clean}'", "'{user_id}/{path|ascii|slug}'"))
    assert load_job(config_path=config).spec.target.key_template == "{user_id}/{path|ascii|slug}"


def test_choosing_a_job(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("project: demo\nenvironments: {dev: {region: us-east-1, account: '111111111111'}}\n")
    with pytest.raises(CargoholdError, match="no `migrations:` section"):
        load_job(config_path=config)
    job = (
        "{source: {directory: up}, target: {bucket: b},"
        " database: {url: 'sqlite:///a.db', table: t, path_column: p, key_column: k}}"
    )
    config.write_text(config.read_text() + f"migrations:\n  photos: {job}\n  docs: {job}\n")
    with pytest.raises(CargoholdError, match="several migrations") as several:
        load_job(config_path=config)
    assert "--job photos | docs" in (several.value.hint or "")
    with pytest.raises(CargoholdError, match="did you mean 'photos'"):
        load_job(config_path=config, job_name="photo")
    assert load_job(config_path=config, job_name="docs").name == "docs"
