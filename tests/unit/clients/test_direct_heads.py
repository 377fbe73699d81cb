"""Manifest HEADs without httpx (clients/direct_heads.py), against a registry-shaped HTTP/1.1
server on loopback: what it answers directly, what it hands to httpx, and what it costs
(requests and connections, for N and 10·N questions)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from prefect_flow_deploy.clients import direct_heads, http_retry
from prefect_flow_deploy.clients.direct_heads import DirectHeads
from prefect_flow_deploy.clients.registry import RegistryClient
from tests.loopback_server import LoopbackServer
from tests.unit.clients.test_http_retry import no_proxy_variables
from tests.unit.reading.test_discovery import cyclic_garbage

DIGEST = "sha256:" + "d" * 64


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    by_httpx: bool  # httpx names itself in User-Agent; http.client sends none
    authorization: str | None


class Registry(BaseHTTPRequestHandler):
    """Tags in `found` answer 200 with their digest, others 404; `script` answers a path's
    next requests first (status, headers), `close_after` ends each connection after one
    answer without saying so (a kept connection the server dropped)."""

    protocol_version = "HTTP/1.1"
    server: RegistryServer

    def _answer(self) -> None:
        server = self.server
        time.sleep(server.delay)
        with server.lock:
            server.seen.append(
                Seen(
                    self.command,
                    self.path,
                    "python-httpx" in self.headers.get("User-Agent", ""),
                    self.headers.get("Authorization"),
                )
            )
            scripted = server.script.get(self.path, [])
            status, headers = scripted.pop(0) if scripted else self._stored()
        body = json.dumps({"token": "t0k"}).encode() if self.path.startswith("/token") else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)
        if server.close_after:
            self.close_connection = True

    def _stored(self) -> tuple[int, dict[str, str]]:
        tag = self.path.rpartition("/manifests/")[2]
        if tag in self.server.found:
            return 200, {"Docker-Content-Digest": DIGEST}
        return (200 if self.path.startswith("/token") else 404), {}

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    do_HEAD = do_GET = _answer

    def log_message(self, *args: object) -> None:
        pass


class RegistryServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(Registry)
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.found = {"t1"}
        self.connections = 0
        self.close_after = False
        self.delay = 0.0  # seconds before each answer

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def client(registry: RegistryServer) -> Iterator[RegistryClient]:
    made = RegistryClient()
    yield made
    made.close()


def test_heads_are_answered_directly_over_one_kept_connection(
    registry: RegistryServer, client: RegistryClient
) -> None:
    """Found and missing tags alike: one request each, none through httpx, one connection
    for N and for 10·N questions from a thread."""
    for questions in (3, 30):
        registry.seen.clear()
        for _ in range(questions):
            assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST
            assert client.manifest_digest(f"{registry.host}/flows/a:t2") is None
        assert len(registry.seen) == 2 * questions
        assert not any(seen.by_httpx for seen in registry.seen)
    assert registry.connections == 1


def test_each_thread_keeps_its_own_connection(
    registry: RegistryServer, client: RegistryClient
) -> None:
    def ask() -> None:
        for _ in range(5):
            assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(registry.seen), registry.connections) == (20, 4)


def test_a_kept_connection_the_registry_dropped_is_reopened_once(
    registry: RegistryServer, client: RegistryClient
) -> None:
    """RFC 9112 §9.3.1: an idempotent request on a connection the server closed may be sent
    again on a new one. Not through httpx, and not twice to the registry."""
    registry.close_after = True
    for _ in range(3):
        assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST
    assert len(registry.seen) == 3
    assert not any(seen.by_httpx for seen in registry.seen)
    assert registry.connections == 3


@pytest.mark.parametrize("status", [502, 503, 429, 500])
def test_a_status_the_policy_retries_is_asked_again_through_httpx(
    registry: RegistryServer, client: RegistryClient, status: int
) -> None:
    path = "/v2/flows/a/manifests/t1"
    registry.script[path] = [(status, {})]
    assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST
    assert [seen.by_httpx for seen in registry.seen] == [False, True]


def test_a_redirect_is_followed_by_httpx(registry: RegistryServer, client: RegistryClient) -> None:
    moved = f"http://{registry.host}/v2/flows/b/manifests/t1"
    registry.script["/v2/flows/a/manifests/t1"] = [(307, {"Location": moved})] * 2
    assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST
    assert [(s.path.split("/")[3], s.by_httpx) for s in registry.seen] == [
        ("a", False),
        ("a", True),
        ("b", True),
    ]


def test_a_token_challenge_is_met_once_then_heads_go_directly_with_the_token(
    registry: RegistryServer, client: RegistryClient
) -> None:
    challenge = (
        f'Bearer realm="http://{registry.host}/token",service="test",'
        'scope="repository:flows/a:pull"'
    )
    registry.script["/v2/flows/a/manifests/t1"] = [(401, {"WWW-Authenticate": challenge})]
    for _ in range(2):
        assert client.manifest_digest(f"{registry.host}/flows/a:t1") == DIGEST
    assert [(s.method, s.by_httpx, s.authorization) for s in registry.seen] == [
        ("HEAD", False, None),
        ("GET", True, None),  # the token, once
        ("HEAD", False, "Bearer t0k"),
        ("HEAD", False, "Bearer t0k"),
    ]


def test_a_proxy_in_the_environment_sends_every_head_through_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx routes by the environment's proxies (http_retry.proxy_mounts); http.client
    would not."""
    no_proxy_variables(monkeypatch)
    assert DirectHeads.for_environment(15.0) is not None
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    assert DirectHeads.for_environment(15.0) is None
    assert RegistryClient()._heads is None


