"""`cargohold migrate run` + `verify` end to end against each real database, in the guides' shapes:
generations in PostgreSQL (s3_key, s3_url; the journal inside the same database), LMS materials in
MariaDB, photos in DynamoDB (userId S / uploadedAt N, s3Key). Files on disk, a moto server over HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from rowstore_backends import unique

from toolkit.cli import main
from toolkit.demo.emulator import Emulator

FILES = {"a/one.png": b"1" * 1000, "a/two #2.png": b"22", "b/ü ñ.png": b"", "b/c/three+.png": b"3" * 70_000}


def write_files(root: Path) -> Path:
    for relpath, body in FILES.items():
        (root / "files" / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / "files" / relpath).write_bytes(body)
    return root / "files"


def run_job(tmp_path: Path, job_text: str, moto: Emulator, monkeypatch: pytest.MonkeyPatch, bucket: str) -> dict:
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    job = tmp_path / "job.yaml"
    job.write_text(job_text)
    args = ["--job-file", str(job), "-c", str(tmp_path / "config.yaml"), "--format", "json"]
    ran = CliRunner().invoke(main, ["migrate", "run", *args], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    verified = CliRunner().invoke(main, ["migrate", "verify", *args], catch_exceptions=False)
    assert verified.exit_code == 0, verified.output
    again = json.loads(CliRunner().invoke(main, ["migrate", "run", *args], catch_exceptions=False).stdout)
    assert (again["uploaded"], again["rows_updated"]) == (0, 0)
    return dict(json.loads(ran.stdout))


def object_body(moto: Emulator, bucket: str, key: str) -> bytes:
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.mark.parametrize("database", ["postgres", "mysql"])
def test_sql_databases(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = request.getfixturevalue("postgres_url" if database == "postgres" else "mysql_url")
    table = unique("gen")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, user_id VARCHAR(20), file_path VARCHAR(300),"
            " s3_key VARCHAR(500), s3_url VARCHAR(700))"
        ))
        for index, relpath in enumerate(FILES, start=1):
            conn.execute(sa.text(f"INSERT INTO {table} (id, user_id, file_path) VALUES (:i, :u, :p)"),
                         {"i": index, "u": f"user{index % 2}", "p": f"/srv/app/files/{relpath}"})
    write_files(tmp_path)
    bucket = unique("gen-bucket").replace("_", "-").lower()
    try:
        report = run_job(tmp_path, (
            "source: {directory: files, path_base: /srv/app/files}\n"
            f"target: {{bucket: {bucket}, key_template: 'generations/{{user_id}}/{{path}}'}}\n"
            f"database: {{url: '{url}', table: {table}, path_column: file_path, key_column: s3_key,"
            " url_column: s3_url}\n"
        ), moto, monkeypatch, bucket)
        assert report["uploaded"] == len(FILES) and report["rows_updated"] == len(FILES)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT user_id, file_path, s3_key, s3_url FROM {table}")).all()
            if database == "postgres":  # the journal lives in the application's own database
                journaled = conn.execute(sa.text(
                    "SELECT count(*) FROM cargohold_migration_objects WHERE job = 'job' AND state = 'done'"
                )).scalar_one()
                assert journaled >= len(FILES)
        for user, path, key, s3_url in rows:
            relpath = path.removeprefix("/srv/app/files/")
            assert key == f"generations/{user}/{relpath}"
            assert s3_url.startswith(f"https://{bucket}.s3.us-east-1.amazonaws.com/generations/")
            assert object_body(moto, bucket, key) == FILES[relpath]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {table}"))
            if database == "postgres":
                for suffix in ("objects", "rows", "files"):
                    conn.execute(sa.text(f"DELETE FROM cargohold_migration_{suffix} WHERE job = 'job'"))
        engine.dispose()


@pytest.mark.parametrize("command", ["plan", "run"])
def test_a_missing_sqlite_file_is_one_clean_error(command: str, tmp_path: Path) -> None:
    write_files(tmp_path)
    job = tmp_path / "job.yaml"
    job.write_text(
        "source: {directory: files}\ntarget: {bucket: b}\n"
        "database: {url: 'sqlite:///data/app.db', table: photos, path_column: path, key_column: s3_key}\n"
    )
    args = ["migrate", command, "--job-file", str(job), "-c", str(tmp_path / "config.yaml")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: the SQLite database {(tmp_path / 'data' / 'app.db').resolve()} does not exist"]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "job.yaml"]  # no database, no journal


def test_dynamodb_photos_table(tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    table = unique("photos")
    ddb = boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name="us-east-1")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "uploadedAt", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"},
                              {"AttributeName": "uploadedAt", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for index, relpath in enumerate(FILES, start=1):
        ddb.put_item(TableName=table, Item={
            "userId": {"S": f"u{index % 2}"}, "uploadedAt": {"N": str(1_700_000_000 + index)},
            "localPath": {"S": f"./{relpath}"}, "storage": {"S": "local"},
        })
    ddb.put_item(TableName=table, Item={"userId": {"S": "u9"}, "uploadedAt": {"N": "1"}, "storage": {"S": "s3"},
                                        "localPath": {"S": "a/one.png"}})  # filtered out by `where`
    write_files(tmp_path)
    bucket = unique("photos-bucket").replace("_", "-").lower()
    report = run_job(tmp_path, (
        "source: {directory: files}\n"
        f"target: {{bucket: {bucket}, key_template: 'uploads/{{userId}}/{{uploadedAt}}-{{filename}}'}}\n"
        f"database: {{kind: dynamodb, table: {table}, hash_key: userId, range_key: uploadedAt,"
        " path_attribute: localPath, key_attribute: s3Key, storage_attribute: storage, where: {storage: local}}\n"
    ), moto, monkeypatch, bucket)
    assert report["uploaded"] == len(FILES) and report["rows_updated"] == len(FILES)
    items = ddb.scan(TableName=table)["Items"]
    for item in items:
        if item["userId"]["S"] == "u9":
            assert "s3Key" not in item
            continue
        key = item["s3Key"]["S"]
        assert key == f"uploads/{item['userId']['S']}/{item['uploadedAt']['N']}-{Path(item['localPath']['S']).name}"
        assert item["storage"]["S"] == "s3"
        assert object_body(moto, bucket, key) == FILES[item["localPath"]["S"].removeprefix("./")]
