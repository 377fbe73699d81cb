"""The pure planner: every rule of `decide.plan`, from plain data (folders as discovery reads
them, the registry's and the server's answers as gather would give them). No Docker, no
server, no registry: each test takes milliseconds. The same rules against the real stack:
tests/integration/test_deploy.py, test_ownership.py, test_changes.py."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import (
    MANAGED_TAG,
    BuildRecipe,
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImageAnswer,
    Plan,
    Problem,
)
from prefect_flow_deploy.core.results import outcome_rows, planned_rows
from prefect_flow_deploy.core.server_state import ExistingDeployment, Pool, ServerState
from prefect_flow_deploy.deployment.diff import existing_from_json
from prefect_flow_deploy.deployment.field_loops import wanted as comparable_desired
from prefect_flow_deploy.reading.discovery import UNREADABLE_PROJECT
from prefect_flow_deploy.reports.terminal import plan_rows
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.settings.options import Options

ROOT = Path("/repo/projects")
SCHEMA = {"properties": {}, "type": "object"}
OPTIONS = Options(projects_root=ROOT, registry="r", work_pool="pool")
POOL = Pool("pool", "docker", {"variables": {"properties": {"image": {}, "env": {}}}})


def folder(name: str, *flows: str, project: str = "sales", **fields: Any) -> FlowFolder:
    """A folder as discovery reads it: one @flow per name, in flow.py."""
    specs = [
        FlowSpec(flow, flow, "flow.py", 10 * (n + 1), SCHEMA)
        for n, flow in enumerate(flows or [name])
    ]
    return FlowFolder(project, name, ROOT / project / name, specs, **fields)


def recipe(f: FlowFolder) -> BuildRecipe:
    code_dir = f"/opt/prefect/flows/{f.project}/{f.name}"
    return BuildRecipe("FROM base", None, {}, [("base:1", 0)], {"flow.py": "d" * 64}, code_dir)


def inputs(
    *folders: FlowFolder,
    server: list[ExistingDeployment] = (),  # type: ignore[assignment]
    answers: dict[str, ImageAnswer] | None = None,
    other_folders: dict[str, frozenset[str]] | None = None,
    **fields: Any,
) -> Inputs:
    """What gather would read: every folder hashed, no image in the registry yet."""
    found = {
        f.key: ImageAnswer(f"r/{f.project}/{f.name}", "tag1", {"file:flow.py": "a" * 64})
        for f in folders
    }
    return Inputs(
        folders=tuple(folders),
        recipes={f.key: recipe(f) for f in folders},
        recipe_errors={},
        file_warnings={},
        images={**found, **(answers or {})},
        snapshot=ServerState({e.full_name: e for e in server}),
        pools={},  # the job-variable tests give theirs (judging them imports Prefect)
        other_folders=other_folders or {},
        api_url="http://prefect/api",
        **fields,
    )


def deployed(spec: DeploymentSpec, id: str = "d1", **changed: Any) -> ExistingDeployment:
    """The server's deployment exactly as `spec` wants it, with `changed` fields (API JSON)."""
    wanted = comparable_desired(spec)
    data = {
        "id": id, "name": spec.name, "tags": spec.tags, "parameters": wanted["parameters"],
        "parameter_openapi_schema": wanted["parameter_openapi_schema"],
        "enforce_parameter_schema": True, "entrypoint": spec.entrypoint, "path": None,
        "pull_steps": wanted["pull_steps"], "work_pool_name": spec.work_pool,
        "job_variables": spec.job_variables, "version": spec.version, "description": "",
        "work_queue_name": "default", "paused": False, "schedules": [],
        "global_concurrency_limit": None, "concurrency_options": None, **changed,
    }  # fmt: skip
    return existing_from_json(data, spec.flow_name)


def managed(full_name: str, folder_key: str, *tags: str, id: str = "old") -> ExistingDeployment:
    flow, _, name = full_name.partition("/")
    data = {"id": id, "name": name, "tags": [MANAGED_TAG, f"folder:{folder_key}", *tags]}
    return existing_from_json(data, flow)


def actions(plan: Plan) -> dict[str, str]:
    return {d.full_name: d.action for d in plan.deployments}


def first_plan(*folders: FlowFolder, options: Options = OPTIONS) -> Plan:
    return decide.plan(inputs(*folders), options)


# -- images ----------------------------------------------------------------------------------


