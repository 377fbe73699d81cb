"""The retry policy of every HTTP call (http_retry), the push retry and the exit status:
pure functions, and the transports over httpx's MockTransport with a recorded sleep."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.clients.http_retry import (
    POLICY,
    AsyncRetryTransport,
    Deadline,
    RetryPolicy,
    RetryTransport,
    next_wait,
    parse_retry_after,
    retryable_error,
    retryable_status,
)
from prefect_flow_deploy.clients.prefect_api import ApiSettings, read_server_version
from prefect_flow_deploy.clients.registration import make_client
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import RegistryError
from tests.loopback_server import LoopbackServer
from tests.unit.clients.test_http_pools import ca_bundle_loads


def test_which_answers_are_retried() -> None:
    for status in (408, 429, 502, 503, 504):
        assert retryable_status("POST", status) and retryable_status("GET", status)
    # A 500 only where repeating the request cannot do harm (RFC 9110 idempotent methods).
    assert retryable_status("GET", 500) and retryable_status("PUT", 500)
    assert not retryable_status("POST", 500)
    for status in (400, 401, 403, 404, 409, 422, 501):
        assert not retryable_status("GET", status)


def test_a_refused_connection_is_retried_only_once_the_host_has_answered() -> None:
    assert retryable_error(httpx.ReadError("reset"), connected=False)
    assert retryable_error(httpx.RemoteProtocolError("closed"), connected=False)
    assert not retryable_error(httpx.ConnectError("refused"), connected=False)  # a wrong address
    assert retryable_error(httpx.ConnectError("refused"), connected=True)  # a restart
    assert not retryable_error(httpx.UnsupportedProtocol("ftp"), connected=True)


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert [next_wait(POLICY, a, None, None, 0.0) for a in range(5)] == [1, 2, 4, 8, 16]
    assert next_wait(POLICY, 0, None, None, 0.5) == pytest.approx(1.1)  # +20% at most
    assert next_wait(RetryPolicy(attempts=9), 6, None, None) == 30.0  # capped
    assert next_wait(POLICY, 5, None, None) is None  # six attempts in all


def test_retry_after_is_waited_unless_too_long() -> None:
    assert next_wait(POLICY, 0, 7.0, None) == 7.0
    assert next_wait(POLICY, 0, 0.0, None) == 0.0
    assert next_wait(POLICY, 0, 3600.0, None) is None  # not waited for: the run reports now


def test_no_wait_goes_past_the_deadline() -> None:
    assert next_wait(POLICY, 0, None, 5.0) == 1.0
    assert next_wait(POLICY, 3, None, 5.0) is None  # 8 s of backoff, 5 s left
    assert next_wait(POLICY, 0, 10.0, 5.0) is None  # Retry-After beyond the deadline
    assert next_wait(POLICY, 0, None, -1.0) is None  # already passed


def test_the_deadline() -> None:
    assert Deadline.after(0).remaining() is None and not Deadline.after(0).passed()
    deadline = Deadline.after(2, now=100.0)
    assert deadline.remaining(now=160.0) == 60.0 and not deadline.passed(now=160.0)
    assert deadline.passed(now=220.0)


def _transport(outcomes: list[object]) -> tuple[RetryTransport, list[float], list[str]]:
    slept: list[float] = []
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        status, retry_after = outcome if isinstance(outcome, tuple) else (outcome, None)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return httpx.Response(status, headers=headers)

    transport = RetryTransport(
        httpx.MockTransport(handler), deadline=Deadline, sleep=slept.append, rand=lambda: 0.0
    )
    return transport, slept, seen


def test_the_transport_waits_as_told_then_returns_the_answer() -> None:
    transport, slept, _ = _transport([(429, "2"), (503, "2"), 200])
    with httpx.Client(transport=transport) as client:
        assert client.get("http://x/").status_code == 200
    assert slept == [2.0, 2.0]


def test_a_500_on_a_read_is_retried_not_on_a_post() -> None:
    transport, slept, _ = _transport([500, 200])
    with httpx.Client(transport=transport) as client:
        assert client.get("http://x/work_pools/p").status_code == 200
    assert slept == [1.0]
    transport, slept, _ = _transport([500])
    with httpx.Client(transport=transport) as client:
        assert client.post("http://x/deployments/").status_code == 500
    assert slept == []


def test_an_auth_error_is_never_retried() -> None:
    for status in (401, 403):
        transport, slept, seen = _transport([status])
        with httpx.Client(transport=transport) as client:
            assert client.put("http://x/v2/r/manifests/t").status_code == status
        assert seen == ["PUT"] and slept == []


def test_dropped_connections_are_retried_then_the_error_stands() -> None:
    outcomes: list[object] = [httpx.ReadError("reset")] * 6
    transport, slept, _ = _transport(outcomes)
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ReadError):
        client.get("http://x/")
    assert not outcomes and slept == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_transport_gives_up_at_the_deadline() -> None:
    slept: list[float] = []
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(503)

    def deadline() -> Deadline:  # 10 s from the start, on a clock the recorded sleeps move
        return Deadline(at=time.monotonic() + 10 - sum(slept), minutes=1)

    transport = RetryTransport(
        httpx.MockTransport(handler), deadline=deadline, sleep=slept.append, rand=lambda: 0.0
    )
    with httpx.Client(transport=transport) as client:
        assert client.put("http://x/").status_code == 503
    assert slept == [1.0, 2.0, 4.0]  # 7 s waited; 8 s more would pass the deadline
    assert seen == ["PUT"] * 4


def test_the_async_transport_has_the_same_policy_and_says_not_to_wait_again() -> None:
    answers = [(503, None), (503, None), (503, None)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0)[0])

    transport = AsyncRetryTransport(
        httpx.MockTransport(handler),
        policy=RetryPolicy(attempts=3, base=0.001),
        deadline=Deadline,
        final_retry_after="0",
    )

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post("http://x/deployments/")

    response = asyncio.run(call())
    assert response.status_code == 503 and not answers
    assert response.headers["Retry-After"] == "0"  # Prefect's own loop must not wait again


def test_unavailable_tells_the_service_from_the_request() -> None:
    request = httpx.Request("POST", "http://x/deployments/")

    def status_error(status: int) -> httpx.HTTPStatusError:
        return httpx.HTTPStatusError("x", request=request, response=httpx.Response(status))

    assert http_retry.unavailable(status_error(503))
    assert http_retry.unavailable(httpx.ConnectError("refused"))
    assert not http_retry.unavailable(status_error(422))  # the deployment itself is wrong
    assert not http_retry.unavailable(ValueError("x"))


def test_no_request_waits_past_the_deadline_but_a_few_seconds() -> None:
    timeouts = {"connect": 15.0, "read": 60.0, "write": 60.0, "pool": None}
    assert http_retry.bounded_timeouts(timeouts, None) == timeouts
    assert http_retry.bounded_timeouts(timeouts, 20.0) == {
        "connect": 15.0, "read": 20.0, "write": 20.0, "pool": 20.0,
    }  # fmt: skip
    assert set(http_retry.bounded_timeouts(timeouts, -3.0).values()) == {5.0}


def test_the_transport_bounds_each_request_by_the_deadline() -> None:
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200)

    transport = RetryTransport(
        httpx.MockTransport(handler), deadline=lambda: Deadline(time.monotonic() + 8.0, 1)
    )
    with httpx.Client(transport=transport, timeout=60) as client:
        client.get("http://x/")
    assert all(8.0 - 1 < value <= 8.0 for value in seen[0].values())  # type: ignore[attr-defined]


def test_work_under_way_is_stopped_at_the_deadline_and_said_so() -> None:
    stopped: list[str] = []
    try:
        http_retry.start_deadline(0.5 / 60)  # half a second from now
        with (
            pytest.raises(http_retry.DeadlineReached) as reached,
            http_retry.stopped_at_deadline(lambda: stopped.append("stop"), "building x"),
        ):
            time.sleep(1.0)  # the build would go on
        assert stopped == ["stop"]
        assert reached.value.message == (
            "deadline: timeout-minutes (0.00833333) passed during building x, which was stopped"
        )
        http_retry.start_deadline(1)  # a minute: the block ends well before it
        with http_retry.stopped_at_deadline(lambda: stopped.append("again"), "building y"):
            pass
        assert stopped == ["stop"]
    finally:
        http_retry.start_deadline(0)  # no deadline, as for every other test


# -- the environment's proxies -----------------------------------------------------------------


class ForwardProxy(LoopbackServer):
    """A forward HTTP proxy on loopback that answers itself: a client sends it each request
    for an http:// URL in absolute form (`HEAD http://host/path HTTP/1.1`, RFC 9112 §3.2.2),
    so the request line names the host the client meant. `statuses`: the answers, in turn
    (then 200); a registry's manifest digest and a JSON body with each."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.seen: list[str] = []
        self.statuses = list(statuses or [])
        super().__init__(_ProxyHandler)
        self.start(poll_interval=0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ForwardProxy

    def _answer(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        body = b'"3.4.0"' if self.command != "HEAD" else b""
        self.send_response(status)
        self.send_header("Docker-Content-Digest", "sha256:" + "a" * 64)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET = _answer

    def log_message(self, *args: object) -> None:
        pass


# Port 9 (discard) answers nothing here: a request that reaches an answer went by the proxy.
NOWHERE = "127.0.0.1:9"


def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    no_proxy_variables(monkeypatch)
    server = ForwardProxy()
    monkeypatch.setenv("http_proxy", server.url)  # the runner's spelling (its ADR 263)
    yield server
    server.stop()


def test_the_registry_client_goes_through_the_environment_s_proxy(proxy: ForwardProxy) -> None:
    """httpx leaves out the environment's proxies for a client given a transport, as each of
    ours is (encode/httpx#1122): the registry was asked directly, behind a proxy too."""
    digest = RegistryClient().manifest_digest(f"{NOWHERE}/team/flow:tag")
    assert digest == "sha256:" + "a" * 64
    assert proxy.seen == [f"HEAD http://{NOWHERE}/v2/team/flow/manifests/tag"]


def test_through_the_proxy_a_request_is_still_retried(proxy: ForwardProxy) -> None:
    proxy.statuses = [503]
    assert RegistryClient().manifest_digest(f"{NOWHERE}/team/flow:tag")
    assert proxy.seen == [f"HEAD http://{NOWHERE}/v2/team/flow/manifests/tag"] * 2


def test_a_no_proxy_host_is_asked_directly(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked directly, a host that does not exist fails at its name (at once: it never
    answered); through the proxy it would have been answered."""
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "nowhere.invalid")
    with pytest.raises(RegistryError, match=r"cannot reach the registry nowhere\.invalid"):
        RegistryClient().manifest_digest("nowhere.invalid/team/flow:tag")
    assert proxy.seen == []


def test_the_prefect_api_reads_and_prefect_s_client_go_through_it(proxy: ForwardProxy) -> None:
    settings = ApiSettings(f"http://{NOWHERE}/api")
    assert read_server_version(settings) == "3.4.0"

    async def hello() -> int:
        async with make_client(settings) as client:
            return (await client.hello()).status_code

    assert asyncio.run(hello()) == 200
    assert proxy.seen == [
        f"GET http://{NOWHERE}/api/admin/version",
        f"GET http://{NOWHERE}/api/hello",
    ]


def test_without_proxies_in_the_environment_no_route_is_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_proxy_variables(monkeypatch)
    assert http_retry.proxy_mounts() == {} and http_retry.async_proxy_mounts() == {}
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "internal.example")
    mounts = http_retry.proxy_mounts()
    assert mounts["all://*internal.example"] is None  # direct, by the client's own transport
    assert isinstance(mounts["https://"], RetryTransport)


def test_a_run_s_clients_load_the_ca_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each TLS context loads the CA bundle (37 ms here). A run's clients (the registry's
    pools, the Prefect reads, Prefect's client for the writes, Prefect's own context inside
    it) share one per `verify` setting: once for N runs' worth of clients as for 10·N (4 a
    set of them, 40 for ten, before)."""
    loads = ca_bundle_loads(monkeypatch)
    no_proxy_variables(monkeypatch)
    http_retry.tls_context.cache_clear()

    def clients(sets: int) -> int:
        before = loads[0]
        for _ in range(sets):
            registry = RegistryClient()
            settings = ApiSettings("https://prefect.test/api")
            with settings.http_client():
                make_client(settings)
            registry.close()
        return loads[0] - before

    assert [clients(1), clients(10)] == [1, 0]
    assert http_retry.tls_context(False).verify_mode == ssl.CERT_NONE  # its own, not shared
