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
from ..helpers import RegistryLog, deploy, options, reported_version

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


def test_triggers_on_a_server_without_automation_tags_fail_their_folder_before_building(
    stack: Stack, scenario: Scenario
) -> None:
    """Prefect 3.2.0 (the oldest supported) refuses `tags` on an automation: the folder with
    triggers fails at its `triggers:` line, nothing of it is built or written, and the other
    folders deploy."""
    url = stack.env["PFD_OLDEST_PREFECT_API_URL"]
    assert reported_version(url) == stack.env["PFD_OLDEST_PREFECT_VERSION"]
    with_triggers = write_flow(scenario.folder("p", "with_triggers"), "with_triggers")
    (with_triggers / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:with_triggers\n    triggers:\n"
        '      - name: on-failure\n        match: {prefect.resource.id: "prefect.flow-run.*"}\n'
        "        expect: [prefect.flow-run.Failed]\n        threshold: 1\n        within: 0\n"
    )
    write_flow(scenario.folder("p", "plain"), "plain_flow")

    result = deploy(scenario, stack, prefect_api_url=url)

    statuses = {r.folder: r.status for r in result.results}
    assert statuses == {"with_triggers": "failed", "plain": "created"}
    [folder] = [f for f in result.plan.folders if f.name == "with_triggers"]
    [problem] = [p for p in folder.problems if p.severity == "error"]
    assert problem.file == with_triggers / "prefect.yaml" and problem.line == 3
    assert "runs Prefect 3.2.0" in problem.message and "3.4.7 or later" in problem.message
    assert result.counters.built == 1  # only the other folder
    flows = httpx.post(f"{url}/flows/filter", json={"flows": {"name": {"any_": ["with-triggers"]}}})
    assert flows.json() == []