def test_a_new_folder_is_built_and_its_flows_created_with_their_owner() -> None:
    daily = folder("daily", "etl", "report")
    plan = first_plan(daily, options=replace(OPTIONS, repository="acme/flows"))
    [image] = plan.images
    assert (image.action, image.reason) == ("build", "new: no deployed image for this folder yet")
    assert image.reference == "r/sales/daily:tag1"
    assert image.code_dir == "/opt/prefect/flows/sales/daily"  # the default recipe's
    assert actions(plan) == {"etl/sales": "create", "report/sales": "create"}
    assert {d.owner for d in plan.deployments} == {"acme/flows"}
    assert plan.recipes.keys() == {"sales/daily"} and plan.api_url == "http://prefect/api"


def test_an_image_in_the_registry_exists_and_an_unchanged_deployment_is_not_written() -> None:
    daily = folder("daily")
    [created] = first_plan(daily).deployments
    assert created.spec is not None
    world = inputs(
        daily,
        server=[deployed(created.spec)],
        answers={daily.key: ImageAnswer("r/sales/daily", "tag1", {}, digest="sha256:1")},
    )
    plan = decide.plan(world, OPTIONS)
    [image] = plan.images
    assert (image.action, image.digest) == ("exists", "sha256:1")
    assert "already in the registry" in image.reason
    [deployment] = plan.deployments
    assert (deployment.action, deployment.deployment_id) == ("unchanged", "d1")
    forced = decide.plan(world, replace(OPTIONS, force=True))
    assert (forced.images[0].action, forced.images[0].reason) == ("build", "--force")


def test_a_changed_field_is_an_update_with_its_old_and_new_value() -> None:
    daily = folder("daily")
    [created] = first_plan(daily).deployments
    assert created.spec is not None
    plan = decide.plan(
        inputs(daily, server=[deployed(created.spec, description="by hand", parameters={"a": 1})]),
        OPTIONS,
    )
    [update] = plan.deployments
    assert update.action == "update"
    assert sorted(update.changed_fields) == ["description", "parameters"]
    assert update.changes["description"] == ("by hand", "")
    assert update.changes["parameters"] == ({"a": 1}, {})


def test_why_an_image_is_built_names_the_inputs_that_changed() -> None:
    daily = folder("daily")
    [created] = first_plan(daily).deployments
    assert created.spec is not None
    running = deployed(replace(created.spec, image="r/sales/daily:tag0"))
    running = replace(running, image="r/sales/daily:tag0")
    answer = ImageAnswer(
        "r/sales/daily", "tag1", {"file:flow.py": "b" * 64, "file:new.py": "c" * 64},
        previous_inputs={"file:flow.py": "a" * 12},
    )  # fmt: skip
    plan = decide.plan(inputs(daily, server=[running], answers={daily.key: answer}), OPTIONS)
    assert plan.images[0].reason == "changed: flow.py, new.py (added)"
    moved = replace(running, image="elsewhere/daily:tag0")
    plan = decide.plan(inputs(daily, server=[moved], answers={daily.key: answer}), OPTIONS)
    assert (
        plan.images[0].reason
        == "the deployed image elsewhere/daily:tag0 is from another repository"
    )


def test_the_plan_says_where_it_builds_and_what_the_last_build_took() -> None:
    """The deployed image's build-seconds label (read with its other labels) is the folder's
    cost in the matrix; the builder and its cache are one decision of the whole plan."""
    daily = folder("daily")
    answer = ImageAnswer("r/sales/daily", "tag1", previous_build_seconds=42.0)
    plan = decide.plan(inputs(daily, answers={daily.key: answer}), OPTIONS)
    assert plan.images[0].last_build_seconds == 42.0
    assert (plan.build.kind, plan.build.cache) == ("local", "inline")
    remote = replace(OPTIONS, registry="r", builder="buildkit://b:1234")
    plan = decide.plan(inputs(daily, answers={daily.key: answer}), remote)
    assert (plan.build.kind, plan.build.address, plan.build.cache) == (
        "buildkit", "tcp://b:1234", "registry"
    )  # fmt: skip


