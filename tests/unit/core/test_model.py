"""core/model.py: the values passed down the pipeline do not change once made: the
server's state and its deployments, and (rules/inputs.py) what gather read."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import replace

import pytest

from prefect_flow_deploy.core.frozen import FrozenMap
from prefect_flow_deploy.rules import decide
from tests.unit.rules.test_decide import folder, inputs


def test_inputs_are_read_only_down_to_their_mappings() -> None:
    world = inputs(folder("daily"))
    assert isinstance(world.folders, tuple)
    for name in ("recipes", "images", "pools", "pull_states", "relations"):
        with pytest.raises(TypeError):
            getattr(world, name)["x"] = None
    assert replace(world, pull_states={3: "open"}).pull_states == {3: "open"}


# The user's and the API's JSON (parameters, schemas, job variables, a pool's template, what
# the server's deployment compares) is data the plan carries, not its structure: the walk
# does not enter it.
JSON_VALUES = {
    "parameter_schema", "parameters", "job_variables", "concurrency_options", "extra",
    "template", "comparable",
}  # fmt: skip
# Collections of JSON values (schedules, triggers, automations, a change's old and new
# value): the collection is walked, not the JSON in it.
JSON_ITEMS = {"schedules", "triggers", "automations", "changes"}


def reachable(value: object, where: str = "plan") -> Iterator[tuple[str, object]]:
    """Every value reachable from `value` but JSON, with its path."""
    yield where, value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            inner, path = getattr(value, f.name), f"{where}.{f.name}"
            if f.name in JSON_ITEMS:
                yield path, inner
                if isinstance(inner, dict):
                    yield from ((f"{path}[{k!r}]", v) for k, v in inner.items())
            elif f.name not in JSON_VALUES:
                yield from reachable(inner, path)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from reachable(k, f"{where}[{k!r}]")
            yield from reachable(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            yield from reachable(item, f"{where}[{i}]")


def test_a_whole_plan_is_read_only_all_the_way_down() -> None:
    from tests.unit.rules.test_decide_purity import RUN, world

    plan = decide.plan(world(), RUN)
    seen = list(reachable(plan))
    kinds = {type(v).__name__ for _, v in seen}
    assert {"FlowFolder", "FlowSpec", "ImagePlan", "DeploymentPlan", "DeploymentSpec"} <= kinds
    assert {"ServerState", "ExistingDeployment", "Pool", "BuildRecipe", "Retention"} <= kinds
    mutable = [
        (path, type(v).__name__)
        for path, v in seen
        if (isinstance(v, (list, set, dict)) and not isinstance(v, FrozenMap))
        or (
            dataclasses.is_dataclass(v)
            and not isinstance(v, type)
            and not type(v).__dataclass_params__.frozen  # type: ignore[attr-defined]
        )
    ]
    assert mutable == []
    for value in (plan, plan.folders[0], plan.images[0], plan.deployments[0]):
        name = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, getattr(value, name))
