"""The lean S3 request path the uploader and the audit share: AWS Signature V4 over keep-alive
connections from one pool, with the one CA-bundle and proxy resolution both use (the retry policy they
share is cargohold_core.retry).

Why not botocore for every PUT: botocore's per-request work (its event system, model-driven serialisation,
`email.message`-based header maps in the signer) costs 1.5-2 ms of client CPU per PutObject, which caps a
Python uploader near 500 files/s per core. This module does only what a PUT/POST/DELETE of an object needs:

- `SigV4Signer`: the S3 flavour of SigV4 (no path normalisation, payload hash supplied by the caller, who
  already computed the SHA-256 while reading the file). Its output is byte-identical to botocore's
  `S3SigV4Auth` for the same request and timestamp (tests/migrate/upload/test_s3http.py checks that); the
  derived signing key is cached per day. Credentials come from a botocore `Credentials` object, so
  refreshable credentials (SSO, assume-role) refresh as usual.
- `S3Connection`: one keep-alive HTTP/1.1 connection (plain or TLS) to the endpoint, through the proxy
  botocore would use (`proxy_for`: absolute-form requests for http, a CONNECT tunnel for https, TLS to an
  https:// proxy); any transport error closes it, the next request reconnects.
- `ConnectionPool`: idle connections per host (on AWS every bucket is its own host), bounded, LRU.

Everything else (HEAD for verify, DeleteObjects, endpoint/credential resolution) goes through boto3.

Why not awscrt's S3 client underneath (bench/request_layer.py, bench/README.md): level with this on small
files (0.3 ms of client CPU per PUT each), faster on large ones only by hashing less; but it cannot upload
multipart to `rclone serve s3`, and gives no part-level resume through the journal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
import re
import socket
import ssl
import threading
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_SPACES = re.compile(r"\s+")

PoolKey = tuple[str, str, int | None]  # (scheme, host, port): what a keep-alive connection is to


def encode_key(key: str) -> str:
    """Percent-encode an object key for the request path, as botocore does (UTF-8; only `/` and `~` kept)."""
    return quote(key, safe="/~")


def encode_query(params: dict[str, str]) -> str:
    """The canonical (sorted, RFC 3986-encoded) query string; also used verbatim in the request line."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))


class SigV4Signer:
    """Sign S3 requests with AWS Signature Version 4 (header auth)."""

    def __init__(self, credentials: Any, region: str, service: str = "s3") -> None:
        self._credentials = credentials  # botocore.credentials.Credentials (maybe refreshable)
        self._region = region
        self._service = service
        self._key_cache: tuple[str, str, bytes] | None = None  # (secret, date, signing key)

    def _signing_key(self, secret: str, date: str) -> bytes:
        cached = self._key_cache
        if cached is not None and cached[0] == secret and cached[1] == date:
            return cached[2]
        k = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, self._region.encode(), hashlib.sha256).digest()
        k = hmac.new(k, self._service.encode(), hashlib.sha256).digest()
        k = hmac.new(k, b"aws4_request", hashlib.sha256).digest()
        self._key_cache = (secret, date, k)
        return k

    def sign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: dict[str, str],
        payload_sha256: str,
        amz_date: str | None = None,
    ) -> dict[str, str]:
        """Add x-amz-date, x-amz-content-sha256, the session token and Authorization to `headers` (in place).

        `path` and `query` are already encoded (as sent). Header names in `headers` must be lower case.
        Content-Length is not signed (botocore does not sign it either).
        """
        creds = self._credentials.get_frozen_credentials()
        if amz_date is None:
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        date = amz_date[:8]
        headers["host"] = host
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload_sha256
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = sorted(n for n in headers if n not in _UNSIGNED)
        canonical_headers = "".join(f"{n}:{_SPACES.sub(' ', headers[n].strip())}\n" for n in names)
        signed = ";".join(names)
        canonical = f"{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload_sha256}"
        scope = f"{date}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(creds.secret_key, date), to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
        return headers


# botocore's SIGNED_HEADERS_BLACKLIST, plus content-length (which botocore never sees as a header).
_UNSIGNED = frozenset({"expect", "transfer-encoding", "user-agent", "x-amzn-trace-id", "content-length"})


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class TransportError(Exception):
    """The request did not get an HTTP response (refused, reset, dropped, timed out). Always retryable."""


