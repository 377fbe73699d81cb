"""Deployment triggers as `prefect deploy` makes them (a default name, an automation that runs
the deployment, the managed-by tag), reconciled by name: an unchanged trigger is not
written, a second automation of one name is removed, a user's own untagged one is left."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from prefect_flow_deploy.core.model import MANAGED_TAG
from prefect_flow_deploy.deployment.triggers import (
    TriggerError,
    automations,
    run_deployment_id,
    trigger_writes,
    with_server_enabled,
)

DEPLOYMENT_ID = "7e5efc54-013d-43a9-bfc1-9375daebd30e"
TRIGGER = {"type": "event", "expect": ["acme.file.uploaded"]}


def spec(*triggers: dict[str, Any]) -> Any:
    return SimpleNamespace(name="sales", triggers=list(triggers))


def existing(*owned: dict[str, Any]) -> Any:
    return SimpleNamespace(id=DEPLOYMENT_ID, automations=list(owned))


def test_the_deployment_an_automation_runs() -> None:
    runs = {"type": "run-deployment", "deployment_id": DEPLOYMENT_ID}
    assert run_deployment_id({"actions": [runs]}) == DEPLOYMENT_ID
    assert run_deployment_id({"actions": [runs, {"type": "cancel-flow-run"}]}) is None
    assert run_deployment_id({"actions": [{"type": "send-notification"}]}) is None
    assert run_deployment_id({}) is None


def test_triggers_are_named_and_keep_the_server_s_switch_unless_the_file_says() -> None:
    owned = [{"name": "sales__automation_1", "enabled": False}]
    named = with_server_enabled([TRIGGER, {**TRIGGER, "enabled": True}], "sales", owned)
    assert [(t["name"], t.get("enabled")) for t in named] == [
        ("sales__automation_1", False),
        ("sales__automation_2", True),
    ]
    assert with_server_enabled([{**TRIGGER, "name": "mine"}], "sales", owned)[0]["name"] == "mine"


def test_a_trigger_becomes_a_tagged_automation_that_runs_the_deployment() -> None:
    [(name, automation)] = automations(spec(TRIGGER), DEPLOYMENT_ID).items()
    assert name == "sales__automation_1" and automation["name"] == name
    assert automation["tags"] == [MANAGED_TAG]
    assert run_deployment_id(automation) == DEPLOYMENT_ID


def test_a_trigger_prefect_rejects_is_said_in_its_words() -> None:
    with pytest.raises(TriggerError, match="invalid trigger 'sales__automation_1'"):
        automations(spec({"type": "no-such-trigger"}), None)


def test_only_what_differs_is_written() -> None:
    assert trigger_writes(spec(), None) == []
    assert trigger_writes(spec(TRIGGER), None) == [("create", "sales__automation_1", None)]
    same = {**automations(spec(TRIGGER), DEPLOYMENT_ID)["sales__automation_1"], "id": "a1"}
    assert trigger_writes(spec(TRIGGER), existing(same)) == []
    changed = {**TRIGGER, "expect": ["acme.file.deleted"]}
    assert trigger_writes(spec(changed), existing(same)) == [
        ("update", "sales__automation_1", "a1")
    ]


def test_duplicates_and_unwanted_ones_of_ours_go_a_user_s_own_stays() -> None:
    ours = {**automations(spec(TRIGGER), DEPLOYMENT_ID)["sales__automation_1"], "id": "a1"}
    again = {**ours, "id": "a2", "created": "later"}
    old = {**ours, "name": "sales__automation_9", "id": "a9"}
    users = {**ours, "name": "by-hand", "id": "u1", "tags": []}
    writes = trigger_writes(spec(TRIGGER), existing(ours, again, old, users))
    assert sorted(writes) == [
        ("remove", "sales__automation_1", "a2"),
        ("remove", "sales__automation_9", "a9"),
    ]
