"""core/model.py: the values passed down the pipeline do not change once made: the
server's state and its deployments, and (rules/inputs.py) what gather read."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import pytest

from prefect_flow_deploy.core.model import FrozenMap, ServerState
from tests.unit.rules.test_decide import folder, inputs, managed


def test_a_frozen_map_is_a_dict_that_refuses_to_change() -> None:
    m = FrozenMap({"a": 1})
    assert m == {"a": 1} and isinstance(m, dict) and json.dumps(m) == '{"a": 1}'
    for change in (
        lambda: m.__setitem__("b", 2), lambda: m.__delitem__("a"), lambda: m.update(b=2),
        lambda: m.pop("a"), lambda: m.setdefault("b", 2), m.clear, m.popitem,
    ):  # fmt: skip
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert {**m, "b": 2} == {"a": 1, "b": 2} and m == {"a": 1}  # a new value instead


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


def test_inputs_are_read_only_down_to_their_mappings() -> None:
    world = inputs(folder("daily"))
    assert isinstance(world.folders, tuple)
    for name in ("recipes", "images", "pools", "pull_states", "relations"):
        with pytest.raises(TypeError):
            getattr(world, name)["x"] = None
    assert replace(world, pull_states={3: "open"}).pull_states == {3: "open"}
