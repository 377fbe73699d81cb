"""The table of deployment fields: reading, comparing and writing loop over it, so a field is
one entry; and the bodies it writes keep to what the oldest supported server (3.2.0) takes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_flow_deploy.clients.registration import create_payload, update_body
from prefect_flow_deploy.core.model import DeploymentSpec, FlowFolder, FlowSpec, ImagePlan
from prefect_flow_deploy.deployment import field_loops
from prefect_flow_deploy.deployment import fields as deployment_fields
from prefect_flow_deploy.deployment.diff import diff, existing_from_json
from prefect_flow_deploy.deployment.field_readers import typed
from prefect_flow_deploy.deployment.field_types import DeploymentField
from prefect_flow_deploy.deployment.fields import FIELDS
from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml
from prefect_flow_deploy.reports.terminal import desired
from prefect_flow_deploy.rules.refusals import refusal
from prefect_flow_deploy.rules.specs import deployment_specs
from prefect_flow_deploy.settings.options import Options

from ...prefect_versions import newest_allowed

CODE_DIR = "/opt/prefect/flows/sales/daily"
PULL_STEPS = [{"prefect.deployments.steps.set_working_directory": {"directory": CODE_DIR}}]
FLOW_ID = uuid.UUID("7e5efc54-013d-43a9-bfc1-9375daebd30e")


def folder_reading(tmp_path: Path, entry: str) -> FlowFolder:
    """A folder with one flow and a prefect.yaml of one entry (its lines after entrypoint)."""
    path = tmp_path / "prefect.yaml"
    path.write_text("deployments:\n  - entrypoint: flow.py:etl\n" + entry)
    configs, problems = read_prefect_yaml(path)
    assert problems == []
    flow = FlowSpec("etl", "etl", "flow.py", 3, {"properties": {}})
    return FlowFolder(
        "sales", "daily", tmp_path, [flow], prefect_yaml=path, deployment_configs=configs
    )


def wanted(folder: FlowFolder) -> DeploymentSpec:
    image = ImagePlan(folder, "r/sales/daily", "abc123", {}, "build", code_dir=CODE_DIR)
    [spec], _ = deployment_specs(folder, image, Options(work_pool="pool"))
    return spec


def on_server(spec: DeploymentSpec, **fields: Any) -> dict[str, Any]:
    """The API's JSON of a deployment equal to `spec`, with `fields` changed."""
    data = {
        "id": str(FLOW_ID), "name": spec.name, "description": "", "version": spec.version,
        "tags": list(spec.tags), "parameters": {}, "parameter_openapi_schema": {"properties": {}},
        "enforce_parameter_schema": True, "entrypoint": spec.entrypoint, "path": None,
        "pull_steps": PULL_STEPS, "work_pool_name": spec.work_pool, "work_queue_name": "default",
        "job_variables": spec.job_variables, "global_concurrency_limit": None,
        "concurrency_options": None, "paused": False, "schedules": [],
    }  # fmt: skip
    return {**data, **fields}


# A field Prefect's create and update bodies take and the table does not manage:
# registered as one entry, without an attribute of its own on the carriers.
STORAGE = DeploymentField(
    "storage_document_id",
    yaml="storage_document_id",
    read=typed("storage_document_id", str, "a block document id"),
)
OLD, NEW = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))


def test_a_new_field_is_one_entry_read_diffed_and_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployment_fields, "FIELDS", (*FIELDS, STORAGE))
    folder = folder_reading(tmp_path, f"    storage_document_id: '{NEW}'\n")
    [config] = folder.deployment_configs
    assert config.extra == {"storage_document_id": NEW}

    spec = wanted(folder)
    assert spec.extra == {"storage_document_id": NEW}
    planned = diff(spec, existing_from_json(on_server(spec, storage_document_id=OLD), "etl"))
    assert planned.changes == {"storage_document_id": (OLD, NEW)}
    same = existing_from_json(on_server(spec, storage_document_id=NEW), "etl")
    assert diff(spec, same).action == "unchanged"

    assert create_payload(spec, FLOW_ID)["storage_document_id"] == NEW
    update = update_body(spec, planned.changed_fields)
    assert update is not None  # with the tags, which every PATCH rewrites (the commit record)
    assert update.model_dump(mode="json", exclude_unset=True) == {
        "storage_document_id": NEW, "tags": list(spec.tags),
    }  # fmt: skip


