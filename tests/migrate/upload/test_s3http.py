"""The S3 request layer: the lean SigV4 signer signs exactly as botocore's S3SigV4Auth does, and
connections go through the proxy the environment names, as botocore's do."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import get_cert_path

from cargohold_core.s3http import (
    S3Connection,
    SigV4Signer,
    TransportError,
    bucket_address,
    ca_bundle,
    encode_key,
    encode_query,
    proxy_for,
    virtual_hostable,
)
from tests.support.botocore_signer import FixedTimeS3Auth
from tests.support.http_proxy import forwarding_proxy
from toolkit.demo.emulator import Emulator


@pytest.mark.parametrize("token", [None, "session-token/+="])
@pytest.mark.parametrize(
    ("method", "key", "params", "body"),
    [
        ("PUT", "users/1/with space+plus#hash?q=1&x/ünï 日本.pdf", {}, b"hello"),
        ("PUT", "a/b", {"partNumber": "3", "uploadId": "abc/def+=="}, b"\x00" * 100),
        ("POST", "x y", {"uploads": ""}, b""),
        ("DELETE", "~tilde/(paren)'s", {"uploadId": "u"}, b""),
    ],
)
def test_signature_matches_botocore(
    method: str, key: str, params: dict[str, str], body: bytes, token: str | None
) -> None:
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token)
    amz_date = "20261122T001500Z"
    host = "127.0.0.1:9000"
    path = "/bucket/" + encode_key(key)
    query = encode_query(params)
    payload = hashlib.sha256(body).hexdigest()
    headers = {"content-type": "application/pdf", "content-md5": "abc==", "x-amz-meta-row": "  a   b  "}
    ours = SigV4Signer(creds, "eu-west-1").sign(
        method=method,
        host=host,
        path=path,
        query=query,
        headers=dict(headers),
        payload_sha256=payload,
        amz_date=amz_date,
    )
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    FixedTimeS3Auth(creds, "eu-west-1", amz_date).add_auth(req)
    assert ours["authorization"] == req.headers["Authorization"]
    assert ours["x-amz-content-sha256"] == req.headers["X-Amz-Content-SHA256"] == payload
    assert ours.get("x-amz-security-token") == (req.headers.get("X-Amz-Security-Token"))


def test_signing_key_is_cached_per_day() -> None:
    creds = Credentials("AKID", "SECRET")
    s = SigV4Signer(creds, "us-east-1")
    kw = {"method": "GET", "host": "h", "path": "/", "query": "", "payload_sha256": "x"}
    s.sign(headers={}, amz_date="20260101T000000Z", **kw)  # type: ignore[arg-type]
    first = s._key_cache
    s.sign(headers={}, amz_date="20260101T235959Z", **kw)  # type: ignore[arg-type]
    assert s._key_cache is first
    s.sign(headers={}, amz_date="20260102T000000Z", **kw)  # type: ignore[arg-type]
    assert s._key_cache is not first


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_proxy_settings_are_the_environment_botocore_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    assert proxy_for("https", "s3.eu-west-1.amazonaws.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://user%40corp:p%3Ass@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", ".internal.example")
    found = proxy_for("https", "bucket.s3.eu-west-1.amazonaws.com")
    assert found is not None and (found.host, found.port) == ("proxy.corp", 3128)
    assert found.authorization == "Basic " + base64.b64encode(b"user@corp:p:ss").decode()
    assert proxy_for("http", "bucket.s3.eu-west-1.amazonaws.com") is None  # HTTPS_PROXY is for https only
    assert proxy_for("https", "minio.internal.example") is None  # NO_PROXY


# (NO_PROXY, endpoint URL): the forms botocore (through urllib's proxy_bypass, given the URL's netloc) accepts
# or ignores. Loopback is proxied unless NO_PROXY says otherwise; host:port entries match only that port; a
# leading dot, or none, is a domain suffix; `*` alone is everything; CIDR ranges are not understood.
BYPASS_CASES = [
    ("", "http://127.0.0.1:5000"),
    ("", "https://localhost:4566"),
    ("127.0.0.1,localhost", "http://127.0.0.1:5000"),
    ("localhost", "https://localhost:4566"),
    ("*", "https://s3.corp.example:9000"),
    ("localhost, *", "https://s3.corp.example"),
    (".corp.example", "https://s3.corp.example:9000"),
    ("corp.example", "https://s3.corp.example"),
    ("CORP.example", "https://s3.corp.example"),
    ("s3.corp.example:9000", "https://s3.corp.example:9000"),
    ("s3.corp.example:9000", "https://s3.corp.example:9001"),
    ("s3.corp.example:9000", "https://s3.corp.example"),
    ("10.0.0.0/8", "https://10.1.2.3"),
    ("10.1.2.3", "https://10.1.2.3:9000"),
    ("other.example, s3.corp.example", "https://s3.corp.example"),
    ("example", "https://bucket.s3.us-east-1.amazonaws.com"),
]


@pytest.mark.parametrize(("no_proxy", "url"), BYPASS_CASES)
def test_the_proxy_decision_is_botocores(monkeypatch: pytest.MonkeyPatch, no_proxy: str, url: str) -> None:
    from botocore.utils import get_environ_proxies

    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://web-proxy.corp:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://tls-proxy.corp:3129")
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    parts = urlsplit(url)
    wanted = get_environ_proxies(url).get(parts.scheme)  # what botocore's client for this endpoint uses
    ours = proxy_for(parts.scheme, parts.hostname or "", port=parts.port)
    assert (None if ours is None else f"http://{ours.host}:{ours.port}") == wanted


def test_proxy_credentials_as_botocore_sends_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore sends Proxy-Authorization only when the proxy URL has both a user name and a password."""
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://ops@proxy.corp:3128")
    found = proxy_for("https", "bucket.s3.eu-west-1.amazonaws.com")
    assert found is not None and found.authorization is None


