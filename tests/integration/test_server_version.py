"""Prefect servers of other versions, from scripts/stack.sh: one older than
server_version.OLDEST_SUPPORTED (3.1.15) is refused while planning, one clear error before
anything is built, pushed or written; on the oldest supported (3.2.0) what older ones refuse
works, and triggers, which need a newer server, fail their folder before it is built."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from prefect_flow_deploy.core.errors import PrefectUnavailableError
from prefect_flow_deploy.rules.server_version import OLDEST_SUPPORTED
from prefect_flow_deploy.run.engine import Engine

from ..conftest import PrefectServer, Scenario, Stack, copy_example, write_flow
from ..helpers import RegistryLog, deploy, options, read_deployment, reported_version

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


def test_schedules_and_parameters_are_updated_in_place(
    stack: Stack, scenario: Scenario, server: PrefectServer
) -> None:
    """What servers before 3.2.0 refuse in an update (a schedule's `parameters`, sent by
    Prefect's client) works on the oldest supported one: same deployment, new values."""
    folder = copy_example(scenario, "marketing", "weekly_digest")
    name = f"weekly-digest/{scenario.project('marketing')}"
    assert {r.status for r in deploy(scenario, stack, prefect_api_url=server.url).results} == {
        "created"
    }
    before = read_deployment(name, server.url)
    yaml = (folder / "prefect.yaml").read_text()
    (folder / "prefect.yaml").write_text(
        yaml.replace('cron: "0 7 * * 1"', 'cron: "0 8 * * 2"').replace("top: 10", "top: 3")
    )

    [row] = deploy(scenario, stack, prefect_api_url=server.url).results

    assert row.status == "updated" and {"schedules", "parameters"} <= set(row.changed_fields)
    after = read_deployment(name, server.url)
    assert after.id == before.id and after.parameters["top"] == 3
    assert [s.schedule.cron for s in after.schedules] == ["0 8 * * 2"]
    assert reported_version(server.url) == server.version
