"""The registry client's own costs (clients/registry.py): how the plan's threads reach the
registry."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from prefect_flow_deploy.clients.http_retry import RetryTransport
from prefect_flow_deploy.clients.registry import CLIENT_POOLS, RegistryClient
from prefect_flow_deploy.run.gather import PLAN_THREADS
from tests.oci_registry import OciRegistry, registry_through
from tests.unit.clients.test_http_pools import threads_clients
from tests.unit.reading.test_discovery import cyclic_garbage


def test_the_plan_s_threads_spread_over_the_client_s_pools() -> None:
    """The plan's 32 threads (gather.PLAN_THREADS) on four pools, 8 a pool, 64 connections
    kept alive in all (one for each thread, and room for the catalog and base lookups); one
    pool for all of them cost 0.96 CPU s per 1,000 HEADs against 0.53 (http_pools.py)."""
    client = RegistryClient()
    try:
        seen = threads_clients(client._clients, PLAN_THREADS)
        per_pool = Counter(next(iter(given)) for given in seen.values())
        assert CLIENT_POOLS > 1
        assert sorted(per_pool.values()) == [PLAN_THREADS // CLIENT_POOLS] * CLIENT_POOLS
        pools = [c._transport._inner._pool for c in client._clients.clients]  # type: ignore[attr-defined]
        assert sum(p._max_connections for p in pools) == 64
    finally:
        client.close()


def test_registry_questions_leave_no_cyclic_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each answer is freed when it is dropped, not by the cycle collector: httpx binds a
    response's stream back to the response, 44 objects a request that only a collection
    frees (http_pools.released); a plan asks once a folder with the collector paused
    (core/collector.py). Counted by the collector itself, for N and 10·N questions, found
    and missing images alike."""
    oci = OciRegistry()
    oci.put("flows/found", "t1")

    def transport(*_args: Any, **_kwargs: Any) -> RetryTransport:
        return RetryTransport(oci)  # type: ignore[arg-type]

    registry_through(monkeypatch, transport)
    client = RegistryClient()
    try:
        assert client.manifest_digest("registry.test/flows/found:t1")  # the pools made

        def ask(questions: int) -> None:
            for _ in range(questions):
                assert client.manifest_digest("registry.test/flows/found:t1")
                assert client.manifest_digest("registry.test/flows/found:t2") is None

        assert [cyclic_garbage(lambda: ask(3)), cyclic_garbage(lambda: ask(30))] == [0, 0]
    finally:
        client.close()
