"""The structural checks of a plan file, on plain data."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from prefect_flow_deploy.rules.plan_file_checks import (
    DuplicateKey,
    duplicate_entries,
    duplicate_keys,
    outside_registry,
    unknown_fields,
)
from tests.unit.run.test_plan_file import planned


def test_a_key_twice_in_an_object_is_named() -> None:
    with pytest.raises(DuplicateKey, match="the key 'a' is given twice"):
        json.loads('{"a": 1, "b": {"a": 2}, "a": 3}', object_pairs_hook=duplicate_keys)
    assert json.loads('{"a": {"a": 1}}', object_pairs_hook=duplicate_keys) == {"a": {"a": 1}}


def test_unknown_fields_are_found_at_any_depth() -> None:
    known = {"a": 1, "b": [{"c": 1}, {"c": 2}], "d": {"free": {"x": 1}}}
    given = {"a": 1, "b": [{"c": 1}, {"c": 2, "e": 3}], "d": {"free": {"x": 1}}, "f": 0}
    assert unknown_fields(given, known) == ["b[1].e", "f"]
    assert unknown_fields(known, known) == []


def test_every_entry_a_deploy_acts_on_is_unique() -> None:
    _, plan = planned()
    assert duplicate_entries(plan) == []
    removal = next(d for d in plan.deployments if d.action == "orphan")
    twice = replace(
        plan,
        images=[*plan.images, plan.images[0]],
        deployments=[*plan.deployments, replace(removal, full_name="other/x")],
    )
    assert duplicate_entries(twice) == [
        f"deployments: the deployment id {removal.deployment_id} is in the plan twice",
        f"images: {plan.images[0].folder.key} is in the plan twice",
    ]
    failed = [replace(d, action="failed") for d in plan.deployments if d.spec]
    assert duplicate_entries(replace(plan, deployments=failed * 2)) == []  # acted on by none


def test_only_this_run_s_images_under_its_registry() -> None:
    _, plan = planned()
    assert outside_registry(plan, "r") == []
    assert outside_registry(plan, "other.example.com/flows")[0].startswith(
        f"images: {plan.images[0].folder.key} names r/"
    )
