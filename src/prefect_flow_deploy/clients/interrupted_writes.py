"""Deployment writes under way when the run is interrupted (SIGTERM, SIGINT): a write is one
API call the server may still carry out after the run stopped waiting for its answer. So the
run does not report what its own bookkeeping knew ("writes 0") but what the server holds:
each write under way is read back, for a few seconds at most, and said to have landed (the
server holds this run's version and image, or no longer holds a removed deployment) or not
(yet: if it lands later, it is whole)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.core.model import DeploymentPlan

BOUND = 5.0  # seconds of reading back, at most: the run exits within 10 s of the signal


def landed(deployment: DeploymentPlan, held: dict[str, Any] | None) -> bool:
    """Whether the server holds what this write would leave (pure)."""
    if deployment.action == "remove":
        return held is None
    spec = deployment.spec
    if held is None or spec is None:
        return False
    image = (held.get("job_variables") or {}).get("image")
    return bool(held.get("version") == spec.version and image == spec.image)


def what_landed(api: ApiSettings, writing: list[DeploymentPlan], bound: float = BOUND) -> str:
    """One sentence on the writes under way, after reading each back (polling until all
    have landed or `bound` seconds passed); "" when none was under way."""
    if not writing:
        return ""
    deadline = time.monotonic() + bound
    done: set[str] = set()
    try:
        with api.http_client() as client:
            while True:
                for deployment in writing:
                    if deployment.full_name not in done and _read_back(client, deployment):
                        done.add(deployment.full_name)
                if len(done) == len(writing) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    except Exception as exc:  # the server cannot be asked now: say so, not a guess
        return (
            f"; {len(writing)} deployment writes under way when stopped, which the server "
            f"could not be asked about ({type(exc).__name__}): the next run converges"
        )
    parts = [
        f"{d.full_name} {d.action}d on the server (it landed)"
        if d.full_name in done
        else f"{d.full_name} not on the server as this run writes it (if it lands later, it "
        "is whole)"
        for d in writing
    ]
    return f"; {len(writing)} deployment writes under way when stopped: " + ", ".join(parts)


def _read_back(client: httpx.Client, deployment: DeploymentPlan) -> bool:
    """Whether the server holds the write now; a slow answer is "not yet" (a server busy
    with the write itself answers late), not a reason to stop asking."""
    flow, _, name = deployment.full_name.partition("/")
    try:
        answer = client.get(f"deployments/name/{flow}/{name}", timeout=2)
    except httpx.TimeoutException:
        return False
    held = answer.json() if answer.status_code == 200 else None
    return answer.status_code in (200, 404) and landed(deployment, held)
