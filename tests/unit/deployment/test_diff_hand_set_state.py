"""Pure decisions about state users set by hand: the server's value is kept where
prefect.yaml is silent, the file's where it speaks; triggers reconcile by name."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import MANAGED_TAG, DeploymentSpec
from prefect_flow_deploy.deployment.diff import diff, existing_from_json
from prefect_flow_deploy.deployment.triggers import automations, trigger_writes
from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml

DEPLOYMENT_ID = "7e5efc54-013d-43a9-bfc1-9375daebd30e"
TRIGGER = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "expect": ["x.Failed"]}


def spec(**fields: Any) -> DeploymentSpec:
    base = DeploymentSpec(
        flow_name="etl", name="sales", folder_key="sales/etl", project="sales",
        entrypoint="flow.py:etl", work_pool="pool", image="r/sales/etl:abc",
        code_dir="/opt/prefect/flows/sales/etl", version="abc", tags=[MANAGED_TAG],
        job_variables={"image": "r/sales/etl:abc"},
    )  # fmt: skip
    return replace(base, **fields)


def server(wanted: DeploymentSpec, **fields: Any) -> dict[str, Any]:
    """The API's JSON for a deployment that matches `wanted`, with `fields` changed."""
    data = {
        "id": DEPLOYMENT_ID, "name": wanted.name, "description": "", "version": wanted.version,
        "tags": wanted.tags, "parameters": {}, "parameter_openapi_schema": {},
        "enforce_parameter_schema": True, "entrypoint": wanted.entrypoint, "path": None,
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {
            "directory": wanted.code_dir}}],
        "work_pool_name": wanted.work_pool, "work_queue_name": "default",
        "job_variables": wanted.job_variables, "global_concurrency_limit": None,
        "concurrency_options": None, "paused": False, "schedules": [],
    }  # fmt: skip
    return {**data, **fields}


def schedule(cron: str, active: bool) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "active": active, "parameters": {}, "slug": None,
        "schedule": {"cron": cron, "timezone": None, "day_or": True},
    }  # fmt: skip


def test_paused_in_the_ui_is_kept_unless_the_file_says_paused() -> None:
    wanted = spec()
    existing = existing_from_json(server(wanted, paused=True), "etl")
    assert diff(wanted, existing).action == "unchanged"
    explicit = diff(replace(wanted, paused=False), existing)
    assert (explicit.changed_fields, explicit.changes) == (("paused",), {"paused": (True, False)})


def test_a_schedule_switched_off_stays_off_unless_the_file_says_active() -> None:
    wanted = spec(schedules=[{"cron": "0 6 * * *"}, {"cron": "0 7 * * *"}])
    on_server = [schedule("0 7 * * *", True), schedule("0 6 * * *", False)]
    existing = existing_from_json(server(wanted, schedules=on_server), "etl")
    assert diff(wanted, existing).action == "unchanged"

    explicit = replace(
        wanted, schedules=[{"cron": "0 6 * * *", "active": True}, {"cron": "0 7 * * *"}]
    )
    planned = diff(explicit, existing)
    assert planned.changed_fields == ("schedules",)
    # The write carries the other schedule's hand-set value as it is.
    assert planned.spec is not None and list(planned.spec.schedules or ()) == [
        {"cron": "0 6 * * *", "active": True},
        {"cron": "0 7 * * *", "active": True},
    ]


def test_a_changed_schedule_keeps_the_switch_of_the_ones_that_stay() -> None:
    wanted = spec(schedules=[{"cron": "0 6 * * *"}, {"cron": "0 8 * * *"}])
    on_server = [schedule("0 6 * * *", False), schedule("0 7 * * *", True)]
    planned = diff(wanted, existing_from_json(server(wanted, schedules=on_server), "etl"))
    assert planned.changed_fields == ("schedules",)
    assert planned.spec is not None
    assert list(planned.spec.schedules or ()) == [
        {"cron": "0 6 * * *", "active": False},
        {"cron": "0 8 * * *"},
    ]


def test_no_schedules_key_keeps_the_server_s_and_an_empty_list_removes_them() -> None:
    on_server = [schedule("0 6 * * *", True)]
    unmanaged = spec(schedules=None)
    existing = existing_from_json(server(unmanaged, schedules=on_server), "etl")
    assert diff(unmanaged, existing).action == "unchanged"
    planned = diff(spec(schedules=[]), existing)
    assert planned.changed_fields == ("schedules",) and planned.changes["schedules"][1] == []


def test_work_queue_and_concurrency_options_compare_with_the_server() -> None:
    wanted = spec(
        work_queue_name="high", concurrency_limit=2,
        concurrency_options={"collision_strategy": "CANCEL_NEW", "grace_period_seconds": None},
    )  # fmt: skip
    same = server(
        wanted, work_queue_name="high", global_concurrency_limit={"limit": 2},
        concurrency_options={"collision_strategy": "CANCEL_NEW", "grace_period_seconds": None},
    )  # fmt: skip
    assert diff(wanted, existing_from_json(same, "etl")).action == "unchanged"
    moved = existing_from_json({**same, "work_queue_name": "low"}, "etl")
    assert diff(wanted, moved).changes == {"work_queue_name": ("low", "high")}
    # No queue in prefect.yaml: whichever queue the deployment is on stays.
    assert diff(replace(wanted, work_queue_name=None), moved).action == "unchanged"


