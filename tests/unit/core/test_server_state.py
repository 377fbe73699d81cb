"""core/server_state.py: what the server held when the run read it, read-only."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from prefect_flow_deploy.core.server_state import ExistingDeployment, ServerState
from tests.unit.rules.test_decide import managed


def test_the_server_s_state_and_its_deployments_are_read_only() -> None:
    gone = managed("old/sales", "sales/gone")
    state = ServerState({gone.full_name: gone})
    with pytest.raises(TypeError):
        state.deployments["x"] = gone  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.server_version = "3.4.0"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        gone.image = "r/x:1"  # type: ignore[misc]
    assert replace(state, server_version="3.4.0").deployments == state.deployments


def test_a_deployment_s_sequences_are_tuples_and_its_folder_is_its_tag() -> None:
    seen = ExistingDeployment(
        "d1", "etl", "sales", ["folder:sales/daily", "tenant:prod"], {}, [{"cron": "0 6 * * *"}],
        None, None,
    )  # fmt: skip
    assert seen.tags == ("folder:sales/daily", "tenant:prod")
    assert seen.schedules == ({"cron": "0 6 * * *"},) and seen.automations == ()
    assert seen.full_name == "etl/sales" and seen.folder_key() == "sales/daily"
    assert replace(seen, tags=["tenant:prod"]).folder_key() is None
