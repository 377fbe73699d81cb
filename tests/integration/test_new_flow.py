"""`new` makes a folder that deploys as it is: `plan` against the real stack shows it as a
create, and once deployed it runs to Completed on the stack's Docker worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..conftest import Scenario, Stack
from ..helpers import deploy, read_deployment, run_deployment

pytestmark = [pytest.mark.stack]
CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=dict(os.environ), timeout=600
    )


def test_a_new_folder_plans_as_a_create_at_once(stack: Stack, scenario: Scenario) -> None:
    project = scenario.project("sales")
    made = cli(
        "new", project, "daily_orders", "--schedule", "0 6 * * *",
        "--projects-root", str(scenario.root),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert cli("validate", "--projects-root", str(scenario.root)).returncode == 0

    planned = cli(
        "plan", "--json", "--projects-root", str(scenario.root), "--registry", scenario.registry,
        "--base-image", stack.base_image, "--tenant", scenario.tenant, "--work-pool", scenario.work_pool,
        "--create-work-pool",
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    (item,) = json.loads(planned.stdout)["items"]
    assert item["deployment"] == f"daily-orders/{project}"
    assert item["deployment_action"] == "create"
    assert item["image_action"] == "build"


@pytest.mark.e2e
def test_a_new_folder_deploys_and_runs_to_completed(stack: Stack, scenario: Scenario) -> None:
    scenario.work_pool = stack.worker_pool  # the pool the stack's worker serves
    project = scenario.project("fresh")
    made = cli("new", project, "hello", "--flow", f"hello-{scenario.suffix}",
               "--schedule", "30 5 * * 1", "--projects-root", str(scenario.root))  # fmt: skip
    assert made.returncode == 0, made.stderr

    result = deploy(scenario, stack)
    assert not result.failed, result.results
    name = f"hello-{scenario.suffix}/{project}"
    deployment = read_deployment(name)
    assert deployment.description and deployment.description.startswith("Greet `name`")
    assert [s.schedule.cron for s in deployment.schedules] == ["30 5 * * 1"]  # type: ignore[union-attr]
    state, logs = run_deployment(name, {"name": "e2e"})
    assert state == "COMPLETED", "\n".join(logs)
    assert any("Hello, e2e!" in line for line in logs), "\n".join(logs)
