"""Many threads on a few httpx clients (clients/http_pools.py): what is built once, and how
the threads share the clients out."""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from typing import Any

import pytest

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.clients.http_pools import ThreadClients


def ca_bundle_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter, [n], of the CA bundle's loads from now on (one per TLS context made)."""
    loads = [0]
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads[0] += 1
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    return loads


def test_one_tls_context_whatever_the_number_of_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs 37 ms a context: the clients share the run's one
    (http_retry.tls_context, made by the first client that needs it)."""
    http_retry.tls_context.cache_clear()
    loads = ca_bundle_loads(monkeypatch)
    clients = ThreadClients(4, connections=64, timeout=5)
    try:
        assert len({id(client._transport) for client in clients.clients}) == 4
        assert loads == [1]
    finally:
        clients.close()


def threads_clients(clients: ThreadClients, threads: int) -> dict[int, set[int]]:
    """Each of `threads` live threads: the clients it was given over three requests."""
    seen: dict[int, set[int]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def ask() -> None:
        barrier.wait()  # all alive at once, as a loaded thread pool
        for _ in range(3):
            with lock:
                seen.setdefault(threading.get_ident(), set()).add(id(clients.mine()))

    started = [threading.Thread(target=ask) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return seen


def test_threads_take_the_clients_in_turn_and_each_keeps_its_own() -> None:
    clients = ThreadClients(4, connections=64, timeout=5)
    try:
        seen = threads_clients(clients, 32)
        assert all(len(given) == 1 for given in seen.values())
        per_client = Counter(next(iter(given)) for given in seen.values())
        assert sorted(per_client.values()) == [8, 8, 8, 8]
        pools = [c._transport._inner._pool for c in clients.clients]  # type: ignore[attr-defined]
        assert [p._max_connections for p in pools] == [16, 16, 16, 16]
    finally:
        clients.close()
