"""A Prefect server older than the oldest supported is refused while planning: one clear
error, before anything is built, pushed or written. Against a real Prefect 3.1.15 server
(scripts/stack.sh), the last release before server_version.OLDEST_SUPPORTED."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from prefect_flow_deploy.engine import Engine
from prefect_flow_deploy.errors import PrefectUnavailableError
from prefect_flow_deploy.server_version import OLDEST_SUPPORTED

from ..conftest import Scenario, Stack, write_flow
from ..helpers import RegistryLog, options, reported_version

pytestmark = pytest.mark.stack


def test_a_server_too_old_is_refused_before_any_build_or_write(
    stack: Stack, scenario: Scenario
) -> None:
    url = stack.env["PFD_TOO_OLD_PREFECT_API_URL"]
    too_old = stack.env["PFD_TOO_OLD_PREFECT_VERSION"]
    assert reported_version(url) == too_old
    write_flow(scenario.folder("p", "refused"), "refused_flow")
    registry_log = RegistryLog(stack, scenario.registry)

    with pytest.raises(PrefectUnavailableError) as error:
        Engine(options(scenario, stack, prefect_api_url=url)).deploy()

    message = str(error.value)
    assert f"runs Prefect {too_old}" in message and f"{OLDEST_SUPPORTED} and newer" in message
    assert "Upgrade the server" in message and error.value.exit_code == 6
    assert registry_log.manifest_puts() == 0
    flows = httpx.post(f"{url}/flows/filter", json={"flows": {"name": {"any_": ["refused-flow"]}}})
    assert flows.status_code == 200 and flows.json() == []
    assert not any(p["name"] == scenario.work_pool for p in _pools(url))


def test_the_cli_exits_6_with_the_message(stack: Stack, scenario: Scenario) -> None:
    url = stack.env["PFD_TOO_OLD_PREFECT_API_URL"]
    write_flow(scenario.folder("p", "refused"), "refused_flow")
    result = subprocess.run(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "plan",
         "--projects-root", str(scenario.root), "--registry", scenario.registry,
         "--prefect-api-url", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 6, result.stderr
    assert f"runs Prefect {stack.env['PFD_TOO_OLD_PREFECT_VERSION']}" in result.stderr


def _pools(url: str) -> list[dict[str, str]]:
    response = httpx.post(f"{url}/work_pools/filter", json={})
    response.raise_for_status()
    pools: list[dict[str, str]] = response.json()
    return pools
