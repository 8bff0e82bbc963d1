"""`cargohold migrate run` behind an HTTP proxy (issue 13): the endpoint in config.yaml is HTTPS on a host
name that never resolves (tests/support/proxied.py), so the run works only when both request paths, botocore
(the account guard's STS call, the bucket check, the HEADs that verify) and the uploader's own PUTs, go
through the CONNECT tunnel HTTPS_PROXY names and trust AWS_CA_BUNDLE. When the proxy refuses, the run stops
with one clear error and changes nothing."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import pytest
from click.testing import CliRunner, Result

from tests.support.http_proxy import forwarding_proxy
from tests.support.proxied import CA_WAYS, PROXY_VARIABLES, Proxied, trust
from toolkit.cli import main
from toolkit.demo.emulator import Emulator

BUCKET = "relay-prod-docs"  # config.yaml's name_template is {project}-{env}-{name}
FILES = {"a.txt": b"first file", "sub/b.bin": bytes(range(256)) * 40, "c d.txt": b"a name with a space"}
CONFIG = """\
version: 1
project: {project}
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


def project(folder: Path, endpoint: str, name: str = "relay") -> Path:
    for path, data in FILES.items():
        (folder / "files" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "files" / path).write_bytes(data)
    with sqlite3.connect(folder / "app.db") as db:
        db.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, s3_key TEXT)")
        db.executemany("INSERT INTO documents (path) VALUES (?)", [(path,) for path in FILES])
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(endpoint=endpoint, project=name), encoding="utf-8")
    return config


def rows(folder: Path) -> dict[str, Any]:
    with sqlite3.connect(folder / "app.db") as db:
        return dict(db.execute("SELECT path, s3_key FROM documents").fetchall())


def run(config: Path) -> Result:
    argv = ["migrate", "run", "--job", "files", "--env", "prod", "--config", str(config)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


@pytest.mark.parametrize("ca", CA_WAYS)
def test_migrate_run_goes_through_the_proxy(
    tmp_path: Path, proxied: Proxied, monkeypatch: pytest.MonkeyPatch, ca: str
) -> None:
    trust(ca, proxied.front.cert, tmp_path, monkeypatch)
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
    assert "Hint: the proxy named by HTTPS_PROXY/HTTP_PROXY refused the request" in result.stderr
    assert proxied.proxy.connects and proxied.front.seen == []
    assert rows(tmp_path) == before
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert all((tmp_path / "files" / name).read_bytes() == data for name, data in FILES.items())


@pytest.mark.parametrize("no_proxy", ["", "127.0.0.1"])
def test_both_request_paths_take_the_same_way_to_a_loopback_endpoint(
    tmp_path: Path, moto: Emulator, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    """botocore proxies loopback too unless NO_PROXY lists it: the uploader's PUTs go the way the same run's
    botocore calls go, through the proxy or past it, never one of each."""
    name = f"loop{uuid.uuid4().hex[:8]}"
    bucket = f"{name}-prod-docs"
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    config = project(tmp_path, moto.endpoint, name)
    parts = urlsplit(moto.endpoint)
    with forwarding_proxy((parts.hostname or "", parts.port or 80)) as proxy:
        for variable in PROXY_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        if no_proxy:
            monkeypatch.setenv("NO_PROXY", no_proxy)
        result = run(config)
    assert result.exit_code == 0, result.output
    assert rows(tmp_path) == {n: n for n in FILES}
    if no_proxy:
        assert proxy.lines == []
        return
    origin = moto.endpoint
    assert f"POST {origin}/ HTTP/1.1" in proxy.lines  # botocore: the account guard's STS call
    for n in FILES:
        assert f"PUT {origin}/{bucket}/{quote(n)} HTTP/1.1" in proxy.lines  # the uploader's own PUTs


def test_an_https_proxy_is_spoken_to_over_tls(
    tmp_path: Path, proxied: Proxied, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS_PROXY=https://...: TLS to the proxy itself (verified with the same CA bundle, as botocore does when
    no client is given a proxies_config), then CONNECT, then TLS to the endpoint inside that."""
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_bytes(proxied.front.cert.read_bytes() + proxied.tls_proxy_cert.read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", f"https://localhost:{proxied.tls_proxy.port}")
    s3 = proxied.direct("s3")
    s3.create_bucket(Bucket=BUCKET)
    config = project(tmp_path, proxied.endpoint)

    result = run(config)

    assert result.exit_code == 0, result.output
    assert rows(tmp_path) == {name: name for name in FILES}
    assert all(s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == data for name, data in FILES.items())
    seen = proxied.through_proxy(proxied.tls_proxy)
    assert {f"PUT /{BUCKET}/{quote(n)} HTTP/1.1" for n in FILES} <= {s.line for s in seen if not s.botocore}
    assert any(s.botocore for s in seen) and proxied.proxy.lines == []


JOB = """\
source: {directory: files}
target: {bucket: relay-prod-docs, key_template: "{path}"}
database: {url: "sqlite:///app.db", table: documents, id_column: id, path_column: path, key_column: s3_key}
"""


@pytest.mark.parametrize("refused", [False, True])
def test_a_job_file_run_without_an_environment_goes_through_the_proxy(
    tmp_path: Path, proxied: Proxied, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """Without --env there is no account guard: the uploader's own requests are the first to meet the proxy."""
    s3 = proxied.direct("s3")
    s3.create_bucket(Bucket=BUCKET)
    project(tmp_path, proxied.endpoint)
    (tmp_path / "job.yaml").write_text(JOB, encoding="utf-8")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxied.endpoint)
    monkeypatch.chdir(tmp_path)
    before = rows(tmp_path)
    proxied.proxy.refuse_connect = refused

    argv = ["migrate", "run", "--job-file", str(tmp_path / "job.yaml"), "-c", str(tmp_path / "none.yaml")]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)

    if not refused:
        assert result.exit_code == 0, result.output
        assert rows(tmp_path) == {name: name for name in FILES}
        assert {f"PUT /{BUCKET}/{quote(n)} HTTP/1.1" for n in FILES} <= {s.line for s in proxied.through_proxy()}
        return
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    authority = f"{proxied.front.host}:{proxied.front.port}"
    assert f"the proxy http://127.0.0.1:{proxied.proxy.port} refused CONNECT {authority}: 403 Forbidden" in errors[0]
    assert "Hint: nothing answered: check the endpoint and the network; behind a proxy, HTTPS_PROXY" in result.stderr
    assert proxied.front.seen == [] and rows(tmp_path) == before
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
