"""Every flow Prefect can deploy is deployed (issue 23), on the real stack: a dozen flows from
a factory called at module level and names from a constants package, read from the source;
a flow whose name only running the file tells, named by Prefect in the built image (the plan
showed `<flows.py:maybe>`), run by the Docker worker to Completed; a re-run reuses the
names the image gave (no container runs, nothing is written)."""

from __future__ import annotations

import shutil

import pytest

from tests.unit.reading.test_flows_corpus import PROJECTS

from ..conftest import Scenario, Stack
from ..helpers import deploy, plan, read_deployment, run_deployment

pytestmark = [pytest.mark.stack, pytest.mark.e2e]


def test_factory_flows_and_a_name_the_image_computes_deploy_and_run(
    stack: Stack, scenario: Scenario
) -> None:
    s = scenario
    s.work_pool = stack.worker_pool  # the pool the stack's worker serves
    for folder in ("daily_reports", "named_by_constants"):
        shutil.copytree(PROJECTS / "ops" / folder, s.folder("ops", folder))
    project = s.project("ops")

    planned = plan(s, stack)
    actions = {d.full_name: d.action for d in planned.deployments}
    assert actions[f"<flows.py:maybe>/{project}"] == "create"  # named after the build
    assert actions[f"daily-sales/{project}"] == "create"
    assert len(actions) == 12 + 9

    result = deploy(s, stack)
    assert not result.failed, [r for r in result.results if r.status != "created"]
    made = {f"{r.flow}/{r.deployment}" for r in result.results if r.status == "created"}
    assert f"either-fancy/{project}" in made  # Prefect's own name, computed in the image
    assert f"ops-2024/{project}" in made and f"ops-audit/{project}" in made
    assert not any(name.startswith("<") for name in made)
    # and the description Prefect gives it there, as `prefect deploy` registers it (trial
    # round 11 b 2: a factory's flow was registered with "")
    fancy = read_deployment(f"either-fancy/{project}")
    assert fancy.description == "The fancy one: its description, too, only loading the file tells."

    state, logs = run_deployment(f"daily-orders/{project}", {"day": "tue"})
    assert state == "COMPLETED", "\n".join(logs)
    state, logs = run_deployment(f"either-fancy/{project}", {})
    assert state == "COMPLETED", "\n".join(logs)

    again = plan(s, stack)
    assert {d.action for d in again.deployments} == {"unchanged"}
    assert f"either-fancy/{project}" in {d.full_name for d in again.deployments}
