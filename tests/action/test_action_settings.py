"""Where the action's settings come from, as the runner runs it: every input is set (to its
action.yml default when the workflow gave none, ACTION-RUNNER.md "Inputs"), so an input the
user left out must not beat the config file, and one they wrote, even equal to the old
default, must. The deployments land on the real Prefect server, whose work pool says which
won."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack
from ..helpers import read_deployments
from .runner import build_action_image, run_action
from .test_action import assert_no_secret, inputs, workspace_for

pytestmark = [pytest.mark.stack, pytest.mark.action]


def test_the_config_file_wins_over_an_input_left_out_and_loses_to_one_given(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    image = build_action_image()
    workspace = workspace_for(scenario, tmp_path, [("sales", "daily_orders")])
    file_pool = f"{scenario.work_pool}-from-file"
    (workspace / "prefect-flow-deploy.yaml").write_text(
        f"tenants:\n  {scenario.tenant}:\n    work-pool: {file_pool}\n    max-parallel: 2\n"
    )
    name = f"daily-orders/{scenario.project('sales')}"
    left_out = inputs(scenario, stack)
    del left_out["work-pool"]  # the workflow's `with:` has no work-pool, nor max-parallel

    first = run_action(image, workspace, tmp_path / "run1", left_out, debug=True)

    assert first.exit_code == 0, first.log
    assert read_deployments([name])[name].work_pool_name == file_pool
    # RUNNER_DEBUG=1 (a re-run with debug logging): the options and where each came from.
    assert re.search(
        rf"work-pool +{file_pool} +\[prefect-flow-deploy.yaml:3 \(tenant {scenario.tenant}\)\]",
        first.stderr,
    ), first.stderr
    assert re.search(r"max-parallel +2 +\[prefect-flow-deploy.yaml:4 ", first.stderr)
    assert re.search(r"registry-password +\*\*\* +\[input registry-password\]", first.stderr)
    assert_no_secret(stack, first.stdout, first.stderr, first.files_written)

    given = {**left_out, "work-pool": scenario.work_pool, "max-parallel": "4"}
    second = run_action(image, workspace, tmp_path / "run2", given, debug=True)

    assert second.exit_code == 0, second.log
    assert read_deployments([name])[name].work_pool_name == scenario.work_pool
    assert re.search(rf"work-pool +{scenario.work_pool} +\[input work-pool\]", second.stderr)
    assert re.search(r"max-parallel +4 +\[input max-parallel\]", second.stderr)
    assert_no_secret(stack, second.stdout, second.stderr, second.files_written)
