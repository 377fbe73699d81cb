"""One retry policy for every HTTP call of a run: the registry (registry.py, retention, GHCR)
and the Prefect API (reads in prefect_api.py, writes through Prefect's client in
registration.py), as an httpx transport, sync and async, under the run's deadline.

Retried: a 408, 429, 502, 503 or 504 (rate limiting, a server or proxy briefly unavailable),
a 500 for a method that may be repeated (RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE), and a
connection that dropped or timed out. Never an authentication error or another 4xx. The wait
is the server's Retry-After when it gives one (seconds or an HTTP date, as Prefect's client
reads it, prefect/client/base.py `_parse_retry_after`), else exponential backoff with jitter.
A connection refused is retried only once the host has answered this run (as Prefect's
client does): a wrong address fails at once, a restarting server is waited for.
The deadline wins over everything: no wait goes past it.
"""

from __future__ import annotations

import email.utils
import functools
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
from httpx._utils import get_environment_proxies  # what httpx itself routes by (see below)

from prefect_flow_deploy.core.errors import DEADLINE
from prefect_flow_deploy.core.logger import log

TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# The connection broke or timed out after it was made. Repeating a POST is safe for the
# writes made here: Prefect's POST /flows/ and /deployments/ upsert by name, its filters read.
DROPPED = (
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
)
NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the first try and 5 retries: at most 1+2+4+8+16 = 31 s of backoff
    base: float = 1.0
    cap: float = 30.0
    jitter: float = 0.2  # up to 20% more, so that parallel clients do not retry in step
    max_retry_after: float = 60.0  # a server asking for longer is not waited for


POLICY = RetryPolicy()


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock after which no new work starts and no retry waits;
    `at=None`: none."""

    at: float | None = None
    minutes: float = 0.0

    @staticmethod
    def after(minutes: float, now: float | None = None) -> Deadline:
        if minutes <= 0:
            return Deadline()
        return Deadline((time.monotonic() if now is None else now) + minutes * 60, minutes)

    def remaining(self, now: float | None = None) -> float | None:
        if self.at is None:
            return None
        return self.at - (time.monotonic() if now is None else now)

    def passed(self, now: float | None = None) -> bool:
        left = self.remaining(now)
        return left is not None and left <= 0


class DeadlineReached(Exception):
    """Work not started (or, `stopped`, cut short) because the run's deadline passed."""

    def __init__(self, what: str, deadline: Deadline, stopped: bool = False) -> None:
        when = "during" if stopped else "before"
        self.message = f"{DEADLINE} timeout-minutes ({deadline.minutes:g}) passed {when} {what}"
        if stopped:
            self.message += ", which was stopped"
        super().__init__(self.message)


_deadline = [Deadline()]
_deadline_lock = threading.Lock()


def start_deadline(minutes: float) -> Deadline:
    """The run's deadline, from now; every transport and work step reads it."""
    with _deadline_lock:
        _deadline[0] = Deadline.after(minutes)
        return _deadline[0]


def run_deadline() -> Deadline:
    return _deadline[0]


def check_deadline(what: str) -> None:
    """Before starting a build, push or write: raise DeadlineReached once the deadline passed."""
    deadline = run_deadline()
    if deadline.passed():
        raise DeadlineReached(what, deadline)


@contextmanager
def stopped_at_deadline(stop: Callable[[], None], what: str) -> Iterator[None]:
    """Call `stop` if the deadline passes while the block runs (a build that would otherwise
    hold the report back for as long as it takes), then raise DeadlineReached for `what`."""
    deadline = run_deadline()
    left = deadline.remaining()
    if left is None:
        yield
        return
    fired = threading.Event()

    def at_deadline() -> None:
        fired.set()
        stop()

    timer = threading.Timer(max(0.0, left), at_deadline)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    if fired.is_set():
        raise DeadlineReached(what, deadline, stopped=True)


# -- the policy, pure ---------------------------------------------------------------------------
def retryable_status(method: str, status: int) -> bool:
    return status in TRANSIENT_STATUSES or (status == 500 and method.upper() in IDEMPOTENT_METHODS)