def test_a_base_image_or_registry_failure_fails_only_that_folder_at_its_line() -> None:
    daily, weekly, monthly = folder("daily"), folder("weekly"), folder("monthly")
    dockerfile = weekly.path / "Dockerfile"
    weekly = replace(weekly, dockerfile=dockerfile)
    plan = decide.plan(
        inputs(
            daily, weekly, monthly,
            answers={
                weekly.key: ImageAnswer("r/sales/weekly", None, base_error=("no such base", 3)),
                monthly.key: ImageAnswer("r/sales/monthly", "t", registry_error="401 denied"),
            },
        ),
        OPTIONS,
    )  # fmt: skip
    by_key = {i.folder.key: i for i in plan.images}
    assert by_key["sales/daily"].action == "build"
    assert (by_key["sales/weekly"].action, by_key["sales/weekly"].reason) == (
        "failed",
        "no such base",
    )
    assert by_key["sales/monthly"].action == "failed"
    failed = {f.key: f.problems for f in plan.folders if f.failed}
    assert [(p.file, p.line, p.title) for p in failed["sales/weekly"]] == [
        (dockerfile, 3, "Base image")
    ]
    assert [p.title for p in failed["sales/monthly"]] == ["Registry"]
    # the failed folders' deployments by name, each with its folder's error (trial 11 a 4)
    assert actions(plan) == {
        "daily/sales": "create", "weekly/sales": "failed", "monthly/sales": "failed"
    }  # fmt: skip
    errors = {d.full_name: d.error for d in plan.deployments if d.action == "failed"}
    assert errors == {"weekly/sales": "no such base", "monthly/sales": "401 denied"}


def test_two_folders_of_one_image_name_both_fail() -> None:
    one, other = folder("Daily"), folder("daily")  # both become r/sales/daily
    plan = first_plan(one, other)
    assert plan.images == () and [d.action for d in plan.deployments] == ["failed", "failed"]
    assert all("rename one folder" in (d.error or "") for d in plan.deployments)
    assert all(f.failed and "rename one folder" in f.problems[0].message for f in plan.folders)


def test_a_folder_failed_before_its_build_is_one_row_per_deployment() -> None:
    """Trial round 11 a 4: a folder refused before its build (`prefect==2.19.2` in its
    requirements.txt) was one row, flow `-`, in `deploy --json`, the action's `deployments`
    output and the summary, and `failed` counted 1 for its three flows. Each flow (and each
    entry of its prefect.yaml) is a row now, failed with the folder's error; a folder whose
    flows could not be read stays one row."""
    pin = Problem("error", "`prefect==2.19.2` installs Prefect 2", ROOT / "r.txt", 1)
    bad = folder("bad", "one", "two", problems=[pin])
    unread = folder("unread", problems=[Problem("error", "syntax error", ROOT / "f.py", 2)])
    unread = replace(unread, flows=[])
    plan = first_plan(folder("good"), bad, unread)
    rows = planned_rows(plan)
    said = sorted((r.folder, r.flow, r.deployment, r.image_status, r.status, r.error) for r in rows)
    assert said == [
        ("bad", "one", "sales", "failed", "failed", pin.message),
        ("bad", "two", "sales", "failed", "failed", pin.message),
        ("good", "good", "sales", "build", "create", None),
        ("unread", "-", "sales", "failed", "failed", "syntax error"),
    ]
    outcomes = outcome_rows(plan, {}, {}, fail_fast=False)  # a deploy's rows say the same
    assert sorted((r.folder, r.flow, r.image_status, r.status) for r in outcomes)[:2] == [
        ("bad", "one", "failed", "failed"), ("bad", "two", "failed", "failed")
    ]  # fmt: skip
    json_rows = {r["deployment"]: r["image_action"] for r in plan_rows(plan)}
    assert json_rows == {"good/sales": "build", "one/sales": "failed", "two/sales": "failed",
                         None: "failed"}  # fmt: skip


def test_one_name_given_twice_fails_those_deployments_not_their_flow_s_others() -> None:
    """Trial round 11 a 11: entries `prod` → a, `prod` → b, `daily` → a twice: a/prod, a
    valid deployment of its own name, failed with a/daily's error. `prefect deploy --all`
    creates it; so does this now, and b/prod; the two a/daily fail."""
    configs = [
        DeploymentConfig(name=name, entrypoint=f"flow.py:{flow}", line=line)
        for name, flow, line in (("prod", "a", 2), ("prod", "b", 5), ("daily", "a", 8),
                                 ("daily", "a", 12))
    ]  # fmt: skip
    ab = folder(
        "ab", "a", "b", deployment_configs=configs, prefect_yaml=ROOT / "sales/ab/prefect.yaml"
    )
    plan = first_plan(ab)
    said = sorted((d.full_name, d.action) for d in plan.deployments)
    assert said == [("a/daily", "failed"), ("a/daily", "failed"), ("a/prod", "create"),
                    ("b/prod", "create")]  # fmt: skip
    assert plan.images[0].action == "build" and not plan.folders[0].failed


