"""A registry's answers to what a plan asks, as the OCI Distribution Specification v1.1 words
them (github.com/opencontainers/distribution-spec, spec.md), for the count tests: the real
registry (`docker-registry`, CNCF distribution) is a process the unit suite does not start;
tests/integration/test_costs_real.py repeats the counts against it.

Answered (spec.md, "Pulling manifests", "Checking if content exists in the registry",
"Listing repositories" of distribution's own API docs, "Content discovery"):
- `GET /v2/` → 200;
- `HEAD|GET /v2/<name>/manifests/<reference>` → 200 with `Docker-Content-Digest` and the
  manifest's media type, or 404 with `{"errors": [{"code": "MANIFEST_UNKNOWN", …}]}`;
- `GET /v2/<name>/blobs/<digest>` → the image config (its labels);
- `GET /v2/_catalog?n=<n>[&last=<repo>]` → `{"repositories": [...]}`, sorted, with a
  `Link: <…>; rel="next"` header while more remain (distribution's docs/spec/api.md, "Catalog").
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from prefect_flow_deploy.clients import http_pools
from prefect_flow_deploy.clients.direct_heads import DirectHeads
from tests.loopback_server import LoopbackServer

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


class OciRegistry(httpx.BaseTransport):
    def __init__(self) -> None:
        self.images: dict[str, dict[str, str]] = {}  # "repo:tag" → its config's labels
        self.lock = threading.Lock()

    def put(self, repository: str, tag: str, labels: dict[str, str] | None = None) -> None:
        with self.lock:
            self.images[f"{repository}:{tag}"] = dict(labels or {})

    def _config(self, reference: str) -> bytes:
        labels = self.images[reference]
        return json.dumps(
            {"architecture": "amd64", "os": "linux", "config": {"Labels": labels}}
        ).encode()

    def _manifest(self, reference: str) -> bytes:
        config = self._config(reference)
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_V2,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": len(config),
                    "digest": _digest(config),
                },
                "layers": [],
            }
        ).encode()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        if path == "/v2/_catalog":
            return self._catalog(request)
        name, _, rest = path.removeprefix("/v2/").rpartition("/")
        repository, _, kind = name.rpartition("/")
        if kind == "manifests":
            reference = f"{repository}:{rest}"
            with self.lock:
                known = reference in self.images
            if not known:
                return _unknown("MANIFEST_UNKNOWN", "manifest unknown")
            body = self._manifest(reference)
            headers = {"Docker-Content-Digest": _digest(body), "Content-Type": MANIFEST_V2}
            return httpx.Response(
                200, headers=headers, content=b"" if request.method == "HEAD" else body
            )
        if kind == "blobs":
            with self.lock:
                for reference in self.images:
                    config = self._config(reference)
                    if _digest(config) == rest and reference.startswith(repository + ":"):
                        return httpx.Response(200, content=config)
            return _unknown("BLOB_UNKNOWN", "blob unknown to registry")
        return _unknown("NAME_UNKNOWN", "repository name not known to registry")

    def _catalog(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        n = int(query.get("n", ["100"])[0])
        last = query.get("last", [""])[0]
        with self.lock:
            names = sorted({ref.rpartition(":")[0] for ref in self.images})
        page = [name for name in names if name > last][:n]
        headers = {}
        if page and page[-1] != names[-1]:
            headers["Link"] = f'</v2/_catalog?last={page[-1]}&n={n}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"repositories": page})


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _unknown(code: str, message: str) -> httpx.Response:
    return httpx.Response(404, json={"errors": [{"code": code, "message": message, "detail": {}}]})


def registry_through(monkeypatch: pytest.MonkeyPatch, transport: Callable[..., Any]) -> None:
    """The registry client's every request through the httpx transport `transport` makes:
    its HEADs too, which otherwise go over http.client (clients/direct_heads.py) and would
    pass the transport by."""
    monkeypatch.setattr(http_pools, "client_transport", transport)
    monkeypatch.setattr(DirectHeads, "for_environment", staticmethod(lambda timeout: None))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OciServer

    def _answer(self) -> None:
        url = f"http://{self.headers.get('Host', 'registry')}{self.path}"
        request = httpx.Request(self.command, url, headers=dict(self.headers))
        with self.server.lock:
            self.server.seen.append(f"{self.command} {request.url.path}")
        response = self.server.transport.handle_request(request)
        body = response.read()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


class OciServer(LoopbackServer):
    """A transport (the stand-in, or one that wraps it) served over HTTP/1.1 on loopback:
    for the clients that speak to a socket themselves (clients/pumped_heads.py). `seen`:
    each request, method and path."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        super().__init__(_Handler)
        self.transport = transport
        self.lock = threading.Lock()
        self.seen: list[str] = []

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"
