"""A real forwarding HTTP proxy on loopback, for tests of proxy support: plain-HTTP requests arrive in
absolute form (`PUT http://host:port/path HTTP/1.1`) and are sent on to one upstream server, whatever host
they name; CONNECT is refused with 403 (no TLS server here to tunnel to). Records each request line."""

from __future__ import annotations

import socket
import socketserver
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


@contextmanager
def forwarding_proxy(upstream: tuple[str, int]) -> Iterator[Proxy]:
    state = Proxy(port=0, upstream=upstream)

    class Handler(socketserver.StreamRequestHandler):
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
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
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