def test_an_entry_naming_no_flow_fails_alone_by_its_name() -> None:
    """Newander/Data-Platform-Copilot (trial round 11 b 11): an entry whose entrypoint
    names no flow (`flows/etl.py:goood`) failed the whole folder: its good entry was neither
    deployed nor in any output, and the failed row was `-/<project>`. `prefect deploy --all`
    creates the good one. Now the entry fails alone, named by its function and name:."""
    configs = [
        DeploymentConfig(name="good-one", entrypoint="flow.py:a", line=2),
        DeploymentConfig(name="typo-one", entrypoint="flow.py:goood", line=5),
    ]
    etl = folder(
        "etl", "a", deployment_configs=configs, prefect_yaml=ROOT / "sales/etl/prefect.yaml"
    )
    plan = first_plan(etl)
    said = {d.full_name: (d.action, (d.error or "").split(",")[0]) for d in plan.deployments}
    assert said == {
        "a/good-one": ("create", ""),
        "goood/typo-one": ("failed", "deployment typo-one names 'flow.py:goood'"),
    }
    assert plan.images[0].action == "build" and not plan.folders[0].failed
    [error] = [p for p in plan.folders[0].problems if p.severity == "error"]
    assert (error.line, error.flow) == (5, "goood/typo-one")
    # the deployment the entry made before its typo is kept, even with prune: which one it
    # meant is unknown
    held = managed("a/typo-one", "sales/etl", "repo:acme/flows")
    pruning = replace(OPTIONS, prune=True, repository="acme/flows")
    kept = decide.plan(inputs(etl, server=[held]), pruning)
    assert "a/typo-one" not in {d.full_name for d in kept.deployments}
    alone = folder("etl", "a", deployment_configs=configs[1:], prefect_yaml=etl.prefect_yaml)
    assert sorted((d.full_name, d.action) for d in first_plan(alone).deployments) == [
        ("a/sales", "create"), ("goood/typo-one", "failed")
    ]  # fmt: skip


def test_a_credentials_file_in_the_build_is_a_warning_at_the_file() -> None:
    """Found by gather while reading the build inputs (reading.recipes), said by the plan."""
    from prefect_flow_deploy.reading.recipes import secret_file_problems

    daily = folder("daily")
    world = inputs(daily)
    leaky = replace(world.recipes[daily.key], files={"flow.py": "d", ".env": "e"})
    warnings = {daily.key: tuple(secret_file_problems(daily, leaky))}
    plan = decide.plan(replace(world, recipes={daily.key: leaky}, file_warnings=warnings), OPTIONS)
    [problem] = plan.folders[0].problems
    assert (problem.severity, problem.file) == ("warning", daily.path / ".env")
    assert plan.images[0].action == "build"


# -- collisions, ownership, take-over --------------------------------------------------------


def test_a_collision_fails_only_the_flows_involved_each_at_its_line() -> None:
    daily = folder("daily", "etl", "report")
    weekly = folder("weekly", "etl", "summary")
    plan = first_plan(daily, weekly)
    failed = [d for d in plan.deployments if d.action == "failed"]
    assert sorted((d.folder_key, d.full_name) for d in failed) == [
        ("sales/daily", "etl/sales"),
        ("sales/weekly", "etl/sales"),
    ]
    assert "etl/sales is defined twice" in (failed[0].error or "")
    creates = sorted((d.folder_key, d.full_name) for d in plan.deployments if d.action == "create")
    assert creates == [("sales/daily", "report/sales"), ("sales/weekly", "summary/sales")]
    assert [i.action for i in plan.images] == ["build", "build"]  # the others still deploy
    problems = {f.key: [(p.file, p.line) for p in f.problems] for f in plan.folders}
    assert problems == {
        "sales/daily": [(daily.path / "flow.py", 10)],
        "sales/weekly": [(weekly.path / "flow.py", 10)],
    }
    assert not any(f.failed for f in plan.folders)


def test_a_folder_whose_every_flow_collides_is_not_built() -> None:
    plan = first_plan(folder("daily", "etl"), folder("weekly", "etl"))
    assert {(i.action, i.reason) for i in plan.images} == {
        ("failed", "every flow of the folder failed")
    }