def retryable_error(error: BaseException, connected: bool) -> bool:
    """A dropped connection, always; a refused or timed-out connect once the host answered."""
    return isinstance(error, DROPPED) or (connected and isinstance(error, NOT_CONNECTED))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After in seconds (`120`) or as an HTTP date, from `now` (epoch seconds); None
    when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


def backoff(policy: RetryPolicy, attempt: int, rand: float) -> float:
    """Exponential from `base`, capped, plus jitter (`rand` in [0, 1))."""
    return float(min(policy.base * 2.0**attempt, policy.cap) * (1 + policy.jitter * rand))


def next_wait(
    policy: RetryPolicy,
    attempt: int,
    retry_after: float | None,
    remaining: float | None,
    rand: float = 0.0,
) -> float | None:
    """Seconds to wait before trying again after failed attempt `attempt` (0-based), or
    None: give up now (attempts used up, a Retry-After too long to wait, or the deadline
    would pass first)."""
    if attempt + 1 >= policy.attempts:
        return None
    if retry_after is not None and retry_after > policy.max_retry_after:
        return None
    wait = retry_after if retry_after is not None else backoff(policy, attempt, rand)
    if remaining is not None and wait >= remaining:
        return None
    return wait


# However near the deadline, a request may take this long: a run whose deadline passed while
# planning still reads what it needs to report (and a healthy server answers in well under).
MIN_REQUEST_SECONDS = 5.0


def bounded_timeouts(
    timeouts: dict[str, float | None], remaining: float | None
) -> dict[str, float | None]:
    """httpx's per-request timeouts (connect, read, write, pool), none longer than the time
    left before the deadline (at least MIN_REQUEST_SECONDS): a server that stops answering
    does not hold the run past it."""
    if remaining is None:
        return timeouts
    limit = max(remaining, MIN_REQUEST_SECONDS)
    return {k: limit if v is None else min(v, limit) for k, v in timeouts.items()}


def unavailable(error: BaseException) -> bool:
    """Did this error come from a service that could not be used (unreachable, or a
    transient answer that outlasted every retry), rather than from the request itself?"""
    if isinstance(error, httpx.HTTPStatusError):
        return retryable_status(error.request.method, error.response.status_code)
    return isinstance(error, httpx.TransportError)


# -- the transports -----------------------------------------------------------------------------
_answered: set[str] = set()  # hosts (host:port) that answered this process at least once


def note_answered(host: str) -> None:
    """`host` (host:port) answered a request, through the transports or directly
    (direct_heads.py)."""
    _answered.add(host)


class _Retrying:
    def __init__(
        self,
        policy: RetryPolicy,
        deadline: Callable[[], Deadline],
        rand: Callable[[], float],
    ) -> None:
        self.policy, self.deadline, self.rand = policy, deadline, rand

    def bound(self, request: httpx.Request) -> None:
        timeouts = request.extensions.get("timeout")
        if isinstance(timeouts, dict):
            left = self.deadline().remaining()
            request.extensions["timeout"] = bounded_timeouts(timeouts, left)

    def wait_after(
        self,
        request: httpx.Request,
        attempt: int,
        response: httpx.Response | None,
        error: BaseException | None,
    ) -> float | None:
        """None: hand the answer (or raise the error) to the caller."""
        host = request.url.netloc.decode()
        if response is not None:
            note_answered(host)
            if not retryable_status(request.method, response.status_code):
                return None
            header = response.headers.get("Retry-After")
        else:
            assert error is not None
            if not retryable_error(error, host in _answered):
                return None
            header = None
        retry_after = parse_retry_after(header, time.time())
        wait = next_wait(
            self.policy, attempt, retry_after, self.deadline().remaining(), self.rand()
        )
        if wait is not None:
            what = f"HTTP {response.status_code}" if response is not None else type(error).__name__
            log.debug(
                f"{request.method} {request.url.copy_with(query=None)}: {what}; trying again "
                f"in {wait:.1f}s (attempt {attempt + 2} of {self.policy.attempts})"
            )
        return wait


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport with the policy; after the last attempt, the last answer or error
    stands (the callers turn it into exit 5 or 6)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy = POLICY,
        deadline: Callable[[], Deadline] = run_deadline,
        sleep: Callable[[float], object] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._inner, self._sleep = inner, sleep
        self._retrying = _Retrying(policy, deadline, rand)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            self._retrying.bound(request)
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError as exc:
                wait = self._retrying.wait_after(request, attempt, None, exc)
                if wait is None:
                    raise
            else:
                wait = self._retrying.wait_after(request, attempt, response, None)
                if wait is None:
                    return response
                response.read()
                response.close()
            self._sleep(wait)
            attempt += 1

    def close(self) -> None:
        self._inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The same policy for Prefect's async client (deployment writes)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy = POLICY,
        deadline: Callable[[], Deadline] = run_deadline,
        rand: Callable[[], float] = random.random,
        final_retry_after: str | None = None,
    ) -> None:
        self._inner, self._final_retry_after = inner, final_retry_after
        self._retrying = _Retrying(policy, deadline, rand)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio  # here: a plan makes no async request, and asyncio costs it 25 ms

        attempt = 0
        while True:
            self._retrying.bound(request)
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.TransportError as exc:
                wait = self._retrying.wait_after(request, attempt, None, exc)
                if wait is None:
                    raise
            else:
                wait = self._retrying.wait_after(request, attempt, response, None)
                if wait is None:
                    if self._final_retry_after is not None and retryable_status(
                        request.method, response.status_code
                    ):
                        # Waited enough: a client above that retries too (Prefect's, even
                        # with no retries left, sleeps before returning) is told not to wait.
                        response.headers["Retry-After"] = self._final_retry_after
                    return response
                await response.aread()
                await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.cache
