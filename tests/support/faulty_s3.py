"""A fault-injecting HTTP reverse proxy for S3 tests: sits on 127.0.0.1 in front of an S3 endpoint (a moto
server) and fails a seeded fraction of the requests.

    with FaultyS3(moto.endpoint, fraction=0.3, seed=7) as proxy:
        uploader = Uploader(bucket="b", endpoint=proxy.endpoint, ...)
        ...
        assert proxy.injected["slowdown"] > 0

Faults (picked with the same seeded RNG, so a run is reproducible for a given request order):
- "slowdown": 503 with S3's SlowDown XML body;
- "internal": 500 with S3's InternalError XML body;
- "drop": the connection is closed without any response (the client sees a reset / remote disconnect);
- "bare": 403 with an XML <Error> whose Code and Message are empty (an answer that explains nothing, as
  some proxies and S3-compatible servers give; AWS itself always names a code). Only when asked for:
  not among the default faults.
- `bucket_region`: the region the bucket is in, as S3 knows it: a request signed for another region is
  answered as S3 answers it (301 with `x-amz-bucket-region`; PermanentRedirect XML but for HEAD), and
  counted as injected["redirect"]. moto accepts any region, so this is the only way to see a redirect here.
A failed request never reaches the upstream. `methods` limits faults to some HTTP methods (e.g. {"PUT"});
`match` (a callable on method and path) narrows it further. Counts of what was injected and forwarded are
in `injected` / `forwarded`. Loopback only: both the listening address and the upstream must be loopback.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

FAULTS = ("slowdown", "internal", "drop")
KNOWN_FAULTS = (*FAULTS, "bare")
_BODIES = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
    "bare": (403, "", ""),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FaultyS3:
    def __init__(
        self,
        upstream: str,
        *,
        fraction: float = 0.3,
        seed: int = 0,
        faults: Collection[str] = FAULTS,
        methods: Collection[str] | None = None,
        match: Callable[[str, str], bool] | None = None,
        bucket_region: str | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"FaultyS3 only proxies to loopback, not {upstream!r}")
        unknown = set(faults) - set(KNOWN_FAULTS)
        if unknown or not faults:
            raise ValueError(f"faults must be a non-empty subset of {KNOWN_FAULTS}, not {sorted(faults)}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.fraction = fraction
        self.faults = tuple(faults)
        self.methods = {m.upper() for m in methods} if methods else None
        self.match = match
        self.bucket_region = bucket_region
        self.injected: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()  # by method
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    def _decide(self, method: str, path: str) -> str | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self.match is not None and not self.match(method, path):
            return None
        with self._lock:
            if self._rng.random() >= self.fraction:
                return None
            fault = self._rng.choice(self.faults)
            self.injected[fault] += 1
            return fault

    def __enter__(self) -> FaultyS3:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                signed_for = self.headers.get("Authorization", "").split("Credential=", 1)[-1].split("/")
                if proxy.bucket_region and len(signed_for) > 2 and signed_for[2] != proxy.bucket_region:
                    with proxy._lock:
                        proxy.injected["redirect"] += 1
                    self._answer(301, "PermanentRedirect", "Use the bucket's region.", head=self.command == "HEAD")
                    return
                fault = proxy._decide(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    self._answer(*_BODIES[fault])
                    return
                self._forward(body)

            def _answer(self, status: int, code: str, message: str, *, head: bool = False) -> None:
                xml = (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{message}</Message><RequestId>faulty-s3</RequestId></Error>"
                ).encode()
                self.send_response(status)
                if proxy.bucket_region:
                    self.send_header("x-amz-bucket-region", proxy.bucket_region)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", "0" if head else str(len(xml)))
                self.end_headers()
                if not head:
                    self.wfile.write(xml)

            def _forward(self, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                for attempt in (1, 2):  # a kept-alive upstream connection may have gone stale
                    conn = self.upstream or http.client.HTTPConnection(
                        proxy.upstream_host, proxy.upstream_port, timeout=60
                    )
                    self.upstream = conn
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        data = resp.read()
                        break
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        self.upstream = None
                        if attempt == 2:
                            raise
                with proxy._lock:
                    proxy.forwarded[self.command] += 1
                self.send_response_only(resp.status, resp.reason)
                for name, value in resp.getheaders():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                elif resp.getheader("Content-Length") is not None:
                    self.send_header("Content-Length", str(resp.getheader("Content-Length")))
                self.end_headers()
                if self.command != "HEAD" and data:
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="faulty-s3", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
