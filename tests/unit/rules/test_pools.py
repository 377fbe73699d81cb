"""Work pool rules: a missing pool names the close ones, a pool without an `image` variable
cannot run the image built here, a deployment's job variables get the image and (where the
worker has one) the pull policy, and variables the template does not declare are found."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.rules.pools import (
    MANAGED_TYPE,
    PULL_POLICY,
    cannot_run_images,
    job_variables,
    missing_pool,
    unknown_variables,
)


def pool(kind: str = "docker", *variables: str, **options: Any) -> Pool:
    template = {"variables": {"properties": {v: {} for v in variables}}} if variables else {}
    return Pool("flows", kind, template, **options)


def test_a_missing_pool_names_what_the_server_has_and_the_closest() -> None:
    message = missing_pool(pool(exists=False, others=("flow", "other")), "prefect.yaml")
    assert "the work pool 'flows' (set by prefect.yaml) does not exist" in message
    assert "(it has: flow, other)" in message and "Did you mean 'flow'?" in message
    assert "(it has none)" in missing_pool(pool(exists=False), "work-pool")
    many = tuple(f"pool-{i}" for i in range(20))
    assert "(it has 20)" in missing_pool(pool(exists=False, others=many), "work-pool")
    close = missing_pool(pool(exists=False, others=(*many, "flowz")), "work-pool")
    assert "(it has 21, among them flowz)" in close


def test_only_a_pool_with_an_image_variable_runs_the_image() -> None:
    assert cannot_run_images(pool("docker", "image")) is None
    managed = cannot_run_images(pool(MANAGED_TYPE))
    assert managed is not None and "Prefect Managed pool" in managed
    process = cannot_run_images(pool("process", "working_dir"))
    assert process is not None and "of type 'process'" in process


def test_job_variables_get_the_image_and_the_worker_s_pull_policy() -> None:
    docker = pool("docker", "image", "image_pull_policy")
    assert job_variables({"cpu": 1}, "r/x:1", docker) == {
        "cpu": 1, "image": "r/x:1", "image_pull_policy": PULL_POLICY,
    }  # fmt: skip
    own = {"image_pull_policy": "Always", "image": "ignored"}
    assert job_variables(own, "r/x:1", docker) == {"image_pull_policy": "Always", "image": "r/x:1"}
    assert job_variables({}, "r/x:1", pool("ecs", "image")) == {"image": "r/x:1"}


def test_variables_the_template_does_not_declare_are_found() -> None:
    docker = pool("docker", "image", "env")
    assert unknown_variables({"env.X": "1", "imgae": "x", "cpu": 2}, docker) == ["cpu", "imgae"]
    assert unknown_variables({"anything": 1}, pool("docker")) == []  # no schema to check


def test_the_commands_said_work_when_pasted_whatever_the_names() -> None:
    """nishantnayar/prefect-trading (trial round 9 b 3): `prefect worker start --pool night
    shift` and `prefect deployment delete Start of Day Flow/…` failed when pasted."""
    import shlex

    from prefect_flow_deploy.deployment.ownership import not_removed

    message = missing_pool(replace(pool(exists=False), name="night shift"), "prefect.yaml")
    assert "`prefect work-pool create 'night shift' --type docker`" in message
    assert "`prefect worker start --pool 'night shift'`" in message
    said = not_removed("Start of Day Flow/start-of-day-flow").message
    command = said.split("(`", 1)[1].split("`)", 1)[0]
    assert shlex.split(command) == [
        "prefect",
        "deployment",
        "delete",
        "Start of Day Flow/start-of-day-flow",
    ]


def test_a_run_installs_packages_at_start_only_where_extra_pip_packages_is_set() -> None:
    """andrew-dang/goc-datasets (trial round 9 a 8): a missing package was a warning ("a run
    may install it"), though nothing set EXTRA_PIP_PACKAGES, and every run crashed."""
    from prefect_flow_deploy.core.model import DeploymentPlan
    from prefect_flow_deploy.rules.pools import installs_at_start

    from .test_spec_checks import spec

    def plans(env: object) -> list[DeploymentPlan]:
        made = spec(work_pool="flows", job_variables={"env": env} if env else {})
        return [DeploymentPlan(made, made.full_name, "p/f", "create")]

    plain = {"flows": pool()}
    assert not installs_at_start(plans(None), plain, "FROM python:3.12\nCOPY . .\n")
    assert installs_at_start(plans({"EXTRA_PIP_PACKAGES": "pandas"}), plain, None)
    assert installs_at_start(plans(None), plain, "FROM x\nENV EXTRA_PIP_PACKAGES=pandas\n")
    template = {"variables": {"properties": {"env": {"default": {"EXTRA_PIP_PACKAGES": "x"}}}}}
    assert installs_at_start(plans(None), {"flows": Pool("flows", "docker", template)}, None)


def test_the_run_environment_is_the_pool_s_default_env_with_the_deployment_s_over_it() -> None:
    """ArthurZakirov/sheets-to-postgresql (trial round 10 a 5): `os.getenv("SCOPES")
    .split(",")` at a module's top with SCOPES in the pool's default env was refused, the
    flow loaded without it; its runs completed. Merged key by key as Prefect's worker does
    (BaseJobConfiguration.from_template_and_values: the deployment's env over the pool's);
    a template the worker fills in and a value that is no scalar are left out."""
    from prefect_flow_deploy.core.model import DeploymentPlan
    from prefect_flow_deploy.rules.pools import run_environment

    from .test_spec_checks import spec

    def plan(env: object, pool_name: str = "flows") -> DeploymentPlan:
        made = spec(work_pool=pool_name, job_variables={"env": env} if env else {})
        return DeploymentPlan(made, made.full_name, "p/f", "create")

    default = {"SCOPES": "a,b", "REGION": "eu", "TOKEN": "{{ prefect.blocks.secret.t }}"}
    template = {"variables": {"properties": {"env": {"default": default}}}}
    pools = {"flows": Pool("flows", "docker", template), "bare": pool()}
    assert run_environment([plan(None)], pools) == {"SCOPES": "a,b", "REGION": "eu"}
    given = {"REGION": "us", "DEBUG": True, "LIST": [1]}
    assert run_environment([plan(given)], pools) == {
        "SCOPES": "a,b", "REGION": "us", "DEBUG": "True"
    }  # fmt: skip
    assert run_environment([plan({"A": "1"}, "bare"), plan({"A": "2"})], pools)["A"] == "1"
    assert run_environment([plan(None, "absent")], pools) == {}


def test_a_pool_named_by_a_template_is_not_offered_to_be_created() -> None:
    """Trial round 10 b 6: `prefect work-pool create '{{ $PREFECT_WORK_POOL_NAME }}'` was
    the fix said for a pool name nothing fills in."""
    named = replace(pool(exists=False), name="{{ $PREFECT_WORK_POOL_NAME }}")
    message = missing_pool(named, "prefect.yaml:17 (work_pool.name)")
    assert "is a template, which prefect-flow-deploy does not fill in" in message
    assert "work-pool create" not in message
