"""Plain HTTP for the probes: what a browser or an application sends, with no AWS SDK in between.

Redirects are never followed (a 301/307 from S3 is itself the diagnosis), and only http(s) URLs
are accepted.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request(method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """Send one request; any HTTP status comes back as a Response (connection errors raise OSError)."""
    if urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url[:40]}")
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with _OPENER.open(req, timeout=TIMEOUT_S) as answer:
            return Response(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers or {}), exc.read())


def multipart(fields: Mapping[str, str], *, file_name: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body, as a browser builds it for a presigned POST (the file part last)."""
    boundary = f"cargohold-{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
