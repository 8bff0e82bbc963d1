"""A real forwarding HTTP proxy on loopback, for tests of proxy support: plain-HTTP requests arrive in
absolute form (`PUT http://host:port/path HTTP/1.1`) and are sent on to one upstream server, whatever host
they name. CONNECT is tunnelled to `tunnel_to` (a TLS server, e.g. tests/support/tls_front.py), whatever
authority it names, unless there is none or the test sets `refuse_connect`: then it is refused with 403.
Records each request line, and the local port of each tunnel's upstream socket (the peer the TLS server sees),
so a test can tell which of the server's requests came through the proxy."""

from __future__ import annotations

import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Proxy:
    port: int
    upstream: tuple[str, int]
    lines: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    tunnel_to: tuple[str, int] | None = None
    refuse_connect: bool = False
    tunnel_ports: set[int] = field(default_factory=set)

    @property
    def connects(self) -> list[str]:
        """The authorities CONNECT asked for, in order (refused ones too)."""
        return [line.split(" ")[1] for line in self.lines if line.startswith("CONNECT ")]


@contextmanager
def forwarding_proxy(
    upstream: tuple[str, int], *, tunnel_to: tuple[str, int] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[Proxy]:
    """`tls`: a server context, for an `https://` proxy (clients speak TLS to the proxy itself)."""
    state = Proxy(port=0, upstream=upstream, tunnel_to=tunnel_to)

    class Handler(socketserver.StreamRequestHandler):
        def setup(self) -> None:
            if tls is not None:
                self.request = tls.wrap_socket(self.request, server_side=True)
            super().setup()

        def handle(self) -> None:
            line = self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")
            headers = []
            while (h := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                headers.append(h.decode("latin-1"))
            state.lines.append(line)
            auth = [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("proxy-authorization:")]
            state.authorizations.append(auth[0] if auth else None)
            method, target, version = line.split(" ", 2)
            if method == "CONNECT":
                if state.tunnel_to is None or state.refuse_connect:
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                    return
                self._tunnel(state.tunnel_to)
                return
            url = urlsplit(target)
            length = next((int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0)
            body = self.rfile.read(length) if length else b""
            kept = [h for h in headers if not h.lower().startswith(("proxy-authorization:", "connection:"))]
            origin = url.path + (f"?{url.query}" if url.query else "")
            request = f"{method} {origin} {version}\r\n{''.join(kept)}connection: close\r\n\r\n".encode("latin-1")
            with socket.create_connection(state.upstream) as up:
                up.sendall(request + body)
                while chunk := up.recv(65536):
                    self.wfile.write(chunk)

        def _tunnel(self, where: tuple[str, int]) -> None:
            with socket.create_connection(where) as up:
                state.tunnel_ports.add(up.getsockname()[1])
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                _relay(self.connection, up)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Bytes both ways, in one thread (an SSLSocket must not be read and written by two at once), until either
    side closes. TLS to the endpoint stays end to end: the proxy never reads it."""
    while True:
        ready = [s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()]
        if not ready:
            ready, _, _ = select.select([a, b], [], [], 60)
            if not ready:
                return
        for src in ready:
            try:
                chunk = src.recv(65536)
                if not chunk:
                    return
                (b if src is a else a).sendall(chunk)
            except OSError:
                return