def test_plain_http_goes_through_the_proxy_to_a_real_s3_server(moto: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = urlsplit(moto.endpoint)
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    bucket = f"proxied-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    with forwarding_proxy((parts.hostname or "", parts.port or 80)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://ops:secret@127.0.0.1:{proxy.port}")
        # TEST-NET-1, routed nowhere: only the proxy, which sends everything to moto, reaches it
        host = f"192.0.2.10:{parts.port}"
        conn = S3Connection(scheme="http", host="192.0.2.10", port=parts.port, connect_timeout=5, read_timeout=5)
        body = b"through the proxy"
        path = f"/{bucket}/hello.txt"
        signed = SigV4Signer(boto3.Session().get_credentials(), "us-east-1").sign(
            method="PUT", host=host, path=path, query="", headers={}, payload_sha256=hashlib.sha256(body).hexdigest()
        )
        response = conn.request("PUT", path, signed, body)
        conn.close()
    assert response.status == 200, response.body
    assert proxy.lines == [f"PUT http://{host}{path} HTTP/1.1"]  # absolute form, to the proxy
    assert proxy.authorizations == ["Basic " + base64.b64encode(b"ops:secret").decode()]
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == body


def test_https_through_a_proxy_that_refuses_connect_is_one_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with forwarding_proxy(("127.0.0.1", 9)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        conn = S3Connection(
            scheme="https", host="bucket.s3.eu-west-1.amazonaws.com", port=None, connect_timeout=5, read_timeout=5
        )
        with pytest.raises(
            TransportError, match=r"refused CONNECT bucket\.s3\.eu-west-1\.amazonaws\.com:443: 403 Forbidden$"
        ):
            conn.request("GET", "/", {}, b"")
    assert proxy.lines == ["CONNECT bucket.s3.eu-west-1.amazonaws.com:443 HTTP/1.1"]


@pytest.mark.parametrize(
    ("bucket", "virtual"),
    [("lms-prod-docs", True), ("logs.example.com", False), ("Upper", False), ("-edge", False), ("ab", False)],
)
def test_one_addressing_rule_for_the_uploader_and_the_audit(bucket: str, virtual: bool) -> None:
    assert virtual_hostable(bucket) is virtual
    assert (bucket_address(bucket, "eu-west-1").hostname == f"{bucket}.s3.eu-west-1.amazonaws.com") is virtual


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"REQUESTS_CA_BUNDLE": "requests.pem"},
        {"profile": "profile.pem", "REQUESTS_CA_BUNDLE": "requests.pem"},
        {"AWS_CA_BUNDLE": "aws.pem", "profile": "profile.pem", "REQUESTS_CA_BUNDLE": "requests.pem"},
    ],
)
def test_the_ca_bundle_is_the_one_botocore_verifies_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: dict[str, str]
) -> None:
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        if name in given:
            monkeypatch.setenv(name, str(tmp_path / given[name]))
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile ops]\n" + (f"ca_bundle = {tmp_path / given['profile']}\n" if "profile" in given else "")
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1")
    client = session.client("s3", endpoint_url="https://s3.corp.example")
    verify = client._endpoint.http_session._verify  # what botocore's connections verify with
    assert ca_bundle(session) == (verify if verify is not True else get_cert_path(True))  # True: certifi's
    assert ca_bundle(None) == ca_bundle(session)  # the default session resolves the same way
