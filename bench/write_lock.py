"""What the write lock (src/prefect_flow_deploy/clients/write_lock.py) costs a deployment write.

A write is the re-read made just before it and the create (`GET /deployments/name/…`, then
`POST /deployments/`, an upsert); with the lock, both happen between taking a lease on the
name's global concurrency limit and releasing it (two more requests). Measured on a private
Prefect server (bench/common.py: SQLite, its own PREFECT_HOME, never the shared stack), in
rounds that alternate unlocked and locked so that the machine's noise falls on both, one
writer at a time as the tool writes to a self-hosted server. Prints the ratio locked /
unlocked and the milliseconds per write it adds; writes bench/results/write-lock-*.json.

    .venv/bin/python bench/write_lock.py [--writes 30] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from prefect.client.orchestration import PrefectClient

from common import REPO, BenchStack, log, machine_info
from prefect_flow_deploy.clients.write_lock import WriteLocks

RESULTS = REPO / "bench" / "results"


async def write(
    client: PrefectClient, flow_id: object, name: str, locks: WriteLocks | None
) -> None:
    async def read_then_create() -> None:
        try:  # as registration._current_tags: a 404 is "not there yet"
            await client.request(
                "GET",
                "/deployments/name/{flow}/{name}",
                path_params={"flow": "bench", "name": name},
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
        await client.create_deployment(flow_id, name, work_pool_name="bench-pool")  # type: ignore[arg-type]

    if locks is None:
        await read_then_create()
        return
    async with locks.held(f"bench/{name}"):
        await read_then_create()


async def measure(api_url: str, writes: int, rounds: int) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {"unlocked": [], "locked": []}
    async with PrefectClient(api_url) as client:
        flow_id = await client.create_flow_from_name("bench")
        locks = WriteLocks(client, lambda level, message: log(f"{level}: {message}"))
        await write(client, flow_id, "warm-up", locks)  # creates the limits' first one
        for number in range(rounds * 2):
            kind = ("unlocked", "locked")[number % 2]
            started = time.perf_counter()
            for index in range(writes):
                chosen = locks if kind == "locked" else None
                await write(client, flow_id, f"d{index}-r{number // 2}", chosen)
            seconds[kind].append(time.perf_counter() - started)
            log(f"round {number // 2 + 1} {kind}: {seconds[kind][-1]:.2f} s for {writes} writes")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pfd-bench-lock-") as work:
        stack = BenchStack(Path(work))
        try:
            stack.reset()
            stack.create_work_pool()
            seconds = asyncio.run(measure(stack.api_url, args.writes, args.rounds))
        finally:
            stack.stop()
    unlocked, locked = (statistics.median(seconds[k]) for k in ("unlocked", "locked"))
    added_ms = (locked - unlocked) / args.writes * 1000
    print(
        f"{args.writes} writes, median of {args.rounds} rounds: unlocked {unlocked:.2f} s, "
        f"locked {locked:.2f} s, ratio {locked / unlocked:.2f}, "
        f"{added_ms:.1f} ms added per write"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"write-lock-{time.strftime('%Y%m%d-%H%M%S')}.json"
    result = {"seconds": seconds, "ratio": locked / unlocked, "added_ms_per_write": added_ms}
    out.write_text(json.dumps({**result, "machine": machine_info()}, indent=2))
    log(f"written {out.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
