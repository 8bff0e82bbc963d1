"""An HTTPS front for a plain-HTTP server (moto), on loopback, with a self-signed certificate for a host name
that does not resolve: so only a client that reaches it through a proxy's CONNECT tunnel can talk to it, and
only one that trusts the certificate (AWS_CA_BUNDLE) gets past the handshake.

Each TLS connection carries one request: the front adds `connection: close` to the request it passes on, so
the upstream answers and closes, and the client opens a new connection (a new tunnel) for its next request.
Records each request line with its user agent and the peer it came from (the proxy's end of the tunnel).
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Seen:
    peer_port: int  # the client's port: the proxy's upstream socket when it came through a tunnel
    line: str  # "PUT /bucket/key HTTP/1.1"
    user_agent: str

    @property
    def botocore(self) -> bool:
        return "Botocore/" in self.user_agent


@dataclass
class Front:
    host: str
    port: int
    cert: Path  # the certificate (PEM), its own CA: what AWS_CA_BUNDLE names
    seen: list[Seen] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}"


def self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for `host` and `*.host` (s3control puts the account id in front), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host), x509.DNSName(f"*.{host}")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{host}.pem", folder / f"{host}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _body(reader: Any, headers: list[bytes]) -> bytes:
    """The request body as sent (by Content-Length, or chunked, passed on chunk by chunk as it came)."""
    named = {h.split(b":", 1)[0].strip().lower(): h.split(b":", 1)[1].strip() for h in headers if b":" in h}
    if b"chunked" in named.get(b"transfer-encoding", b"").lower():
        raw = []
        while True:
            size_line = reader.readline(65537)
            raw.append(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (t := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
                    raw.append(t)
                raw.append(b"\r\n")
                return b"".join(raw)
            raw.append(reader.read(size) + reader.readline(65537))
    length = int(named.get(b"content-length", b"0"))
    return reader.read(length) if length else b""


@contextmanager
def tls_front(upstream: tuple[str, int], folder: Path, host: str = "s3.proxied.test") -> Iterator[Front]:
    cert, key = self_signed(folder, host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    state = Front(host=host, port=0, cert=cert)
    ipaddress.ip_address(upstream[0])  # the upstream is an address: the front itself never resolves names

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                tls = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the certificate gives up here
            with tls:
                reader = tls.makefile("rb")
                line = reader.readline(65537)
                if not line:
                    return
                headers = []
                while (h := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
                    if not h.lower().startswith(b"connection:"):
                        headers.append(h)
                agent = next(
                    (
                        h.split(b":", 1)[1].strip().decode("latin-1")
                        for h in headers
                        if h.lower().startswith(b"user-agent:")
                    ),
                    "",
                )
                state.seen.append(Seen(self.client_address[1], line.decode("latin-1").rstrip("\r\n"), agent))
                if any(h.lower().startswith(b"expect:") for h in headers):  # answer 100 here, not after a wait
                    headers = [h for h in headers if not h.lower().startswith(b"expect:")]
                    tls.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = _body(reader, headers)
                with socket.create_connection(upstream) as up:  # one thread per TLS connection: no SSL races
                    up.sendall(line + b"".join(headers) + b"connection: close\r\n\r\n" + body)
                    while chunk := up.recv(65536):  # the answer, until the upstream closes
                        tls.sendall(chunk)

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
