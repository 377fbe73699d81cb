"""Deployed flows really run: the stack's Docker worker starts each from its image."""

from __future__ import annotations

import pytest

from ..conftest import Scenario, Stack, copy_example
from ..helpers import deploy, run_deployment

pytestmark = [pytest.mark.stack, pytest.mark.e2e]


@pytest.fixture
def worker_scenario(scenario: Scenario, stack: Stack) -> Scenario:
    scenario.work_pool = stack.worker_pool  # the pool the stack's worker serves
    return scenario


def test_deployed_flows_run_to_completed_with_their_parameters(
    stack: Stack, worker_scenario: Scenario
) -> None:
    s = worker_scenario
    copy_example(s, "sales", "daily_orders")  # no Dockerfile, no requirements.txt
    copy_example(s, "marketing", "legacy_layout")  # own Dockerfile, code added at /
    copy_example(s, "marketing", "campaign_sync")  # own Dockerfile with a BuildKit cache mount
    result = deploy(s, stack)
    assert not result.failed, result.results

    runs = {
        f"daily-orders/{s.project('sales')}": (
            {"region": "apac", "limit": 7},
            "processed 7 orders for apac",
        ),
        f"legacy-export/{s.project('marketing')}": ({"target": "gs://e2e"}, "exported to gs://e2e"),
        f"campaign-sync/{s.project('marketing')}": (
            {"contacts": 4321},
            "synced 4,321 contacts for spring",
        ),
    }
    for name, (parameters, expected) in runs.items():
        state, logs = run_deployment(name, parameters)
        assert state == "COMPLETED", f"{name}: {state}\n" + "\n".join(logs)
        assert any(expected in line for line in logs), (
            f"{name}: {expected!r} not in logs:\n" + "\n".join(logs)
        )
