"""The registry-shaped HTTP/1.1 server of test_direct_heads, plain and behind TLS, for the
clients that speak to it over their own sockets (direct_heads.py, pumped_heads.py)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.clients.test_direct_heads import RegistryServer
from tests.unit.clients.test_http_retry import no_proxy_variables


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryServer]:
    no_proxy_variables(monkeypatch)
    server = RegistryServer().start(poll_interval=0.05)
    yield server
    server.stop()


# -- TLS: the registry's certificate is verified as httpx verifies it -----------------------
@pytest.fixture
def tls_registry(
    registry: RegistryServer, tmp_path: Path
) -> Iterator[tuple[RegistryServer, ssl.SSLContext]]:
    """The registry behind TLS with a certificate for 127.0.0.1 no CA bundle trusts, and a
    context that trusts it."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(cert, key)
    registry.socket = serving.wrap_socket(registry.socket, server_side=True)
    trusting = ssl.create_default_context(cafile=str(cert))
    yield registry, trusting
