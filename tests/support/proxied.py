"""An S3 endpoint that only a proxy can reach: moto behind an HTTPS front (tests/support/tls_front.py) whose
host name, `s3.proxied.test`, never resolves, and a loopback proxy (tests/support/http_proxy.py) that tunnels
every CONNECT to that front. With HTTPS_PROXY naming the proxy and AWS_CA_BUNDLE the front's self-signed
certificate, a command pointed at `https://s3.proxied.test:<port>` works only through the proxy.

- `proxied_server` (module): moto (path-style S3 whatever the Host header says), the front and the proxy, and
  the same proxy once more as an `https://` proxy (TLS to the proxy itself, certificate for `localhost`).
- `proxied` (per test): moto reset to an empty account, the proxy's records cleared and CONNECT allowed, and
  the environment of a user behind that proxy (no other proxy settings, no AWS_ENDPOINT_URL).
- `trust(how, ...)`: trust the front's certificate one of the ways botocore reads a CA bundle (CA_WAYS).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.support.http_proxy import Proxy, forwarding_proxy
from tests.support.moto_api import reset
from tests.support.tls_front import Front, self_signed, tls_front
from toolkit.demo.emulator import Emulator, moto_server

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "AWS_ENDPOINT_URL",
)


@dataclass
class Proxied:
    moto: Emulator  # plain HTTP on loopback: for the test's own set-up and checks, never through the proxy
    front: Front
    proxy: Proxy  # http://127.0.0.1:<port>
    tls_proxy: Proxy  # the same, as an https:// proxy: https://localhost:<port>
    tls_proxy_cert: Path  # its certificate, for a CA bundle

    @property
    def endpoint(self) -> str:
        """What config.yaml names: reachable only through the proxy."""
        return self.front.endpoint

    def direct(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto.endpoint, region_name="us-east-1")

    def through_proxy(self, proxy: Proxy | None = None) -> list[Any]:
        """What the front received, each request checked to have come through one of the proxy's tunnels."""
        ports = (proxy or self.proxy).tunnel_ports
        strays = [s for s in self.front.seen if s.peer_port not in ports]
        assert strays == [], f"requests reached the endpoint without the proxy: {strays}"
        return list(self.front.seen)


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    folder = tmp_path_factory.mktemp("proxied-tls")
    with moto_server(extra_env={"S3_IGNORE_SUBDOMAIN_BUCKETNAME": "true"}) as moto:
        parts = urlsplit(moto.endpoint)
        upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        proxy_cert, proxy_key = self_signed(folder, "localhost")
        proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        proxy_tls.load_cert_chain(proxy_cert, proxy_key)
        with (
            tls_front(upstream, folder) as front,
            forwarding_proxy(upstream, tunnel_to=("127.0.0.1", front.port)) as proxy,
            forwarding_proxy(upstream, tunnel_to=("127.0.0.1", front.port), tls=proxy_tls) as tls_proxy,
        ):
            yield Proxied(moto=moto, front=front, proxy=proxy, tls_proxy=tls_proxy, tls_proxy_cert=proxy_cert)


@pytest.fixture
def proxied(proxied_server: Proxied, monkeypatch: pytest.MonkeyPatch) -> Proxied:
    reset(proxied_server.moto.endpoint)
    proxied_server.front.seen.clear()
    for proxy in (proxied_server.proxy, proxied_server.tls_proxy):
        proxy.lines.clear()
        proxy.authorizations.clear()
        proxy.tunnel_ports.clear()
        proxy.refuse_connect = False
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxied_server.proxy.port}")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(proxied_server.front.cert))
    return proxied_server


CA_WAYS = ["AWS_CA_BUNDLE", "profile ca_bundle", "REQUESTS_CA_BUNDLE"]


def trust(how: str, cert: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the endpoint's certificate each way botocore reads a CA bundle, in its order of precedence."""
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    if how == "AWS_CA_BUNDLE":
        monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
    elif how == "profile ca_bundle":
        (folder / "aws-config").write_text(f"[default]\nca_bundle = {cert}\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "aws-config"))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(folder / "not-this-one.pem"))  # the profile comes first
    else:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
