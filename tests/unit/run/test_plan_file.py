"""The plan file: written and read back whole, without a secret value, and the pure check
of what moved since (the real stack: tests/integration/test_plan_file.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import ConfigurationError, PlanMovedError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import DeploymentConfig, ImageAnswer, Plan
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.plan_file import HIDDEN, dump, load, refusals, what_moved
from tests.unit.rules.test_decide import OPTIONS as DECIDE_OPTIONS
from tests.unit.rules.test_decide import deployed, folder, inputs, managed

OPTIONS = replace(DECIDE_OPTIONS, repository="acme/flows")  # prunes only what it recorded


def planned() -> tuple[Plan, Plan]:
    """A first plan (creates), and one against the server that first plan made (unchanged,
    an update, a removal), with schedules, triggers and a pool to read back."""
    config = DeploymentConfig(
        entrypoint="flow.py:daily", schedules=({"cron": "0 6 * * *"},), tags=("t",),
        parameters={"a": 1}, line=3, lines={"schedules": 4},
    )  # fmt: skip
    daily = folder("daily", deployment_configs=[config])
    takes_a = {"properties": {"a": {"type": "integer"}}, "type": "object"}
    daily = replace(daily, flows=[replace(daily.flows[0], parameter_schema=takes_a)])
    weekly = folder("weekly", "etl", "report")
    first = decide.plan(inputs(daily, weekly), OPTIONS)
    server = [deployed(d.spec, id=d.full_name) for d in first.deployments if d.spec]
    server[1] = replace(server[1], comparable={**server[1].comparable, "description": "x"})
    server.append(managed("old/sales", "sales/gone", "repo:acme/flows"))
    answers = {
        daily.key: ImageAnswer("r/sales/daily", "tag1", {"file:flow.py": "a"}, digest="sha256:9")
    }
    again = decide.plan(inputs(daily, weekly, server=server, answers=answers), OPTIONS)
    return first, again


def written(plan: Plan, tmp_path: Path, options=OPTIONS) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.json"
    path.write_text(dump(plan, options))
    return path


def test_a_plan_is_read_back_exactly_as_it_was_written(tmp_path: Path) -> None:
    first, again = planned()
    assert {d.action for d in again.deployments} == {"unchanged", "update", "orphan"}
    for plan in (first, again):
        saved = load(written(plan, tmp_path))
        assert saved.plan == plan
        assert saved.version == 3 and saved.options["registry"] == "r"


def test_the_file_holds_no_secret_value(tmp_path: Path) -> None:
    _, plan = planned()
    secrets = ["p4ssw0rd-registry", "pnu_apikey123", "s3cret-index-token", "npm-t0ken-value"]
    options = replace(
        OPTIONS, registry_password=secrets[0], prefect_api_key=secrets[1],
        build_secrets={"index": secrets[2]},
    )  # fmt: skip
    key = plan.images[0].folder.key
    recipe = replace(plan.recipes[key], build_args={"NPM_TOKEN": secrets[3], "PY": "3.12"})
    plan = replace(plan, recipes={**plan.recipes, key: recipe})
    for value in secrets[:3]:
        log.mask(value)  # as the CLI and the action do before anything is printed
    text = written(plan, tmp_path, options).read_text()
    assert not [s for s in secrets if s in text]
    saved = load(tmp_path / "plan.json")
    assert saved.plan.recipes[key].build_args == {"NPM_TOKEN": HIDDEN, "PY": "3.12"}
    assert saved.options["build_secrets"] == ["index"]  # ids only


def test_a_file_that_is_not_a_plan_of_this_version_is_refused_by_name(tmp_path: Path) -> None:
    path = written(planned()[0], tmp_path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "version": 1}))
    with pytest.raises(ConfigurationError, match=r"plan\.json: a plan file of version 1"):
        load(path)
    path.write_text("{}")
    with pytest.raises(ConfigurationError, match="not a plan file"):
        load(path)


# -- what moved ------------------------------------------------------------------------------


def test_nothing_moved_when_the_world_is_as_the_plan_saw_it(tmp_path: Path) -> None:
    _, plan = planned()
    assert what_moved(load(written(plan, tmp_path)), plan, OPTIONS) == []


def test_an_edited_folder_is_a_repository_move(tmp_path: Path) -> None:
    first, _ = planned()
    saved = load(written(first, tmp_path))
    weekly = next(f for f in first.folders if f.name == "weekly")
    edited = ImageAnswer("r/sales/weekly", "tag2", {"file:flow.py": "b"})
    fresh = decide.plan(inputs(*first.folders, answers={weekly.key: edited}), OPTIONS)
    assert what_moved(saved, fresh, OPTIONS) == [
        "repository: sales/weekly changed (file:flow.py): content tag tag1 → tag2"
    ]
    gone = decide.plan(inputs(*[f for f in first.folders if f.name != "weekly"]), OPTIONS)
    assert "repository: sales/weekly is gone" in what_moved(saved, gone, OPTIONS)


def test_an_image_gone_from_the_registry_is_a_registry_move(tmp_path: Path) -> None:
    _, plan = planned()
    saved = load(written(plan, tmp_path))
    fresh = decide.plan(
        inputs(*plan.folders, server=list(plan.snapshot.deployments.values())), OPTIONS
    )  # type: ignore[union-attr]
    assert what_moved(saved, fresh, OPTIONS) == [
        "registry: r/sales/daily:tag1 is gone (the plan uses it as it is)"
    ]


def test_a_deployment_changed_created_or_deleted_on_the_server_is_a_server_move(
    tmp_path: Path,
) -> None:
    first, plan = planned()
    saved = load(written(plan, tmp_path))
    assert plan.snapshot is not None
    server = dict(plan.snapshot.deployments)
    answers = {
        i.folder.key: ImageAnswer(i.repository, i.tag, i.inputs, i.digest) for i in plan.images
    }

    def world(deployments: dict) -> Plan:  # type: ignore[type-arg]
        return decide.plan(
            inputs(*first.folders, server=list(deployments.values()), answers=answers), OPTIONS
        )

    etl = server["etl/sales"]
    by_hand = {**server, "etl/sales": replace(etl, comparable={**etl.comparable, "paused": True})}
    assert what_moved(saved, world(by_hand), OPTIONS) == [
        "server: the deployment etl/sales was changed since the plan"
    ]
    deleted = {k: v for k, v in server.items() if k != "etl/sales"}
    assert what_moved(saved, world(deleted), OPTIONS) == [
        "server: the deployment etl/sales was deleted since the plan"
    ]
    created = {**server, "new/sales": managed("new/sales", "sales/new")}
    assert what_moved(saved, world(created), OPTIONS) == [
        "server: the deployment new/sales was created since the plan"
    ]
    other_tenant = {**server, "x/sales": managed("x/sales", "sales/x", "tenant:dev")}
    assert what_moved(saved, world(other_tenant), OPTIONS) == []  # not this plan's business


def test_other_options_than_the_plan_s_are_refused(tmp_path: Path) -> None:
    _, plan = planned()
    saved = load(written(plan, tmp_path))
    assert what_moved(saved, plan, replace(OPTIONS, prune=True)) == [
        "options: prune was False for the plan and is True now"
    ]


# -- a file edited by someone else -----------------------------------------------------------


def edited(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    _, plan = planned()
    path = written(plan, tmp_path)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def test_an_entry_given_twice_is_refused_whichever_copy_comes_first(tmp_path: Path) -> None:
    def twice(data: dict) -> None:  # type: ignore[type-arg]
        removal = next(d for d in data["plan"]["deployments"] if d["action"] == "orphan")
        data["plan"]["deployments"].insert(0, {**removal, "deployment_id": "hand-made"})

    with pytest.raises(PlanMovedError, match="deployments: old/sales is in the plan twice"):
        load(edited(tmp_path, twice))


def test_a_field_no_plan_has_is_refused_at_its_path(tmp_path: Path) -> None:
    def extra(data: dict) -> None:  # type: ignore[type-arg]
        data["plan"]["deployments"][0]["spec"]["pull_steps"] = [{"run": "sh"}]

    with pytest.raises(
        PlanMovedError, match=r"plan\.deployments\[0\]\.spec\.pull_steps: unknown field"
    ):
        load(edited(tmp_path, extra))


def test_a_key_given_twice_in_one_object_is_refused(tmp_path: Path) -> None:
    _, plan = planned()
    path = written(plan, tmp_path)
    text = path.read_text().replace('"version": 3,', '"version": 3, "version": 3,', 1)
    path.write_text(text)
    with pytest.raises(PlanMovedError, match="the key 'version' is given twice"):
        load(path)


def test_a_field_that_matters_edited_is_a_hash_mismatch(tmp_path: Path) -> None:
    def privileged(data: dict) -> None:  # type: ignore[type-arg]
        data["plan"]["deployments"][0]["spec"]["job_variables"] = {"privileged": True}

    with pytest.raises(PlanMovedError, match="does not have the hash it records"):
        load(edited(tmp_path, privileged))


def test_a_fresh_plan_with_another_pool_template_moved(tmp_path: Path) -> None:
    _, plan = planned()
    name = plan.deployments[0].spec.work_pool  # type: ignore[union-attr]
    pool = Pool(name, "docker", {"variables": {"properties": {"image": {}}}}, exists=False)
    plan = replace(plan, pools={name: pool})
    saved = load(written(plan, tmp_path))
    privileged = {"variables": {"properties": {"image": {}, "privileged": {"default": True}}}}
    fresh = replace(plan, pools={name: replace(pool, template=privileged)})
    assert what_moved(saved, fresh, OPTIONS) == [
        f"pools: {name} (its type, template or creation) differs from what the server holds "
        "or would create now"
    ]


def test_references_outside_the_registry_are_refused(tmp_path: Path) -> None:
    _, plan = planned()
    saved = load(written(plan, tmp_path))
    assert refusals(saved, OPTIONS) == []
    image = replace(plan.images[0], repository="docker.io/evil/image")
    forged = replace(saved, plan=replace(plan, images=[image, *plan.images[1:]]))
    found = refusals(forged, OPTIONS)
    assert found[0].startswith(f"images: {image.folder.key} names docker.io/evil/image:")
    assert found[0].endswith("outside this run's registry r (its image is r/sales/daily)")
    assert [line.split(" would run ")[0] for line in found[1:]] == [
        f"deployments: {d.full_name}"
        for d in plan.deployments
        if d.spec and d.folder_key == image.folder.key and d.action != "unchanged"
    ]


def test_the_plan_s_own_decisions_are_read_back(tmp_path: Path) -> None:
    """Orphans and removals, keep-images' policy, the pools to create, each image's check
    and cache source, version_info: the file holds every decision (format version 3)."""
    _, again = planned()
    keeping = replace(OPTIONS, keep_images=1, prune=True)
    plan = replace(
        again,
        retention=decide.plan(inputs(folder("daily")), keeping).retention,
        pools_to_create=[Pool("new", "docker", {"variables": {}}, exists=False)],
        images=[replace(i, check=True, cache_from="r/sales/daily:old") for i in again.images],
        version_info=True,
    )
    assert plan.retention is not None
    saved = load(written(plan, tmp_path, keeping))
    assert saved.plan == plan and saved.plan.retention == plan.retention