def test_another_tenant_s_deployment_is_never_overwritten() -> None:
    daily = folder("daily", "etl", "report")
    theirs = managed("etl/sales", "sales/daily", "tenant:dev")
    plan = decide.plan(inputs(daily, server=[theirs]), replace(OPTIONS, tenant="prod"))
    assert actions(plan) == {"etl/sales": "failed", "report/sales": "create"}
    [problem] = plan.folders[0].problems
    assert "belongs to tenant 'dev'" in problem.message and problem.flow == "flow.py:etl"
    # Without a tenant the message says how to run as that tenant.
    alone = decide.plan(inputs(daily, server=[theirs]), OPTIONS)
    assert "--tenant dev" in (alone.deployments[0].error or "")


def test_a_deployment_without_a_tenant_is_taken_over_by_a_tenant() -> None:
    daily = folder("daily")
    before = managed("daily/sales", "sales/daily")
    plan = decide.plan(inputs(daily, server=[before]), replace(OPTIONS, tenant="prod"))
    [deployment] = plan.deployments
    assert deployment.action == "update" and deployment.deployment_id == "old"
    assert "tenant:prod" in deployment.changes["tags"][1]


def test_another_repository_s_deployment_is_never_taken_over() -> None:
    daily = folder("daily")
    theirs = managed("daily/sales", "sales/daily", "repo:acme/other")
    plan = decide.plan(inputs(daily, server=[theirs]), replace(OPTIONS, repository="acme/flows"))
    [deployment] = plan.deployments
    assert deployment.action == "failed" and "belongs to repository acme/other" in (
        deployment.error or ""
    )
    assert plan.images[0].action == "failed"  # nothing left to deploy: not built
    # Nor removed when its folder is gone: it is not ours.
    assert (
        decide.plan(inputs(server=[theirs]), replace(OPTIONS, repository="acme/flows")).deployments
        == ()
    )


def test_a_deployment_made_by_hand_is_taken_over_as_an_update() -> None:
    daily = folder("daily")
    by_hand = existing_from_json(
        {"id": "h", "name": "sales", "tags": ["mine"], "entrypoint": "x.py:f"}, "daily"
    )
    plan = decide.plan(inputs(daily, server=[by_hand]), OPTIONS)
    [deployment] = plan.deployments
    assert (deployment.action, deployment.deployment_id) == ("update", "h")
    assert {"tags", "entrypoint"} <= set(deployment.changed_fields)


def test_a_folder_this_run_did_not_read_keeps_its_flow_and_a_moved_flow_is_taken_over() -> None:
    weekly = folder("weekly", "etl")
    held = managed("etl/sales", "sales/daily")
    hijack = decide.plan(
        inputs(weekly, server=[held], other_folders={"sales/daily": frozenset({"etl"})}), OPTIONS
    )
    [failed] = hijack.deployments
    assert failed.action == "failed" and "belongs to sales/daily, which still has" in (
        failed.error or ""
    )
    moved = decide.plan(
        inputs(weekly, server=[held], other_folders={"sales/daily": frozenset({"other"})}), OPTIONS
    )
    assert actions(moved) == {"etl/sales": "update"}  # the flow moved here: taken over


# -- removals and their scope ----------------------------------------------------------------


def test_a_managed_deployment_whose_folder_is_gone_is_removed_in_scope_only() -> None:
    daily = folder("daily")
    gone = managed("old/sales", "sales/gone", "repo:acme/flows")
    others = [
        managed("x/sales", "sales/x", "tenant:dev"),  # another tenant's
        managed("y/sales", "sales/y", "repo:acme/other"),  # another repository's
        existing_from_json({"id": "u", "name": "sales", "tags": ["by-hand"]}, "z"),  # unmanaged
    ]
    options = replace(OPTIONS, repository="acme/flows", prune=True)
    plan = decide.plan(inputs(daily, server=[gone, *others]), options)
    assert actions(plan) == {"daily/sales": "create", "old/sales": "remove"}
    [removal] = [d for d in plan.deployments if d.action == "remove"]
    assert (removal.deployment_id, removal.owner, removal.spec) == ("old", "acme/flows", None)
    assert removal.reason == "its folder or flow is gone"
    # Without --prune it is kept: an orphan, and the plan says why.
    kept = decide.plan(inputs(daily, server=[gone, *others]), replace(options, prune=False))
    [orphan] = [d for d in kept.deployments if d.full_name == "old/sales"]
    assert (orphan.action, orphan.reason) == (
        "orphan",
        "its folder or flow is gone; kept (`prune` is off)",
    )
    # --flows (a shard, a dispatch) scopes removals to the folders it matches.
    shard = decide.plan(inputs(daily, server=[gone]), replace(options, flows="^sales/daily$"))
    assert actions(shard) == {"daily/sales": "create"}


