"""`cargohold audit` behind an HTTP proxy (issue 13): the endpoint in config.yaml is HTTPS on a host name that
never resolves (tests/support/proxied.py), so the audit reads the account only when both request paths, botocore
(ListBuckets, IAM, DynamoDB, s3control) and its lean bucket-configuration GETs (toolkit/audit/s3get.py), go
through the CONNECT tunnel HTTPS_PROXY names and trust AWS_CA_BUNDLE. When the proxy refuses, the audit does
not run: one clear error, exit 1, no report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.proxied import CA_WAYS, Proxied, trust
from toolkit.cli import main

CONFIG = """\
version: 1
project: relay
environments:
  prod: {{region: us-east-1, account: "123456789012", endpoint: "{endpoint}"}}
buckets:
  docs:
    versioning: true
    cors:
      - {{allowed_origins: ["https://app.example.com"], allowed_methods: [GET]}}
"""
BUCKET = "relay-prod-docs"


def audit(config: Path, *options: str) -> Result:
    argv = ["audit", "--env", "prod", "--config", str(config), *options]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


@pytest.mark.parametrize("ca", CA_WAYS)
def test_audit_reads_the_account_through_the_proxy(
    tmp_path: Path, proxied: Proxied, monkeypatch: pytest.MonkeyPatch, ca: str
) -> None:
    trust(ca, proxied.front.cert, tmp_path, monkeypatch)
    s3 = proxied.direct("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]},
    )
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(endpoint=proxied.endpoint), encoding="utf-8")

    result = audit(config, "--format", "json")

    assert result.exit_code in (0, 2), result.output  # a report, with or without findings at --fail-on
    report = json.loads(result.stdout)
    findings = report["findings"]
    assert report["stats"]["buckets"] == 1
    assert [f for f in findings if f["status"] == "error"] == []  # every check read what it needs
    status = {(f["check"], f["resource"]): f["status"] for f in findings}
    bucket = f"arn:aws:s3:::{BUCKET}"
    assert status[("s3.versioning", bucket)] == "pass"  # from the lean GET ?versioning
    assert status[("s3.bucket-public-access-block", bucket)] == "fail"  # a 404 read as "none set"
    assert status[("s3.account-public-access-block", "arn:aws:iam::123456789012:root")] == "fail"  # s3control

    seen = proxied.through_proxy()  # every request the endpoint saw came through a tunnel of the proxy
    lean = {s.line for s in seen if not s.botocore}
    assert f"GET /{BUCKET}?versioning HTTP/1.1" in lean and f"GET /{BUCKET}?cors HTTP/1.1" in lean
    botocore = {s.line for s in seen if s.botocore}
    assert "GET / HTTP/1.1" in botocore  # ListBuckets
    assert any(line.startswith("GET /v20180820/configuration/publicAccessBlock") for line in botocore)
    authority = f"{proxied.front.host}:{proxied.front.port}"
    assert set(proxied.proxy.connects) == {authority, f"123456789012.{authority}"}  # s3control's account host


def test_audit_does_not_run_when_the_proxy_refuses(tmp_path: Path, proxied: Proxied) -> None:
    proxied.direct("s3").create_bucket(Bucket=BUCKET)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(endpoint=proxied.endpoint), encoding="utf-8")
    proxied.proxy.refuse_connect = True

    result = audit(config)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{proxied.proxy.port}" in errors[0]
    assert "Hint: the proxy named by HTTPS_PROXY/HTTP_PROXY refused the request" in result.stderr
    assert proxied.proxy.connects and proxied.front.seen == []


def test_audit_through_an_https_proxy(tmp_path: Path, proxied: Proxied, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_bytes(proxied.front.cert.read_bytes() + proxied.tls_proxy_cert.read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", f"https://localhost:{proxied.tls_proxy.port}")
    proxied.direct("s3").create_bucket(Bucket=BUCKET)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(endpoint=proxied.endpoint), encoding="utf-8")

    result = audit(config, "--format", "json")

    assert result.exit_code in (0, 2), result.output
    findings = json.loads(result.stdout)["findings"]
    assert findings and [f for f in findings if f["status"] == "error"] == []
    lean = {s.line for s in proxied.through_proxy(proxied.tls_proxy) if not s.botocore}
    assert f"GET /{BUCKET}?versioning HTTP/1.1" in lean
