"""A work pool that does not exist (issue 23): an error naming the pool and where it was set,
unless the run says to create it (create-work-pool; on by default for `docker-pool` only);
the plan, its JSON and the pull request comment say "creates pool X (type T); no worker
serves it yet"."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from prefect_flow_deploy.core.model import DeploymentConfig, Plan
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.reports.pr_comment import Links, render
from prefect_flow_deploy.reports.terminal import plan_json, print_plan
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.settings.options import Options
from tests.unit.rules.test_decide import OPTIONS, ROOT, actions, folder, inputs

TEMPLATE = {"variables": {"properties": {"image": {}, "env": {}}}}
OTHERS = ("docker-pool", "prod-docker")


def missing(name: str) -> Pool:
    return Pool(name, "docker", TEMPLATE, exists=False, others=OTHERS)


def planned(pools: dict[str, Pool], options: Options, **fields: object) -> Plan:
    daily = folder("daily", **fields)  # type: ignore[arg-type]
    return decide.plan(replace(inputs(daily), pools=pools), options)


def test_a_missing_pool_named_by_an_option_fails_naming_it_and_its_source() -> None:
    options = replace(OPTIONS, work_pool="prod-dokcer", sources={"work_pool": "--work-pool"})
    plan = planned({"prod-dokcer": missing("prod-dokcer")}, options)
    assert plan.deployments and all(d.action == "failed" and d.error for d in plan.deployments)
    assert plan.images[0].action == "failed"  # each deployment by its name, not written
    [problem] = plan.folders[0].problems
    assert problem.title == "Work pool" and problem.severity == "error"
    assert "'prod-dokcer' (set by --work-pool) does not exist" in problem.message
    assert "Did you mean 'prod-docker'?" in problem.message
    assert "create-work-pool: true (--create-work-pool)" in problem.message
    assert plan.pools_to_create == ()


def test_a_missing_pool_of_prefect_yaml_fails_at_its_line() -> None:
    config = DeploymentConfig(
        entrypoint="flow.py:daily", work_pool="nightly", lines={"work_pool.name": 6}, line=2
    )
    path = ROOT / "sales/daily/prefect.yaml"
    plan = planned(
        {"pool": Pool("pool", "docker", TEMPLATE), "nightly": missing("nightly")},
        OPTIONS,
        deployment_configs=[config],
        prefect_yaml=path,
    )
    [problem] = plan.folders[0].problems
    assert (problem.file, problem.line) == (path, 6)
    assert "'nightly' (set by prefect.yaml:6 (work_pool.name))" in problem.message


def test_a_missing_pool_of_one_entry_fails_that_deployment_alone() -> None:
    """Autonomous-Finance/dataos-pipeline: one entry's pool missing failed the folder, and
    every deployment's reason named the first entry's pool and line (trial a 4). The pool
    is the entry's own: the others deploy, each failure says its own line."""

    def entry(name: str, pool: str, line: int) -> DeploymentConfig:
        lines = {"work_pool.name": line + 2}
        return DeploymentConfig("flow.py:daily", name=name, work_pool=pool, lines=lines, line=line)

    nightly, hourly = entry("n", "nightly", 2), entry("h", "hourly", 6)
    plain = DeploymentConfig(entrypoint="flow.py:daily", name="p", work_pool="pool", line=10)
    path = ROOT / "sales/daily/prefect.yaml"
    pools = {"pool": Pool("pool", "docker", TEMPLATE)}
    pools |= {"nightly": missing("nightly"), "hourly": missing("hourly")}
    plan = planned(pools, OPTIONS, deployment_configs=[nightly, hourly, plain], prefect_yaml=path)
    assert actions(plan) == {"daily/n": "failed", "daily/h": "failed", "daily/p": "create"}
    errors = {d.full_name: d.error or "" for d in plan.deployments}
    assert "'nightly' (set by prefect.yaml:4 (work_pool.name))" in errors["daily/n"]
    assert "'hourly' (set by prefect.yaml:8 (work_pool.name))" in errors["daily/h"]
    assert plan.images[0].action == "build"
    lines = sorted(p.line or 0 for p in plan.folders[0].problems if p.title == "Work pool")
    assert lines == [4, 8]


def test_create_work_pool_creates_it_and_the_plan_says_no_worker_serves_it() -> None:
    options = replace(OPTIONS, work_pool="nightly", create_work_pool=True)
    plan = planned({"nightly": missing("nightly")}, options)
    assert actions(plan) == {"daily/sales": "create"}
    assert [p.name for p in plan.pools_to_create] == ["nightly"]
    summary = json.loads(plan_json(plan))["summary"]
    assert summary["work_pools_to_create"] == [{"name": "nightly", "type": "docker"}]
    links = Links("https://github.com", "acme/flows", "0" * 40, Path("/repo"))
    comment = render(plan, "prod", links)
    assert "Creates pool `nightly` (type `docker`); no worker serves it yet" in comment
    assert "new, on work pool `nightly` (created by this run)" in comment


def test_the_plain_plan_says_it_creates_the_pool() -> None:
    options = replace(OPTIONS, work_pool="nightly", create_work_pool=True)
    plan = planned({"nightly": missing("nightly")}, options)
    out = io.StringIO()
    print_plan(plan, Console(file=out, force_terminal=False))
    assert (
        "creates pool nightly (type docker); no worker serves it yet: start one with "
        "`prefect worker start --pool nightly`" in out.getvalue()
    )


def test_the_default_pool_is_created_unless_create_work_pool_is_false() -> None:
    options = replace(OPTIONS, work_pool="docker-pool")
    plan = planned({"docker-pool": missing("docker-pool")}, options)
    assert [p.name for p in plan.pools_to_create] == ["docker-pool"]
    refused = planned(
        {"docker-pool": missing("docker-pool")}, replace(options, create_work_pool=False)
    )
    [problem] = refused.folders[0].problems
    assert "the default work-pool, docker-pool" in problem.message
    assert refused.pools_to_create == ()


def test_creates_pool_by_name() -> None:
    assert Options().creates_pool("docker-pool") and not Options().creates_pool("other")
    assert Options(create_work_pool=True).creates_pool("other")
    assert not Options(create_work_pool=False).creates_pool("docker-pool")
