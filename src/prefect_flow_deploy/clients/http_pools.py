"""Several httpx clients for many threads, each thread on one of them: a client's connection
pool does bookkeeping per request (httpcore assigns every queued request to a connection
under one lock) that grows with its connections and waiting requests, so one pool shared by
32 threads costs more CPU per request than four pools of eight threads each.

Measured 2026-12-04, 1,000 HEADs from 32 threads to a loopback registry: one client
0.96 CPU s (1.2 s wall), two 0.62, four 0.53 (0.84 s), eight 0.52; one thread alone 0.55.
Since 2026-12-05 a HEAD's plain answer comes over http.client instead (direct_heads.py,
0.31 CPU s for the same 1,000); these pools carry the rest, and every request behind a proxy.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx

from prefect_flow_deploy.clients.http_retry import client_transport, proxy_mounts


class ThreadClients:
    """`count` clients, `connections` kept alive in all, the run's TLS context for all
    (http_retry.tls_context). `mine()` is the calling thread's client: threads
    take the clients in turn on their first request and keep theirs."""

    def __init__(self, count: int, connections: int, timeout: float) -> None:
        each = connections // count
        limits = httpx.Limits(max_connections=each, max_keepalive_connections=each)
        self.clients = tuple(
            httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                transport=client_transport(limits=limits),
                mounts=proxy_mounts(limits=limits),
            )
            for _ in range(count)
        )
        self._thread = threading.local()
        self._turns = itertools.count()  # next() is atomic: no lock needed

    def mine(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._thread, "client", None)
        if client is None:
            client = self.clients[next(self._turns) % len(self.clients)]
            self._thread.client = client
        return client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The calling thread's client's request, its response freed as soon as it is
        dropped (`released`)."""
        return released(self.mine().request(method, url, **kwargs))

    def close(self) -> None:
        for client in self.clients:
            client.close()


def released(response: httpx.Response) -> httpx.Response:
    """A read response whose stream no longer refers back to it. httpx 0.28 wraps each
    response's stream in a BoundSyncStream that holds the response (to set `elapsed` when it
    closes): a cycle, with 42 more objects hanging from it, that only the cycle collector
    frees (encode/httpx#3733), 220,000 objects for the HEADs of a 5,000-folder plan. A read
    response is closed and holds its content: that is its stream from then on."""
    if response.is_closed:
        response.stream = httpx.ByteStream(response.content)
    return response
