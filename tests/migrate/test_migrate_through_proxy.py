"""`cargohold migrate run` behind an HTTP proxy (issue 13): the endpoint in config.yaml is HTTPS on a host
name that never resolves (tests/support/proxied.py), so the run works only when both request paths, botocore
(the account guard's STS call, the bucket check, the HEADs that verify) and the uploader's own PUTs, go
through the CONNECT tunnel HTTPS_PROXY names and trust AWS_CA_BUNDLE. When the proxy refuses, the run stops
with one clear error and changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from click.testing import CliRunner, Result

from tests.support.proxied import Proxied
from toolkit.cli import main

BUCKET = "relay-prod-docs"
FILES = {"a.txt": b"first file", "sub/b.bin": bytes(range(256)) * 40, "c d.txt": b"a name with a space"}
CONFIG = """\
version: 1
project: relay
environments:
  prod: {{region: us-east-1, account: "123456789012", endpoint: "{endpoint}"}}
buckets:
  docs: {{versioning: true}}
migrations:
  files:
    source: {{directory: files}}
    target: {{bucket: docs, key_template: "{{path}}"}}
    database:
      url: sqlite:///app.db
      table: documents
      id_column: id
      path_column: path
      key_column: s3_key
"""


def project(folder: Path, endpoint: str) -> Path:
    for name, data in FILES.items():
        (folder / "files" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "files" / name).write_bytes(data)
    with sqlite3.connect(folder / "app.db") as db:
        db.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
        db.executemany("INSERT INTO documents (path) VALUES (?)", [(name,) for name in FILES])
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(endpoint=endpoint), encoding="utf-8")
    return config


def rows(folder: Path) -> dict[str, Any]:
    with sqlite3.connect(folder / "app.db") as db:
        return dict(db.execute("SELECT path, s3_key FROM documents").fetchall())


def run(config: Path) -> Result:
    argv = ["migrate", "run", "--job", "files", "--env", "prod", "--config", str(config)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def test_migrate_run_goes_through_the_proxy(tmp_path: Path, proxied: Proxied) -> None:
    s3 = proxied.direct("s3")
    s3.create_bucket(Bucket=BUCKET)
    config = project(tmp_path, proxied.endpoint)

    result = run(config)

    assert result.exit_code == 0, result.output
    assert rows(tmp_path) == {name: name for name in FILES}
    for name, data in FILES.items():
        assert s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == data
        assert (tmp_path / "files" / name).read_bytes() == data  # run never deletes (cleanup does)
    seen = proxied.through_proxy()  # every request the endpoint saw came through a tunnel of the proxy
    authority = f"{proxied.front.host}:{proxied.front.port}"
    assert set(proxied.proxy.connects) == {authority}
    lean = {s.line for s in seen if not s.botocore}  # the uploader's own request path (no user agent)...
    for name in FILES:
        assert f"PUT /{BUCKET}/{quote(name)} HTTP/1.1" in lean
    assert f"HEAD /{BUCKET} HTTP/1.1" in lean  # its preflight
    botocore = [s.line for s in seen if s.botocore]  # ...and botocore's: the account guard, open uploads
    assert "POST / HTTP/1.1" in botocore and f"GET /{BUCKET}?uploads HTTP/1.1" in botocore


def test_a_proxy_that_refuses_stops_the_run_and_changes_nothing(tmp_path: Path, proxied: Proxied) -> None:
    s3 = proxied.direct("s3")
    s3.create_bucket(Bucket=BUCKET)
    config = project(tmp_path, proxied.endpoint)
    before = rows(tmp_path)
    proxied.proxy.refuse_connect = True

    result = run(config)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{proxied.proxy.port}" in errors[0]
    assert proxied.proxy.connects and proxied.front.seen == []
    assert rows(tmp_path) == before
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert all((tmp_path / "files" / name).read_bytes() == data for name, data in FILES.items())
