"""Manifest HEADs sent from one thread and answered later (clients/pumped_heads.py), against
the registry-shaped HTTP/1.1 server of test_direct_heads: what is answered here, what is
handed back to httpx, and what it costs (requests, connections and writes, for N and 10·N
questions)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Hashable

import pytest

from prefect_flow_deploy.clients import pumped_heads
from prefect_flow_deploy.clients.pumped_heads import BATCH, CONNECTIONS, PumpedHeads
from prefect_flow_deploy.clients.registry import ASK, RegistryClient
from tests.unit.clients.test_direct_heads import DIGEST, RegistryServer


def ask_all(pump: PumpedHeads, host: str, tags: list[str]) -> dict[Hashable, object]:
    """Each tag asked as a plan asks (a poll between questions), then every answer."""
    for number, tag in enumerate(tags):
        pump.ask(number, f"http://{host}/v2/flows/a/manifests/{tag}", {"Accept": "x"})
        pump.poll()
    answers = dict(pump.finish())
    pump.close()
    return answers


def statuses(answers: dict[Hashable, object]) -> list[int | None]:
    return [getattr(answers[key], "status_code", None) for key in sorted(answers)]  # type: ignore[type-var]


class CountedWrites:
    """Every write to a socket the pump makes (each costs a wake-up of the registry)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes = 0
        made = pumped_heads.socket.create_connection
        counter = self

        class Counted(socket.socket):
            def send(self, data: bytes, *args: int) -> int:  # type: ignore[override]
                counter.writes += 1
                return super().send(data, *args)

        def create_connection(*args: object, **kwargs: object) -> socket.socket:
            sock = made(*args, **kwargs)  # type: ignore[arg-type]
            counted = Counted(sock.family, sock.type, sock.proto, fileno=sock.detach())
            counted.settimeout(kwargs.get("timeout"))  # type: ignore[arg-type]
            return counted

        monkeypatch.setattr(pumped_heads.socket, "create_connection", create_connection)


