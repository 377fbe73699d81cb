"""Helpers that read the real server and registry, for assertions."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import DeploymentResponse

from prefect_flow_deploy.clients.http_retry import client_transport
from prefect_flow_deploy.core.model import Plan
from prefect_flow_deploy.core.results import RunResult
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given, Options

from .conftest import Scenario, Stack


def options(scenario: Scenario, stack: Stack, **overrides: Any) -> Options:
    """The scenario's options as explicit values, resolved with the environment (no config
    file) through the cascade the CLI and the action use."""
    given = {
        "projects_root": scenario.root,
        "registry": scenario.registry,
        "base_image": stack.base_image,
        "tenant": scenario.tenant,
        "work_pool": scenario.work_pool,
        "create_work_pool": True,  # each scenario's own pool, new on the server
        "max_parallel": 4,
        **overrides,
    }
    return resolve_options({name: Given(value, "test") for name, value in given.items()})


def deploy(scenario: Scenario, stack: Stack, **overrides: Any) -> RunResult:
    return Engine(options(scenario, stack, **overrides)).deploy()


def plan(scenario: Scenario, stack: Stack, **overrides: Any) -> Plan:
    return Engine(options(scenario, stack, **overrides)).plan()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _client(api_url: str | None) -> PrefectClient:
    """The stack's main server (PREFECT_API_URL), or the one at `api_url`."""
    return get_client() if api_url is None else PrefectClient(api_url)


async def _deployment(name: str, api_url: str | None) -> DeploymentResponse:
    async with _client(api_url) as client:
        return await client.read_deployment_by_name(name)


def read_deployment(name: str, api_url: str | None = None) -> DeploymentResponse:
    result: DeploymentResponse = run(_deployment(name, api_url))
    return result


async def _all_named(names: list[str], api_url: str | None) -> dict[str, DeploymentResponse]:
    async with _client(api_url) as client:
        return {n: await client.read_deployment_by_name(n) for n in names}


def read_deployments(names: list[str], api_url: str | None = None) -> dict[str, DeploymentResponse]:
    result: dict[str, DeploymentResponse] = run(_all_named(names, api_url))
    return result


def reported_version(api_url: str) -> str:
    """The Prefect version the server itself reports (prefect/server/api/admin.py)."""
    response = httpx.get(f"{api_url}/admin/version", timeout=10)
    response.raise_for_status()
    version: str = response.json()
    return version


async def _scheduled_runs(deployment_id: Any) -> list[Any]:
    async with get_client() as client:
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
        )


def scheduled_run_ids(deployment_id: Any, wait: float = 60) -> set[str]:
    """The upcoming runs the server's scheduler made (it runs every few seconds here)."""
    deadline = time.monotonic() + wait
    while True:
        runs = run(_scheduled_runs(deployment_id))
        if runs or time.monotonic() > deadline:
            return {str(r.id) for r in runs}
        time.sleep(1)


class RegistryLog:
    """Counts requests to one namespace in the registry's own access log."""

    def __init__(self, stack: Stack, namespace: str) -> None:
        self.path = Path(stack.env["PFD_STACK_DIR"]) / "registry.log"
        self.namespace = namespace.split("/", 1)[1]
        self.offset = self.path.stat().st_size

    def manifest_puts(self) -> int:
        pattern = re.compile(
            rf'method=PUT .*uri="?/v2/{re.escape(self.namespace)}/[^"]*/manifests/'
        )
        return sum(1 for line in self._lines() if pattern.search(line))

    def manifest_heads(self) -> int:
        """HEADs of the namespace's manifests, from the access log (a line a request)."""
        pattern = re.compile(rf'"HEAD /v2/{re.escape(self.namespace)}/[^" ]*/manifests/')
        return sum(1 for line in self._lines() if pattern.search(line))

    def _lines(self) -> list[str]:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode(errors="replace").splitlines()


async def _run_and_wait(
    name: str, parameters: dict[str, Any], timeout: float
) -> tuple[str, list[str]]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        deployment = await client.read_deployment_by_name(name)
        flow_run = await client.create_flow_run_from_deployment(
            deployment.id, parameters=parameters
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            flow_run = await client.read_flow_run(flow_run.id)
            if flow_run.state and flow_run.state.is_final():
                break
            await asyncio.sleep(1)
        state = flow_run.state.type.value if flow_run.state else "NONE"
        # A run's logs reach the API a few seconds after its final state.
        messages: list[str] = []
        for _ in range(20):
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
            )
            messages = [log.message for log in logs]
            if state != "COMPLETED" or any("Finished in state" in m for m in messages):
                break
            await asyncio.sleep(1)
        return state, messages


def run_deployment(
    name: str, parameters: dict[str, Any], timeout: float = 240
) -> tuple[str, list[str]]:
    """Start a run of the deployment on the stack's Docker worker; its final state and logs."""
    result: tuple[str, list[str]] = run(_run_and_wait(name, parameters, timeout))
    return result


def server_api() -> httpx.Client:
    """An httpx client on the stack's Prefect API, for what a test does as a user would. It
    retries as the engine's reads do (a busy SQLite server answers 503 while another writer
    holds the database lock)."""
    return httpx.Client(
        base_url=os.environ["PREFECT_API_URL"].rstrip("/") + "/",
        timeout=30,
        transport=client_transport(),
    )


def server_deployment(name: str) -> dict[str, Any]:
    """The server's JSON for the deployment `flow/name`."""
    flow, _, deployment = name.partition("/")
    with server_api() as client:
        response = client.get(f"deployments/name/{flow}/{deployment}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def running(token: str) -> bool:
    """Whether a process whose command line holds `token` runs on this machine (a build's
    RUN step runs as a process of the engine's BuildKit)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                return True
        except OSError:
            continue
    return False