def test_a_fan_out_with_prune_removes_each_gone_folder_once_by_its_shard() -> None:
    """examples/workflows/fan-out.yml: the plan's matrix (action_report.matrix) groups the
    folders with work, a gone folder's removal included, into shards; each shard runs with
    `flows` set to its group, which scopes removals. Every removal is made once, by one shard."""
    from prefect_flow_deploy.reports.action import matrix

    folders = [folder(name) for name in ("a", "b", "c", "d")]
    gone = [
        managed(f"{name}/sales", f"sales/{name}", "repo:acme/flows", id=name)
        for name in ("old", "older")
    ]
    world = inputs(*folders, server=gone)
    ours = replace(OPTIONS, repository="acme/flows", prune=True)
    plan = decide.plan(world, ours)
    assert {d.full_name for d in plan.deployments if d.action == "remove"} == {
        "old/sales",
        "older/sales",
    }
    shards = matrix(plan, shards=3)["include"]
    assert len(shards) == 3
    removed = [
        d.full_name
        for shard in shards
        for d in decide.plan(world, replace(ours, flows=shard["flows"])).deployments
        if d.action == "remove"
    ]
    assert sorted(removed) == ["old/sales", "older/sales"]


def test_a_folder_that_fails_keeps_its_deployments() -> None:
    broken = folder(
        "daily", problems=[Problem("error", "syntax error", ROOT / "sales/daily/flow.py", 3)]
    )
    held = managed("daily/sales", "sales/daily")
    plan = decide.plan(inputs(broken, server=[held]), OPTIONS)
    assert plan.images == () and plan.folders[0].failed
    # said failed by name (trial round 11 a 4: one row `-` lost the folder's flows), not removed
    [said] = plan.deployments
    assert (said.full_name, said.action, said.error) == ("daily/sales", "failed", "syntax error")
    # A folder whose build inputs cannot be read keeps them too.
    unreadable = decide.plan(
        replace(inputs(folder("daily"), server=[held]), recipe_errors={"sales/daily": "denied"}),
        OPTIONS,
    )
    assert [(d.full_name, d.action) for d in unreadable.deployments] == [("daily/sales", "failed")]
    assert unreadable.folders[0].problems[0].message == "cannot read the build inputs: denied"


def test_a_project_that_could_not_be_listed_keeps_its_deployments() -> None:
    unlisted = FlowFolder(
        "sales", UNREADABLE_PROJECT, ROOT / "sales", problems=[Problem("error", "denied")]
    )
    plan = decide.plan(inputs(unlisted, server=[managed("daily/sales", "sales/daily")]), OPTIONS)
    assert plan.deployments == ()


def test_a_flow_that_is_gone_from_its_folder_is_removed() -> None:
    daily = folder("daily", "etl")
    ours = replace(OPTIONS, repository="acme/flows")
    recorded = managed("report/sales", "sales/daily", "repo:acme/flows")
    plan = decide.plan(inputs(daily, server=[recorded]), ours)
    assert actions(plan) == {"etl/sales": "create", "report/sales": "orphan"}
    pruned = decide.plan(inputs(daily, server=[recorded]), replace(ours, prune=True))
    assert actions(pruned) == {"etl/sales": "create", "report/sales": "remove"}


def test_a_deployment_that_records_no_repository_is_nobody_s_to_remove() -> None:
    """Its repo: tag taken off by hand, or written before the record: kept, and said."""
    daily = folder("daily", "etl")
    ours = replace(OPTIONS, repository="acme/flows")
    plan = decide.plan(inputs(daily, server=[managed("report/sales", "sales/daily")]), ours)
    assert actions(plan) == {"etl/sales": "create"}
    [problem] = plan.problems
    assert problem.severity == "warning" and "report/sales: its folder or flow is gone" in (
        problem.message
    )
    anonymous = decide.plan(inputs(daily, server=[managed("report/sales", "sales/daily")]), OPTIONS)
    assert actions(anonymous) == {"etl/sales": "create"}