def test_found_and_missing_tags_are_answered_here_in_few_writes_and_connections(
    registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request a question, none through httpx; the questions pipelined a batch to a
    write on at most CONNECTIONS connections, for N and for 10·N questions."""
    counted = CountedWrites(monkeypatch)
    for questions in (20, 200):
        registry.seen.clear()
        registry.connections = counted.writes = 0
        tags = ["t1" if n % 2 else "t2" for n in range(questions)]
        answers = ask_all(PumpedHeads(timeout=5.0), registry.host, tags)
        assert statuses(answers) == [200 if tag == "t1" else 404 for tag in tags]
        found = answers[1]
        assert found is not None and found.headers["Docker-Content-Digest"] == DIGEST  # type: ignore[attr-defined]
        assert len(registry.seen) == questions
        assert not any(seen.by_httpx for seen in registry.seen)
        assert all(seen.method == "HEAD" for seen in registry.seen)
        assert registry.connections <= CONNECTIONS
        # The first question alone (the host's first answer), then whole batches.
        assert counted.writes <= 1 + -(-(questions - 1) // BATCH)


def test_answers_split_across_reads_and_joined_in_one_are_read_in_order(
    registry: RegistryServer,
) -> None:
    """A slow registry makes many answers arrive together, a fast one one at a time: each
    answer goes to its own question either way."""
    registry.delay = 0.01
    tags = [f"t{n % 3}" for n in range(40)]
    answers = ask_all(PumpedHeads(timeout=5.0, connections=1), registry.host, tags)
    assert statuses(answers) == [200 if tag == "t1" else 404 for tag in tags]
    assert [seen.path.rpartition("/")[2] for seen in registry.seen] == tags


def test_a_connection_the_registry_closes_after_each_answer_loses_no_question(
    registry: RegistryServer,
) -> None:
    """RFC 9112 §9.3.2: pipelined questions left unanswered when the connection closes are
    sent again (once each) on a new one; not through httpx."""
    registry.close_after = True
    answers = ask_all(PumpedHeads(timeout=5.0), registry.host, ["t1"] * 30)
    assert statuses(answers) == [200] * 30
    assert len(registry.seen) == 30
    assert not any(seen.by_httpx for seen in registry.seen)


@pytest.mark.parametrize("status", [502, 503, 429, 500, 307])
def test_a_status_the_policy_retries_or_a_redirect_is_handed_back(
    registry: RegistryServer, status: int
) -> None:
    registry.script["/v2/flows/a/manifests/t2"] = [(status, {"Location": "/elsewhere"})]
    answers = ask_all(PumpedHeads(timeout=5.0), registry.host, ["t1", "t2", "t1"])
    assert statuses(answers) == [200, None, 200]


def test_a_host_that_wants_a_login_is_asked_once_and_the_rest_handed_back(
    registry: RegistryServer,
) -> None:
    """Its tokens are by repository, which the registry client gets (manifest_digest): here
    the first question tells, and no other is sent."""
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{registry.host}/token"'}
    registry.script["/v2/flows/a/manifests/t1"] = [(401, challenge)]
    answers = ask_all(PumpedHeads(timeout=5.0), registry.host, ["t1"] * 10)
    assert statuses(answers) == [401] + [None] * 9
    assert len(registry.seen) == 1


def test_an_unreachable_host_hands_every_question_back() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    answers = ask_all(PumpedHeads(timeout=2.0), f"127.0.0.1:{port}", ["t1", "t2", "t3"])
    assert statuses(answers) == [None, None, None]


def test_a_registry_that_stops_answering_has_its_questions_handed_back(
    registry: RegistryServer,
) -> None:
    pump = PumpedHeads(timeout=0.3)
    registry.delay = 1.0
    answers = ask_all(pump, registry.host, ["t1", "t1", "t1"])
    assert statuses(answers) == [None, None, None]


def test_an_answer_that_is_not_http_is_handed_back() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        host = f"127.0.0.1:{server.getsockname()[1]}"
        pump = PumpedHeads(timeout=2.0)
        pump.ask("a", f"http://{host}/v2/flows/a/manifests/t1", {})
        pump.poll()  # connects and sends
        connection, _ = server.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            assert pump.finish() == {"a": None}
        pump.close()


def test_a_header_http_cannot_carry_is_handed_back_unsent(registry: RegistryServer) -> None:
    pump = PumpedHeads(timeout=2.0)
    url = f"http://{registry.host}/v2/flows/a/manifests/t1"
    pump.ask("bad", url, {"Authorization": "Bearer a\r\nInjected: 1"})
    pump.ask("good", url, {})
    pump.poll()
    assert statuses(dict(pump.finish())) == [None, 200]  # sorted keys: "bad", "good"
    pump.close()
    assert len(registry.seen) == 1


def test_a_trusted_certificate_is_answered_here(
    tls_registry: tuple[RegistryServer, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, trusting = tls_registry
    monkeypatch.setattr(pumped_heads, "tls_context", lambda verify: trusting)
    pump = PumpedHeads(timeout=5.0)
    for number in range(12):
        pump.ask(number, f"https://{registry.host}/v2/flows/a/manifests/t1", {})
    answers = pump.finish()
    pump.close()
    assert statuses(dict(answers)) == [200] * 12
    assert not any(seen.by_httpx for seen in registry.seen)


def test_an_untrusted_certificate_hands_the_question_back(
    tls_registry: tuple[RegistryServer, ssl.SSLContext],
) -> None:
    registry, _ = tls_registry
    pump = PumpedHeads(timeout=5.0)
    pump.ask("a", f"https://{registry.host}/v2/flows/a/manifests/t1", {})
    assert pump.finish() == {"a": None}
    pump.close()
    assert registry.seen == []  # nothing was sent


# -- the registry client's side: what it pumps and what it reads from the answers ------------
def test_the_registry_client_pumps_unless_a_proxy_routes_its_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.unit.clients.test_http_retry import no_proxy_variables

    no_proxy_variables(monkeypatch)
    assert RegistryClient().head_pump() is not None
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    assert RegistryClient().head_pump() is None


def test_a_pumped_answer_reads_as_manifest_digest_reads_it(registry: RegistryServer) -> None:
    """Found with a digest and not found are read here; anything else (handed back, a
    login wanted, found without a digest) is asked again, and a host that wanted a login
    is not pumped again until a token for the repository is known."""
    import httpx

    client = RegistryClient()
    reference = f"{registry.host}/flows/a:t1"
    url, headers = client.pumped_head(reference) or ("", {})
    assert url == f"http://{registry.host}/v2/flows/a/manifests/t1"
    assert "Authorization" not in headers and "manifest" in headers["Accept"]
    found = httpx.Response(200, headers={"Docker-Content-Digest": DIGEST})
    assert client.pumped_digest(reference, found) == DIGEST
    assert client.pumped_digest(reference, httpx.Response(404)) is None
    assert client.pumped_digest(reference, None) is ASK
    assert client.pumped_digest(reference, httpx.Response(200)) is ASK
    assert client.pumped_head(reference) is not None
    assert client.pumped_digest(reference, httpx.Response(401)) is ASK
    assert client.pumped_head(reference) is None
    client._tokens[(registry.host, "repository:flows/a:pull")] = "Bearer t0k"
    assert (client.pumped_head(reference) or ("", {}))[1]["Authorization"] == "Bearer t0k"
    client.close()