def test_a_request_waits_no_longer_than_the_deadline_allows(
    registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the transports bound httpx's timeouts (http_retry.bounded_timeouts)."""
    heads = DirectHeads(timeout=60.0)
    monkeypatch.setattr(
        direct_heads,
        "run_deadline",
        lambda: http_retry.Deadline(http_retry.time.monotonic() + 8.0, 1),
    )
    url = f"http://{registry.host}/v2/flows/a/manifests/t1"
    answer = heads.head(url, {})
    assert answer is not None and answer.status_code == 200
    (connection,) = heads._all
    assert 5.0 <= connection.timeout <= 8.0  # type: ignore[operator]
    heads.close()


def test_a_registry_that_does_not_answer_in_time_is_handed_to_httpx_at_once(
    registry: RegistryServer,
) -> None:
    """Not asked again on a new connection: httpx's retries wait for a slow registry."""
    heads = DirectHeads(timeout=0.2)
    url = f"http://{registry.host}/v2/flows/a/manifests/t1"
    assert heads.head(url, {}) is not None  # a kept connection
    registry.delay = 1.0
    assert heads.head(url, {}) is None
    heads.close()
    registry.stop()  # every answer given: the count is final
    assert len(registry.seen) == 2


def test_direct_heads_leave_no_cyclic_garbage(
    registry: RegistryServer, client: RegistryClient
) -> None:
    assert client.manifest_digest(f"{registry.host}/flows/a:t1")  # the connection made

    def ask(questions: int) -> None:
        for _ in range(questions):
            assert client.manifest_digest(f"{registry.host}/flows/a:t1")
            assert client.manifest_digest(f"{registry.host}/flows/a:t2") is None

    assert [cyclic_garbage(lambda: ask(3)), cyclic_garbage(lambda: ask(30))] == [0, 0]


# -- TLS: the registry's certificate is verified as httpx verifies it -----------------------
def test_an_untrusted_certificate_is_refused(
    tls_registry: tuple[RegistryServer, ssl.SSLContext],
) -> None:
    registry, _ = tls_registry
    heads = DirectHeads(timeout=5.0)
    assert heads.head(f"https://{registry.host}/v2/flows/a/manifests/t1", {}) is None
    assert registry.seen == []  # nothing was sent
    heads.close()


def test_a_trusted_certificate_is_answered_directly(
    tls_registry: tuple[RegistryServer, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, trusting = tls_registry
    monkeypatch.setattr(direct_heads, "tls_context", lambda verify: trusting)
    heads = DirectHeads(timeout=5.0)
    answer = heads.head(f"https://{registry.host}/v2/flows/a/manifests/t1", {})
    assert answer is not None and answer.headers["Docker-Content-Digest"] == DIGEST
    assert [seen.by_httpx for seen in registry.seen] == [False]
    heads.close()