def test_a_run_with_an_identity_says_unrecorded_deployments_of_other_projects_in_one_line() -> None:
    """Trial round 10 b 2: a run recording its repository printed a warning per deployment
    any checkout without a remote had written on the server (84 in a one-folder repository),
    each "gone" with a command to delete it. Of its own projects each is still named."""
    daily = folder("daily", "etl")
    others = [managed(f"f{n}/snap", f"snap/f{n}", id=str(n)) for n in range(4)]
    own = managed("report/sales", "sales/daily", id="own")
    ours = replace(OPTIONS, repository="acme/flows")
    plan = decide.plan(inputs(daily, server=[*others, own]), ours)
    assert actions(plan) == {"etl/sales": "create"}
    named, summary = plan.problems
    assert named.message.startswith("report/sales: its folder or flow is gone")
    assert summary.message.startswith(
        "4 deployments of this tenant that this checkout does not make record no repository "
        "(f0/snap, f1/snap, f2/snap and 1 more): they are of projects this checkout does not"
    )


def test_a_run_as_no_repository_calls_no_other_checkout_s_deployment_gone() -> None:
    """wasit7/papapipeline deployed as no repository after ua-snap/prefect, also as none, on
    one server (trial round 10 b 2): 40 warnings called the other checkout's live
    deployments gone and advised deleting each. One line for all now, and none removed."""
    daily = folder("daily", "etl")
    others = [managed(f"f{n}/snap", f"snap/f{n}", id=str(n)) for n in range(5)]
    plan = decide.plan(inputs(daily, server=others), replace(OPTIONS, prune=True))
    assert actions(plan) == {"etl/sales": "create"}
    [problem] = plan.problems
    assert problem.severity == "warning" and "is gone" not in problem.message
    assert problem.message.startswith(
        "5 deployments of this tenant that this checkout does not make record no repository "
        "(f0/snap, f1/snap, f2/snap and 2 more): a run acting as no repository cannot tell"
    )


# -- what the server would refuse ------------------------------------------------------------


def test_a_job_variable_the_pool_does_not_declare_fails_the_folder_at_its_line() -> None:
    config = DeploymentConfig(
        entrypoint="flow.py:daily", job_variables={"nmespace": "x"},
        lines={"job_variables.nmespace": 7}, line=5,
    )  # fmt: skip
    daily = folder(
        "daily", deployment_configs=[config], prefect_yaml=ROOT / "sales/daily/prefect.yaml"
    )
    plan = decide.plan(replace(inputs(daily), pools={"pool": POOL}), OPTIONS)
    assert plan.deployments and all(d.action == "failed" and d.error for d in plan.deployments)
    assert plan.images[0].action == "failed"  # each deployment by its name, not written
    [problem] = plan.folders[0].problems
    assert (problem.line, problem.title) == (7, "Job variables") and "`nmespace`" in problem.message


def test_triggers_on_a_server_without_automation_tags_fail_the_folder() -> None:
    trigger = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "expect": ["x.Failed"]}
    config = DeploymentConfig(entrypoint="flow.py:daily", triggers=(trigger,), line=2)
    daily = folder("daily", deployment_configs=[config])
    world = inputs(daily)
    old = replace(world, snapshot=ServerState(server_version="3.1.15"))
    plan = decide.plan(old, OPTIONS)
    assert plan.images[0].action == "failed" and "3.1.15" in plan.images[0].reason
    assert actions(decide.plan(world, OPTIONS)) == {"daily/sales": "create"}


# -- purity and schema reuse -----------------------------------------------------------------


def test_the_plan_changes_nothing_it_was_given() -> None:
    daily = folder("daily", "etl")
    weekly = folder("weekly", "etl")  # a collision: problems for both
    world = inputs(daily, weekly)
    decide.plan(world, OPTIONS)
    assert daily.problems == () and weekly.problems == ()
    assert decide.plan(world, OPTIONS) == decide.plan(world, OPTIONS)


