"""The registry client's own costs (clients/registry.py): what it builds once, and how the
plan's threads share its connection pools."""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from typing import Any

import pytest

from prefect_flow_deploy.clients.registry import CLIENT_SHARDS, RegistryClient


def test_one_tls_context_whatever_the_number_of_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs 20 ms a context: the pools share one."""
    loads = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    client = RegistryClient()
    try:
        assert len({id(shard._transport) for shard in client._shards}) == CLIENT_SHARDS
        assert len(loads) == 1
    finally:
        client.close()


def test_the_plan_s_threads_share_out_the_pools_and_each_keeps_its_own() -> None:
    """32 threads (gather.PLAN_THREADS) on CLIENT_SHARDS pools, 8 a pool, each thread on the
    same pool for all its requests; no pool holds more connections than its share."""
    client = RegistryClient()
    seen: dict[int, set[int]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(32)

    def ask() -> None:
        barrier.wait()  # all 32 alive at once, as the plan's pool is under load
        for _ in range(3):
            with lock:
                seen.setdefault(threading.get_ident(), set()).add(id(client._http))

    threads = [threading.Thread(target=ask) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert all(len(pools) == 1 for pools in seen.values())
        per_pool = Counter(next(iter(pools)) for pools in seen.values())
        assert sorted(per_pool.values()) == [32 // CLIENT_SHARDS] * CLIENT_SHARDS
        pool = client._shards[0]._transport._inner._pool  # type: ignore[attr-defined]
        assert pool._max_connections * CLIENT_SHARDS == 64
    finally:
        client.close()