def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The run's TLS context for a `verify` setting (True, False or a CA bundle's path), made
    once: each context loads the CA bundle, 37 ms here (2026-12-05), and a run's clients (the
    registry's pools, the Prefect reads, Prefect's client for the writes and each proxy
    route) would each load it again. A context is safe to share between clients and threads
    (the registry's 32 threads already shared one)."""
    return httpx.create_ssl_context(verify=verify)


def _context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    return verify if isinstance(verify, ssl.SSLContext) else tls_context(verify)


def client_transport(
    verify: bool | str | ssl.SSLContext = True,
    limits: httpx.Limits | None = None,
    proxy: str | None = None,
) -> RetryTransport:
    """For an httpx.Client: its limits go here (a client given a transport ignores its own)."""
    inner = httpx.HTTPTransport(
        verify=_context(verify), limits=limits or httpx.Limits(), proxy=proxy
    )
    return RetryTransport(inner)


def async_client_transport(
    verify: bool | str = True, final_retry_after: str | None = None, proxy: str | None = None
) -> AsyncRetryTransport:
    inner = httpx.AsyncHTTPTransport(verify=_context(verify), proxy=proxy)
    return AsyncRetryTransport(inner, final_retry_after=final_retry_after)


# The proxies of the environment, for clients that have a transport of their own (each here
# has one: the retries). httpx reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY only for
# a client without one (encode/httpx#1122), so a runner behind a proxy (the runner's own
# https_proxy/no_proxy convention: actions/runner docs/adrs/0263-proxy-support.md) reached
# no registry and no Prefect Cloud. The same routes as httpx's own, from its own reading of
# the environment; a NO_PROXY host maps to None: the client's transport, direct.

Route = TypeVar("Route")


def _environment_routes(through: Callable[[str], Route]) -> dict[str, Route | None]:
    """httpx's routes for the environment's proxies, each proxy URL made a transport."""
    return {
        pattern: None if url is None else through(url)
        for pattern, url in get_environment_proxies().items()
    }


def proxied() -> bool:
    """Whether the environment names a proxy for any route (the same reading as the mounts
    below): then every request goes through httpx's routes (direct_heads.py)."""
    return any(url is not None for url in _environment_routes(str).values())


def proxy_mounts(
    verify: bool | str | ssl.SSLContext = True, limits: httpx.Limits | None = None
) -> dict[str, RetryTransport | None]:
    """For an httpx.Client's `mounts`: each proxy of the environment behind the retries."""
    return _environment_routes(lambda url: client_transport(verify, limits, proxy=url))


def async_proxy_mounts(
    verify: bool | str = True, final_retry_after: str | None = None
) -> dict[str, AsyncRetryTransport | None]:
    """The same for an httpx.AsyncClient (Prefect's client, for the writes)."""
    return _environment_routes(
        lambda url: async_client_transport(verify, final_retry_after, proxy=url)
    )
