"""The lean SigV4 signer must sign exactly as botocore's S3SigV4Auth does."""

from __future__ import annotations

import hashlib

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cargohold_core.s3http import SigV4Signer, encode_key, encode_query


class _PayloadAuth(S3SigV4Auth):
    """botocore's signer with a fixed timestamp."""

    def __init__(self, *a: object, amz_date: str) -> None:
        super().__init__(*a)  # type: ignore[arg-type]
        self._amz_date = amz_date

    def add_auth(self, request: AWSRequest) -> None:
        import botocore.auth as ba

        real = ba.get_current_datetime
        import datetime

        ba.get_current_datetime = lambda: datetime.datetime.strptime(self._amz_date, "%Y%m%dT%H%M%SZ")
        try:
            super().add_auth(request)
        finally:
            ba.get_current_datetime = real


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
    _PayloadAuth(creds, "s3", "eu-west-1", amz_date=amz_date).add_auth(req)
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