class S3Connection:
    """One keep-alive HTTP/1.1 connection to an S3 endpoint. Not thread-safe: one thread at a time.

    A minimal client on purpose: the request goes out in one `sendall` (head and small bodies together),
    the response head is parsed with a few `readline`s (no `email` parser), bodies by Content-Length or
    chunked encoding. Any transport problem closes the connection and raises TransportError.
    """

    def __init__(
        self,
        *,
        scheme: str,
        host: str,
        port: int | None,
        connect_timeout: float,
        read_timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.key: PoolKey = (scheme, host, port)
        self._scheme = scheme
        self._host = host
        self._port = port or (443 if scheme == "https" else 80)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._sock: Any = None  # a socket, an SSLSocket, or TLS inside a proxy's TLS (urllib3's SSLTransport)
        self._reader: Any = None  # io.BufferedReader over the socket
        self._proxy = proxy_for(scheme, host, port=port)
        # plain HTTP through a proxy: requests in absolute form (HTTPS goes through a CONNECT tunnel)
        self._forward = f"http://{host}:{self._port}" if self._proxy is not None and scheme == "http" else ""

    @property
    def needs_tls(self) -> bool:
        """Whether connecting takes a TLS context: an https endpoint, or a proxy reached over TLS."""
        return self._scheme == "https" or (self._proxy is not None and self._proxy.tls)

    def _connect(self) -> Any:
        proxy = self._proxy
        where = (proxy.host, proxy.port) if proxy is not None else (self._host, self._port)
        sock: Any = socket.create_connection(where, timeout=self._connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if proxy is not None and proxy.tls:  # an https:// proxy: TLS to the proxy first (botocore's bundle)
                sock = self._context().wrap_socket(sock, server_hostname=proxy.host)
            if proxy is not None and self._scheme == "https":
                self._tunnel(sock, proxy)
            if self._scheme == "https" and proxy is not None and proxy.tls:
                from urllib3.util.ssltransport import SSLTransport  # TLS inside TLS, as urllib3 does it

                sock = SSLTransport(sock, self._context(), server_hostname=self._host)
            elif self._scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=self._host)
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._reader = sock.makefile("rb", buffering=65536)
        return sock

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # a connection made outside a pool
            self._ssl_context = ssl.create_default_context(cafile=ca_bundle())
        return self._ssl_context

    def _tunnel(self, sock: Any, proxy: Proxy) -> None:
        """CONNECT through the proxy to the endpoint; TLS then runs end to end inside the tunnel."""
        authority = f"{self._host}:{self._port}"
        auth = f"proxy-authorization: {proxy.authorization}\r\n" if proxy.authorization else ""
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n{auth}\r\n".encode("latin-1"))
        reader = sock.makefile("rb", buffering=0)
        status = reader.readline(65537).split(None, 2)
        while reader.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        if len(status) < 2 or not status[1].startswith(b"2"):
            answer = b" ".join(status[1:]).decode("latin-1").strip() or "no answer"
            raise TransportError(f"the proxy {proxy.url} refused CONNECT {authority}: {answer}")

    def use_tls_context(self, context: ssl.SSLContext) -> None:
        """Verify the endpoint (and an https:// proxy) with `context` (the pool's one, shared)."""
        self._ssl_context = context

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | memoryview) -> Response:
        """Send one request; return the response with its whole body. Raises TransportError."""
        head = [f"{method} {self._forward}{target} HTTP/1.1\r\n"]
        if self._forward and self._proxy is not None and self._proxy.authorization:
            head.append(f"proxy-authorization: {self._proxy.authorization}\r\n")
        for name, value in headers.items():
            head.append(f"{name}: {value}\r\n")
        head.append(f"content-length: {len(body)}\r\n\r\n")
        raw = "".join(head).encode("latin-1")
        try:
            sock = self._sock or self._connect()
            if len(body) <= 256 * 1024:
                sock.sendall(raw + body if body else raw)
            else:
                sock.sendall(raw)
                sock.sendall(body)
            return self._read_response(method)
        except (OSError, ValueError, TransportError) as exc:  # reset/refused/timeouts are OSErrors
            self.close()
            if isinstance(exc, TransportError):
                raise
            raise TransportError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc

    def _read_response(self, method: str) -> Response:
        reader = self._reader
        while True:
            line = reader.readline(65537)
            if not line:
                raise TransportError("the server closed the connection without a response")
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise TransportError(f"bad status line {line[:80]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            while True:
                h = reader.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.partition(b":")
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
            if status >= 200:
                break  # skip 1xx interim responses
        close = headers.get("connection", "").lower() == "close" or parts[0] == b"HTTP/1.0"
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = reader.readline(65537)
                if not size_line:
                    raise TransportError("the connection closed inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while reader.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunk = reader.read(size)
                if len(chunk) != size:
                    raise TransportError("the connection closed inside a chunked body")
                chunks.append(chunk)
                reader.readline(65537)
            body = b"".join(chunks)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            body = reader.read(length) if length else b""
            if len(body) != length:
                raise TransportError(f"the response body ended after {len(body)} of {length} bytes")
        else:
            body = reader.read()
            close = True
        if close:
            self.close()
        return Response(status, headers, body)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()


class ConnectionPool:
    """Keep-alive S3 connections for many threads: `checkout` an idle one for (scheme, host, port) or
    a new one, `checkin` it after a complete answer (one that failed is closed, not returned). At most
    `max_idle` idle connections in all; the least recently used host's go first. One TLS context for
    every connection, with the CA bundle botocore would use for `session` (see ca_bundle). Thread-safe."""

    def __init__(self, *, max_idle: int, connect_timeout: float, read_timeout: float, session: Any = None) -> None:
        self._max_idle = max(1, max_idle)
        self._session = session  # whose profile names the CA bundle (see ca_bundle)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: OrderedDict[PoolKey, list[S3Connection]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()
        self._closed = False
        self._ssl: ssl.SSLContext | None = None

    def checkout(self, scheme: str, host: str, port: int | None) -> S3Connection:
        key = (scheme, host, port)
        with self._lock:
            conns = self._idle.get(key)
            if conns:
                conn = conns.pop()
                if not conns:
                    del self._idle[key]
                self._count -= 1
                return conn
        conn = S3Connection(
            scheme=scheme, host=host, port=port, connect_timeout=self._connect_timeout, read_timeout=self._read_timeout
        )
        if conn.needs_tls:
            with self._lock:
                if self._ssl is None:
                    self._ssl = ssl.create_default_context(cafile=ca_bundle(self._session))
            conn.use_tls_context(self._ssl)
        return conn

    def checkin(self, conn: S3Connection) -> None:
        evicted: list[S3Connection] = []
        with self._lock:
            if self._closed:
                evicted.append(conn)
            else:
                self._idle.setdefault(conn.key, []).append(conn)
                self._idle.move_to_end(conn.key)
                self._count += 1
                while self._count > self._max_idle:
                    oldest = next(iter(self._idle))
                    conns = self._idle[oldest]
                    evicted.append(conns.pop(0))
                    if not conns:
                        del self._idle[oldest]
                    self._count -= 1
        for c in evicted:
            c.close()

    def close(self) -> None:
        """Close every idle connection; connections still out close when they are checked in."""
        with self._lock:
            self._closed = True
            conns = [c for group in self._idle.values() for c in group]
            self._idle.clear()
            self._count = 0
        for c in conns:
            c.close()


_XML_FIELD = {
    name: re.compile(rf"<{name}>(.*?)</{name}>".encode(), re.S)
    for name in ("Code", "Message", "UploadId", "ETag", "Region")
}


def xml_field(body: bytes, name: str) -> str | None:
    """The text of the first <name> element in an S3 XML body (S3's responses are flat enough for this)."""
    m = _XML_FIELD[name].search(body)
    if m is None:
        return None
    return html.unescape(m.group(1).decode("utf-8", "replace"))  # &quot; and &#34; (Go servers) alike


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str | None  # a Proxy-Authorization value, from credentials in the proxy URL
    tls: bool = False  # an https:// proxy URL: the connection to the proxy itself is TLS

    @property
    def url(self) -> str:
        """The proxy as an error message names it (no credentials)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


def proxy_for(scheme: str, host: str, *, port: int | None = None) -> Proxy | None:
    """The proxy for a request to `host` (and `port`, when the endpoint URL names one), or None to connect
    directly: botocore's decision, made with the same functions (urllib's `getproxies` and `proxy_bypass`, which
    read HTTPS_PROXY / HTTP_PROXY / NO_PROXY in either case, and on macOS and Windows the system's settings too),
    asked about the URL's netloc as botocore asks. So NO_PROXY entries mean what they mean to the AWS CLI: a
    domain suffix with or without a leading dot, `host:port` for that port only, `*` alone for everything, no
    CIDR ranges; and loopback is proxied unless NO_PROXY lists it, since botocore's calls of the same command
    would be."""
    name = f"[{host}]" if ":" in host else host
    netloc = name if port is None else f"{name}:{port}"
    try:
        if urllib.request.proxy_bypass(netloc):
            return None
    except (TypeError, socket.gaierror):  # botocore lets these pass too (the macOS look-up can fail)
        pass
    url = urllib.request.getproxies().get(scheme)
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http:{url}" if url.startswith("//") else f"http://{url}")
    if not parts.hostname:
        return None
    authorization = None
    if parts.username and parts.password:  # botocore sends credentials only when both are there
        pair = f"{unquote(parts.username)}:{unquote(parts.password)}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    tls = parts.scheme == "https"
    return Proxy(parts.hostname, parts.port or (443 if tls else 80), authorization, tls=tls)


_VIRTUAL_HOSTABLE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def is_aws_endpoint(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith(AWS_SUFFIXES) or host in ("amazonaws.com", "amazonaws.com.cn")


@dataclass(frozen=True)
class S3Address:
    """Where a bucket's requests go: the connection's scheme, host and port, the Host header that is
    signed, and the bucket's encoded path ("" when the bucket is in the host name)."""

    scheme: str
    hostname: str
    port: int | None
    host_header: str
    bucket_path: str

    @property
    def root(self) -> str:
        """The path of a request on the bucket itself (HEAD bucket, ?policy, ?uploads)."""
        return self.bucket_path or "/"

    def object_path(self, key: str) -> str:
        return f"{self.bucket_path}/{encode_key(key)}"

    def url(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.root}"


def bucket_address(bucket: str, region: str, endpoint: str | None = None) -> S3Address:
    """The one addressing rule, botocore's: path style on a custom endpoint (emulators, other S3-compatible
    servers); on AWS (the region's endpoint, or an AWS endpoint given, such as FIPS or dual-stack)
    virtual-hosted style, path style for names that cannot be a host name label (dots would also break the
    TLS wildcard certificate)."""
    bucket_path = "/" + quote(bucket, safe="~")
    if endpoint is None:
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        endpoint = f"https://s3.{region}.{suffix}"
    parts = urlsplit(endpoint)
    if not parts.hostname:
        raise ValueError(f"not an endpoint URL: {endpoint!r}")
    scheme = parts.scheme or "https"
    if is_aws_endpoint(endpoint) and virtual_hostable(bucket):
        host = f"{bucket}.{parts.netloc}"
        return S3Address(scheme, f"{bucket}.{parts.hostname}", parts.port, host, "")
    name = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = name if parts.port is None else f"{name}:{parts.port}"
    return S3Address(scheme, parts.hostname, parts.port, netloc, parts.path.rstrip("/") + bucket_path)


def redirect_region(resp: Response) -> str | None:
    """The bucket's region when S3 says the request went to the wrong one (as botocore's redirector
    reads it: a 301/302/307, PermanentRedirect, or AuthorizationHeaderMalformed naming the region)."""
    code = xml_field(resp.body, "Code") if resp.body else None
    named = xml_field(resp.body, "Region") if resp.body else None
    wrong = (
        resp.status in (301, 302, 307)
        or code == "PermanentRedirect"
        or (code == "AuthorizationHeaderMalformed" and named is not None)
    )
    if not wrong:
        return None
    return resp.headers.get("x-amz-bucket-region") or named


def virtual_hostable(bucket: str) -> bool:
    """Whether AWS can serve the bucket virtual-hosted style (`bucket.s3.region.amazonaws.com`), as
    `bucket_address` asks. A name with dots (or anything that is not one DNS label) goes path style, since it
    would break the TLS wildcard certificate."""
    return _VIRTUAL_HOSTABLE.match(bucket) is not None


def ca_bundle(session: Any = None) -> str:
    """The CA bundle botocore verifies an endpoint's certificate with, in botocore's order: AWS_CA_BUNDLE, else
    the profile's `ca_bundle` (~/.aws/config), else REQUESTS_CA_BUNDLE, else certifi's bundle when installed,
    else botocore's own. The same bundle verifies an `https://` proxy, as botocore does when no client is given a
    `proxies_config` (no cargohold client is). `session`: the boto3 or botocore session the command's clients
    come from (its profile decides); None for the default one, as `boto3.Session()` would resolve it."""
    import botocore.session
    from botocore.httpsession import get_cert_path

    core = getattr(session, "_session", session)  # a boto3 Session wraps the botocore one
    if core is None:
        core = botocore.session.Session()
    configured = core.get_config_variable("ca_bundle")  # AWS_CA_BUNDLE, then the profile's ca_bundle
    return str(configured or os.environ.get("REQUESTS_CA_BUNDLE") or get_cert_path(True))