def test_a_schema_only_the_image_knows_is_reused_from_the_deployment_of_that_content() -> None:
    daily = folder("daily")
    daily = replace(daily, flows=[replace(daily.flows[0], parameter_schema=None)])
    [pending] = first_plan(daily).deployments
    assert pending.spec is not None and pending.spec.parameter_schema is None
    # As Prefect's model_dump_for_openapi computes it in the image: with `definitions`.
    computed = {"properties": {"when": {"type": "string"}}, "type": "object", "definitions": {}}
    server = deployed(replace(pending.spec, parameter_schema=computed))
    [again] = decide.plan(inputs(daily, server=[server]), OPTIONS).deployments
    assert again.spec is not None and again.spec.parameter_schema == computed
    assert again.action == "unchanged"
    # The tenant then gives the flow a parameter it does not take: judged against the reused
    # schema while planning (no build runs the image's check again).
    wrong = replace(OPTIONS, parameters={again.spec.flow_name: {"whence": "x"}})
    [refused] = decide.plan(inputs(daily, server=[server]), wrong).deployments
    assert refused.action == "failed", refused
    assert "has no parameter 'whence' (its parameters: when)" in (refused.error or "")


def test_gathering_and_deciding_import_no_docker_sdk() -> None:
    code = (
        "import sys, prefect_flow_deploy.run.gather, prefect_flow_deploy.rules.decide, "
        "prefect_flow_deploy.run.engine, prefect_flow_deploy.reports.terminal, prefect_flow_deploy.cli; "
        "print('docker' in sys.modules)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "False"


def test_an_update_from_an_older_commit_than_the_server_s_record_is_skipped() -> None:
    from prefect_flow_deploy.deployment.commit_order import Commit

    daily = folder("daily")
    newer, ours = Commit("b" * 40, 2_000_000_000), Commit("a" * 40, 1_900_000_000)
    held = managed("daily/sales", "sales/daily", newer.tag)
    world = replace(inputs(daily, server=[held]), commit=ours, relations={newer.sha: "ancestor"})
    [skipped] = decide.plan(world, OPTIONS).deployments
    assert skipped.action == "skipped" and "descends from this run's" in (skipped.error or "")
    later = replace(
        world, commit=Commit("c" * 40, 2_100_000_000), relations={newer.sha: "descendant"}
    )
    assert actions(decide.plan(later, OPTIONS)) == {"daily/sales": "update"}


def test_a_folder_whose_every_deployment_is_superseded_is_not_built() -> None:
    """An older checkout's run: its image would be built and pushed for nothing. A folder
    with one deployment still to write is built as before."""
    from prefect_flow_deploy.deployment.commit_order import Commit

    daily, mixed = folder("daily"), folder("mixed", "old_one", "new_one")
    newer, ours = Commit("b" * 40, 2_000_000_000), Commit("a" * 40, 1_900_000_000)
    held = [
        managed("daily/sales", "sales/daily", newer.tag),
        managed("old_one/sales", "sales/mixed", newer.tag),  # new_one: not deployed yet
    ]
    world = replace(
        inputs(daily, mixed, server=held), commit=ours, relations={newer.sha: "ancestor"}
    )
    planned = decide.plan(world, OPTIONS)
    assert actions(planned) == {
        "daily/sales": "skipped", "old_one/sales": "skipped", "new_one/sales": "create",
    }  # fmt: skip
    images = {i.folder.key: (i.action, i.reason) for i in planned.images}
    assert images["sales/daily"] == ("skipped", decide.SUPERSEDED_BUILD)
    assert images["sales/mixed"][0] == "build"


def test_a_job_variable_of_the_wrong_type_is_refused_by_the_pool_s_rule_before_building() -> None:
    typed = Pool(
        "pool", "docker",
        {"variables": {"type": "object", "properties": {"image": {"type": "string"},
                                                         "cpu": {"type": "integer"}}}},
    )  # fmt: skip
    config = DeploymentConfig(
        entrypoint="flow.py:daily", job_variables={"cpu": "many"}, lines={"job_variables.cpu": 6}
    )
    daily = folder(
        "daily", deployment_configs=[config], prefect_yaml=ROOT / "sales/daily/prefect.yaml"
    )
    plan = decide.plan(replace(inputs(daily), pools={"pool": typed}), OPTIONS)
    assert plan.deployments and all(d.action == "failed" and d.error for d in plan.deployments)
    assert plan.images[0].action == "failed"  # each deployment by its name, not written
    [problem] = plan.folders[0].problems
    assert problem.line == 6 and "refuses these job variables" in problem.message
    fine = replace(config, job_variables={"cpu": 2})
    ok = decide.plan(
        replace(inputs(replace(daily, deployment_configs=[fine])), pools={"pool": typed}), OPTIONS
    )
    assert actions(ok) == {"daily/sales": "create"}