def test_an_empty_definitions_key_is_no_schema_change(tmp_path: Path) -> None:
    """Prefect's model_dump_for_openapi writes `definitions: {}`; a deployment `prefect
    deploy` made holds no such key. Taking one over was listed as a schema change
    for every flow (tig0826/prefect-workflow); a real change still is one."""
    folder = folder_reading(tmp_path, "")
    schema = {"title": "Parameters", "type": "object", "properties": {"n": {"type": "integer"}}}
    flow = replace(folder.flows[0], parameter_schema={**schema, "definitions": {}})
    spec = wanted(replace(folder, flows=[flow]))
    for held in (schema, {**schema, "definitions": {}}):
        existing = existing_from_json(on_server(spec, parameter_openapi_schema=held), "etl")
        assert diff(spec, existing).action == "unchanged", held
    other = {**schema, "definitions": {"Kind": {"enum": ["a"]}}}
    changed = diff(spec, existing_from_json(on_server(spec, parameter_openapi_schema=other), "etl"))
    assert changed.changed_fields == ("parameter_openapi_schema",)
    # Registered as `prefect deploy` registers it: no empty key (trial 2026-12-05 a 6: every
    # deployment differed from `prefect deploy`'s by it); a real one is sent.
    assert create_payload(spec, FLOW_ID)["parameter_openapi_schema"] == schema
    update = update_body(spec, ["parameter_openapi_schema"])
    assert update is not None and update.parameter_openapi_schema == schema
    spec = wanted(replace(folder, flows=[replace(flow, parameter_schema=other)]))
    assert create_payload(spec, FLOW_ID)["parameter_openapi_schema"] == other


def test_a_new_field_of_the_wrong_type_is_an_error_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployment_fields, "FIELDS", (*FIELDS, STORAGE))
    path = tmp_path / "prefect.yaml"
    path.write_text("deployments:\n  - entrypoint: flow.py:etl\n    storage_document_id: [1]\n")
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and problem.line == 3
    assert problem.message == "`storage_document_id` must be a block document id"


def test_without_the_entry_the_key_is_not_used_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text("deployments:\n  - entrypoint: flow.py:etl\n    storage_document_id: x\n")
    [config], [problem] = read_prefect_yaml(path)
    assert config.extra == {} and problem.severity == "warning" and problem.line == 3
    assert "`storage_document_id` is not used" in problem.message


def test_the_create_body_holds_no_null_a_3_2_0_server_would_refuse(tmp_path: Path) -> None:
    spec = wanted(folder_reading(tmp_path, ""))
    spec = replace(spec, parameter_schema={"properties": {}})
    body = create_payload(spec, FLOW_ID)
    assert body == {
        "flow_id": str(FLOW_ID), "name": "sales", "entrypoint": "flow.py:etl",
        "description": "", "tags": list(spec.tags), "parameters": {}, "concurrency_limit": None,
        "enforce_parameter_schema": True, "paused": False, "work_pool_name": "pool",
        "job_variables": {"image": "r/sales/daily:abc123"}, "schedules": [],
        "version": "abc123", "parameter_openapi_schema": {"properties": {}},
        "pull_steps": PULL_STEPS,
    }  # fmt: skip


def test_the_create_body_sends_newer_fields_when_the_file_sets_them(tmp_path: Path) -> None:
    folder = folder_reading(
        tmp_path,
        "    paused: true\n    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW}\n"
        "    work_pool: {name: other, work_queue_name: high}\n"
        "    schedules: [{cron: '0 6 * * *', active: false}]\n",
    )
    body = create_payload(wanted(folder), FLOW_ID)
    assert (body["paused"], body["work_pool_name"], body["work_queue_name"]) == (
        True, "other", "high",
    )  # fmt: skip
    assert body["concurrency_limit"] == 2
    # grace_period_seconds, at its default: a field Prefect 3.2's ConcurrencyOptions lacks
    # (its server takes none either).
    expected = {"collision_strategy": "CANCEL_NEW", "grace_period_seconds": None}
    if not newest_allowed():
        del expected["grace_period_seconds"]
    assert body["concurrency_options"] == expected
    [schedule] = body["schedules"]
    assert schedule["active"] is False and schedule["schedule"]["cron"] == "0 6 * * *"


