"""`make demo`'s last step: run one deployed example flow on the local Docker worker and wait
for its final state (exit 0 only on Completed)."""

from __future__ import annotations

import asyncio
import sys
import time

from prefect.client.orchestration import get_client


async def main(name: str, timeout: float = 300) -> int:
    async with get_client() as client:
        deployment = await client.read_deployment_by_name(name)
        flow_run = await client.create_flow_run_from_deployment(
            deployment.id, parameters={"region": "demo"}
        )
        print(f"started flow run {flow_run.name} of {name}; waiting for the Docker worker …")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            flow_run = await client.read_flow_run(flow_run.id)
            if flow_run.state and flow_run.state.is_final():
                break
            await asyncio.sleep(1)
    state = flow_run.state.name if flow_run.state else "unknown"
    print(f"flow run {flow_run.name}: {state}")
    return 0 if flow_run.state and flow_run.state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "daily-orders/sales")))