def test_prefect_yaml_reads_the_new_fields_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(
        "deployments:\n"
        "  - entrypoint: flow.py:etl\n"
        "    schedules: []\n"
        "    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW}\n"
        "    work_pool:\n"
        "      name: k8s\n"
        "      work_queue_name: high\n"
        "      job_variables:\n"
        "        namespace: flows\n"
        "    triggers:\n"
        "      - expect: [prefect.flow-run.Failed]\n"
    )
    [config], problems = read_prefect_yaml(path)
    assert problems == []
    assert config.schedules == () and config.paused is None
    assert (config.concurrency_limit, config.concurrency_options) == (
        2,
        {"collision_strategy": "CANCEL_NEW", "grace_period_seconds": None},
    )
    assert config.work_queue_name == "high"
    assert config.triggers == ({"expect": ["prefect.flow-run.Failed"]},)
    assert config.lines["triggers"] == 10 and config.lines["job_variables.namespace"] == 9


def test_a_bad_collision_strategy_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(
        "deployments:\n  - entrypoint: flow.py:etl\n"
        "    concurrency_limit: {limit: 2, collision_strategy: QUEUE}\n"
    )
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and problem.line == 3 and "ENQUEUE or CANCEL_NEW" in problem.message


def on_server(wanted: DeploymentSpec, **changes: Any) -> list[dict[str, Any]]:
    """The automations Prefect would hold for these triggers, as the API's JSON."""
    made = automations(wanted, DEPLOYMENT_ID)
    return [
        {**a, "id": f"id-{name}", "created": "2026-01-01", **changes.get(name, {})}
        for name, a in made.items()
    ]


def existing_with(automations_json: list[dict[str, Any]]) -> Any:
    return replace(existing_from_json(server(spec()), "etl"), automations=automations_json)


def test_unchanged_triggers_are_not_written_and_default_names_follow_prefect() -> None:
    wanted = spec(triggers=[dict(TRIGGER), {**TRIGGER, "name": "named"}])
    assert sorted(automations(wanted, DEPLOYMENT_ID)) == ["named", "sales__automation_1"]
    assert trigger_writes(wanted, existing_with(on_server(wanted))) == []


def test_triggers_reconcile_by_name() -> None:
    before = spec(triggers=[{**TRIGGER, "name": "a"}, {**TRIGGER, "name": "b"}])
    after = spec(triggers=[{**TRIGGER, "name": "a", "threshold": 2}, {**TRIGGER, "name": "c"}])
    writes = trigger_writes(after, existing_with(on_server(before)))
    assert sorted(writes) == [
        ("create", "c", None),
        ("remove", "b", "id-b"),
        ("update", "a", "id-a"),
    ]


def test_a_trigger_switched_off_stays_off_unless_the_file_says_enabled() -> None:
    wanted = spec(triggers=[{**TRIGGER, "name": "a"}])
    switched_off = existing_with(on_server(wanted, a={"enabled": False}))
    assert diff(wanted, switched_off).trigger_writes == ()
    explicit = spec(triggers=[{**TRIGGER, "name": "a", "enabled": True}])
    assert diff(explicit, switched_off).trigger_writes == (("update", "a", "id-a"),)


def test_an_automation_without_our_tag_is_never_removed() -> None:
    theirs = on_server(spec(triggers=[{**TRIGGER, "name": "users-own"}]))
    theirs[0]["tags"] = []
    assert trigger_writes(spec(), existing_with(theirs)) == []


def test_a_changed_schedule_only_prefect_reads_is_shown_as_prefect_reads_it() -> None:
    """An rrule and an anchored interval are compared through Prefect; the plan's new value
    showed them as `"schedule": null` beside an edited cron, which a reviewer read as two
    schedules emptied (the write was right)."""
    configs = (
        {"cron": "0 1 * * *"},
        {"interval": 3600, "anchor_date": "2024-06-01T03:00:00Z"},
        {"rrule": "FREQ=DAILY;BYHOUR=5"},
    )
    wanted = spec(schedules=configs)
    on_server = [schedule("0 0 * * *", True)]
    planned = diff(wanted, existing_from_json(server(wanted, schedules=on_server), "etl"))
    _, new = planned.changes["schedules"]
    shown = [entry["schedule"] for entry in new]
    assert shown[0]["cron"] == "0 1 * * *"
    assert shown[1]["interval"] == 3600.0 and shown[1]["anchor_date"].startswith("2024-06-01")
    assert "FREQ=DAILY;BYHOUR=5" in shown[2]["rrule"]
