"""What users set by hand on the server stays theirs; what prefect.yaml says explicitly wins.
Against the real local Prefect server: the UI's own calls (pause, a schedule's switch, an
automation's switch) are made through the REST API, then the repository is deployed again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, plan, server_api, server_deployment

pytestmark = pytest.mark.stack

TRIGGER = """    triggers:
      - name: {name}
        match: {{prefect.resource.id: "prefect.flow-run.*"}}
        expect: [prefect.flow-run.Failed]
        threshold: {threshold}
        within: 0
"""


def owned_automations(deployment_id: str) -> dict[str, dict[str, Any]]:
    """The automations the server relates to the deployment (owned by it, or running it),
    by name."""
    with server_api() as client:
        response = client.get(f"automations/related-to/prefect.deployment.{deployment_id}")
        response.raise_for_status()
        return {a["name"]: a for a in response.json()}


def write_yaml(folder: Path, *extra: str) -> None:
    (folder / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:hand\n" + "".join(extra)
    )


# prefect.yaml is not in the image (the default recipe leaves it out): editing it changes
# only what it says, never the image (job_variables' image, version).


def touch(folder: Path) -> None:
    """A code change: a new image, a new version, so the deployment is written."""
    flow = folder / "flow.py"
    flow.write_text(flow.read_text() + "\n# changed\n")


def test_ui_pause_schedule_switch_and_trigger_switch_survive_a_deploy(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "hand"), "hand")
    write_yaml(
        folder,
        "    schedules:\n      - cron: '0 6 * * *'\n      - interval: 3600\n",
        TRIGGER.format(name="on-failure", threshold=1),
    )
    [created] = deploy(scenario, stack).results
    assert created.status == "created"
    name = f"hand/{scenario.project('p')}"
    before = server_deployment(name)
    [automation] = owned_automations(before["id"]).values()
    assert not before["paused"] and all(s["active"] for s in before["schedules"])

    # What a user does in the UI.
    cron = next(s for s in before["schedules"] if s["schedule"].get("cron"))
    with server_api() as client:
        client.post(f"deployments/{before['id']}/pause_deployment").raise_for_status()
        client.patch(
            f"deployments/{before['id']}/schedules/{cron['id']}", json={"active": False}
        ).raise_for_status()
        client.patch(f"automations/{automation['id']}", json={"enabled": False}).raise_for_status()
    switched = owned_automations(before["id"])["on-failure"]

    touch(folder)
    [planned] = plan(scenario, stack).deployments
    new_image = ["job_variables", "version"]  # the image and its content tag, nothing else
    assert planned.action == "update" and sorted(planned.changed_fields) == new_image
    [row] = deploy(scenario, stack).results
    assert (row.status, sorted(row.changed_fields)) == ("updated", new_image)
    after = server_deployment(name)
    assert after["version"] != before["version"]
    assert after["paused"] is True
    assert {s["id"]: s["active"] for s in after["schedules"]} == {
        s["id"]: s["id"] != cron["id"] for s in before["schedules"]
    }  # the same schedules, not recreated; the one switched off is still off
    [kept] = owned_automations(after["id"]).values()
    assert kept == switched  # still off, and not written (the same `updated`)

    # prefect.yaml says so explicitly: the file wins, and the plan says old → new.
    write_yaml(
        folder,
        "    paused: false\n",
        "    schedules:\n      - cron: '0 6 * * *'\n        active: true\n      - interval: 3600\n",
        TRIGGER.format(name="on-failure", threshold=1).replace(
            "within: 0", "within: 0\n        enabled: true"
        ),
    )
    [planned] = plan(scenario, stack).deployments
    assert planned.changes["paused"] == (True, False)
    assert set(planned.changed_fields) == {"paused", "schedules", "triggers"}  # no new image
    assert planned.trigger_writes == (("update", "on-failure", automation["id"]),)
    deploy(scenario, stack)
    final = server_deployment(name)
    assert final["paused"] is False and all(s["active"] for s in final["schedules"])
    [enabled] = owned_automations(final["id"]).values()
    assert enabled["id"] == automation["id"] and enabled["enabled"] is True

    # Nothing left to change: no write at all.
    again = deploy(scenario, stack)
    assert again.counters.deployment_writes == 0
    assert owned_automations(final["id"])["on-failure"]["updated"] == enabled["updated"]


def test_triggers_are_created_updated_and_removed_by_name(stack: Stack, scenario: Scenario) -> None:
    folder = write_flow(scenario.folder("p", "hand"), "hand")
    write_yaml(
        folder,
        TRIGGER.format(name="keep", threshold=1),
        TRIGGER.format(name="change", threshold=1).replace("    triggers:\n", ""),
        TRIGGER.format(name="drop", threshold=1).replace("    triggers:\n", ""),
    )
    [row] = deploy(scenario, stack).results
    first = owned_automations(str(row.deployment_id))
    assert sorted(first) == ["change", "drop", "keep"]
    assert first["keep"]["actions"][0]["deployment_id"] == row.deployment_id

    write_yaml(
        folder,
        TRIGGER.format(name="keep", threshold=1),
        TRIGGER.format(name="change", threshold=3).replace("    triggers:\n", ""),
        TRIGGER.format(name="new", threshold=1).replace("    triggers:\n", ""),
    )
    [planned] = plan(scenario, stack).deployments
    assert set(planned.changed_fields) == {"triggers"}
    assert sorted((a, n) for a, n, _ in planned.trigger_writes) == [
        ("create", "new"),
        ("remove", "drop"),
        ("update", "change"),
    ]
    deploy(scenario, stack)
    second = owned_automations(str(row.deployment_id))
    assert sorted(second) == ["change", "keep", "new"]
    assert second["keep"]["id"] == first["keep"]["id"]
    assert second["keep"]["updated"] == first["keep"]["updated"]  # unchanged: not written
    assert second["change"]["id"] == first["change"]["id"]
    assert second["change"]["trigger"]["threshold"] == 3

    write_yaml(folder)  # no triggers: every one this deployment owns goes
    deploy(scenario, stack)
    assert owned_automations(str(row.deployment_id)) == {}


def test_empty_schedules_remove_them_and_an_absent_key_keeps_them(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "hand"), "hand")
    write_yaml(folder, "    schedules:\n      - cron: '0 6 * * *'\n")
    deploy(scenario, stack)
    name = f"hand/{scenario.project('p')}"
    assert len(server_deployment(name)["schedules"]) == 1

    write_yaml(folder)  # no `schedules:` at all: they are the user's to keep
    [row] = deploy(scenario, stack).results
    # prefect.yaml is not in the image (43d0588): the edit changes nothing to write.
    assert (row.status, row.changed_fields) == ("unchanged", [])
    assert len(server_deployment(name)["schedules"]) == 1

    write_yaml(folder, "    schedules: []\n")
    [planned] = plan(scenario, stack).deployments
    assert set(planned.changed_fields) == {"schedules"}
    deploy(scenario, stack)
    assert server_deployment(name)["schedules"] == []


def test_concurrency_options_and_work_queue_are_honoured(stack: Stack, scenario: Scenario) -> None:
    folder = write_flow(scenario.folder("p", "hand"), "hand")
    write_yaml(
        folder,
        "    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW}\n",
        f"    work_pool: {{name: {scenario.work_pool}, work_queue_name: high}}\n",
    )
    deploy(scenario, stack)
    name = f"hand/{scenario.project('p')}"
    data = server_deployment(name)
    assert data["global_concurrency_limit"]["limit"] == 2
    assert data["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert data["work_queue_name"] == "high" and data["work_pool_name"] == scenario.work_pool
    assert deploy(scenario, stack).counters.deployment_writes == 0

    write_yaml(
        folder,
        "    concurrency_limit: {limit: 2, collision_strategy: ENQUEUE}\n",
        f"    work_pool: {{name: {scenario.work_pool}, work_queue_name: low}}\n",
    )
    [planned] = plan(scenario, stack).deployments
    assert planned.changes["work_queue_name"] == ("high", "low")
    assert planned.changes["concurrency_options"] == (
        {"collision_strategy": "CANCEL_NEW"},
        {"collision_strategy": "ENQUEUE"},
    )
    deploy(scenario, stack)
    data = server_deployment(name)
    assert data["work_queue_name"] == "low"
    assert data["concurrency_options"]["collision_strategy"] == "ENQUEUE"
