"""What the server holds for a run, from the API's answers: the managed deployments by full
name with the automations their triggers made; unmanaged deployments of the wanted names,
each with the automations that run it (to be taken over)."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_flow_deploy.clients import prefect_state
from prefect_flow_deploy.core.model import MANAGED_TAG
from prefect_flow_deploy.core.server_state import ServerState


def deployment(id_: str, name: str, flow: str, tags: list[str]) -> dict[str, Any]:
    return {"id": id_, "name": name, "flow_name": flow, "tags": tags, "updated": "t"}


def runs(deployment_id: str, name: str) -> dict[str, Any]:
    return {"name": name, "actions": [{"type": "run-deployment", "deployment_id": deployment_id}]}


def test_the_managed_deployments_with_their_triggers(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def tagged(_settings: Any, tag: str) -> list[dict[str, Any]]:
        asked.append(f"automations {tag}")
        other = {"name": "notify", "actions": [{"type": "send-notification"}]}
        return [runs("d1", "on-upload"), runs("d1", "nightly"), other]

    def managed(_settings: Any, tag: str) -> list[dict[str, Any]]:
        asked.append(f"deployments {tag}")
        return [
            deployment("d1", "sales", "etl", [MANAGED_TAG]),
            deployment("d2", "sales", "report", [MANAGED_TAG]),
        ]

    monkeypatch.setattr(prefect_state, "read_tagged_automations", tagged)
    monkeypatch.setattr(prefect_state, "read_managed", managed)
    state = prefect_state.fetch_state(None)  # type: ignore[arg-type]
    assert asked == [f"automations {MANAGED_TAG}", f"deployments {MANAGED_TAG}"]
    assert set(state.deployments) == {"etl/sales", "report/sales"}
    etl = state.deployments["etl/sales"]
    assert (etl.id, etl.flow_name, etl.name) == ("d1", "etl", "sales")
    assert [a["name"] for a in etl.automations] == ["on-upload", "nightly"]
    assert state.deployments["report/sales"].automations == ()
    assert set(state.automations) == {"d1"}


def test_unmanaged_deployments_of_the_wanted_names_are_found_with_what_runs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def named(_settings: Any, names: list[str]) -> list[dict[str, Any]]:
        assert names == ["etl/sales", "report/sales"]
        return [
            deployment("d1", "sales", "etl", []),
            deployment("d2", "sales", "report", [MANAGED_TAG]),  # ours: read with the state
        ]

    def related(_settings: Any, deployment_id: str) -> list[dict[str, Any]]:
        return [runs(deployment_id, "by-hand"), runs("elsewhere", "not-its-own")]

    monkeypatch.setattr(prefect_state, "read_named", named)
    monkeypatch.setattr(prefect_state, "read_related_automations", related)
    found = prefect_state.fetch_unmanaged(None, ["etl/sales", "report/sales"], ServerState())  # type: ignore[arg-type]
    assert [(e.full_name, [a["name"] for a in e.automations]) for e in found] == [
        ("etl/sales", ["by-hand"])
    ]
