"""The registry client's own costs (clients/registry.py): how the plan's threads reach the
registry."""

from __future__ import annotations

from collections import Counter

from prefect_flow_deploy.clients.registry import CLIENT_POOLS, RegistryClient
from prefect_flow_deploy.run.gather import PLAN_THREADS
from tests.unit.clients.test_http_pools import threads_clients


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