def test_a_patch_sends_the_changed_fields_and_the_pool_with_the_queue(tmp_path: Path) -> None:
    spec = wanted(folder_reading(tmp_path, "    work_pool: {name: pool, work_queue_name: high}\n"))

    def patch(fields: list[str]) -> dict[str, Any] | None:
        update = update_body(spec, fields)
        if update is None:
            return None
        body: dict[str, Any] = update.model_dump(mode="json", exclude_unset=True)
        assert body.pop("tags") == list(spec.tags)  # every PATCH rewrites them (the commit record)
        return body

    assert patch(["work_queue_name"]) == {"work_queue_name": "high", "work_pool_name": "pool"}
    assert patch(["work_pool_name"]) == {"work_pool_name": "pool", "work_queue_name": "high"}
    assert patch(["path", "paused"]) == {"path": None, "paused": None}
    assert patch(["triggers"]) is None  # automations: written on their own


def test_a_patch_of_the_pool_alone_when_the_file_names_no_queue(tmp_path: Path) -> None:
    spec = wanted(folder_reading(tmp_path, "    work_pool: {name: other}\n"))
    update = update_body(spec, ["work_pool_name"])
    assert update is not None
    assert update.model_dump(mode="json", exclude_unset=True) == {
        "work_pool_name": "other", "tags": list(spec.tags),
    }  # fmt: skip


def test_the_plan_shows_the_table_s_shown_fields(tmp_path: Path) -> None:
    spec = wanted(
        folder_reading(
            tmp_path,
            "    paused: true\n    concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}\n"
            "    work_pool: {name: pool, work_queue_name: daily-jobs}\n",
        )
    )
    spec = replace(spec, parameter_schema=None)
    shown = desired(spec)
    assert shown is not None
    assert set(shown) == {f.shown for f in FIELDS if f.shown} | {"image"}
    assert shown["paused"] is True and shown["flow"] == "etl" and shown["work_pool"] == "pool"
    assert shown["parameter_schema"] == "computed after build"
    # What is registered besides the limit (prefeitura-rio: `desired` had no strategy).
    assert shown["concurrency_limit"] == 1
    assert shown["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert shown["work_queue_name"] == "daily-jobs"  # 9xxxxxx/meprefect: not in `desired`


def test_every_field_has_one_entry_and_says_why() -> None:
    names = [f.api for f in FIELDS]
    assert len(names) == len(set(names))
    assert all(f.note for f in FIELDS)
    assert field_loops.prefect_yaml_keys() == {
        "name", "entrypoint", "flow_name", "description", "tags", "parameters", "schedules",
        "schedule", "work_pool", "concurrency_limit", "enforce_parameter_schema", "paused",
        "version", "triggers",
    }  # fmt: skip


def test_a_refused_field_points_at_the_prefect_yaml_key_the_table_names(tmp_path: Path) -> None:
    folder = folder_reading(
        tmp_path,
        "    work_pool:\n      name: pool\n      job_variables:\n        cpu: lots\n"
        "    concurrency_limit: {limit: 1, collision_strategy: ENQUEUE}\n",
    )
    spec = wanted(folder)
    request = httpx.Request("POST", "http://prefect/api/deployments/")

    def refused(*loc: str) -> tuple[str, int | None]:
        # The shape of Prefect's 422 (prefect/server/api/server.py, validation_exception_handler).
        body = {"exception_detail": [{"loc": ["body", *loc], "msg": "Input should be valid"}]}
        response = httpx.Response(422, json=body, request=request)
        message, _, line = refusal(
            httpx.HTTPStatusError("422", request=request, response=response), spec
        )
        return message, line

    message, line = refused("job_variables", "cpu")
    assert line == 6 and "Fix `work_pool.job_variables` in prefect.yaml" in message
    message, line = refused("concurrency_options", "collision_strategy")
    assert line == 7 and "Fix `concurrency_limit` in prefect.yaml" in message
    message, line = refused("work_queue_name")
    assert line == 3 and "Fix `work_pool.work_queue_name` in prefect.yaml" in message


def test_each_field_is_found_by_its_api_name() -> None:
    """by_api looks fields up by name: no two may share one (the second would be lost)."""
    from prefect_flow_deploy.deployment import fields

    assert [fields.by_api(f.api) for f in fields.FIELDS] == list(fields.FIELDS)
    assert fields.by_api("no_such_field") is None
