"""Work pools of every kind that runs an image, on the real local server: pools created with
the kubernetes and ECS workers' default templates (bundled in the server), the job
configuration Prefect would hand those workers, and the pools and variables refused before
anything is built."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prefect.workers.base import BaseJobConfiguration
from pydantic import Field

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, plan, server_api, server_deployment

pytestmark = pytest.mark.stack


def pool(name: str) -> dict[str, Any]:
    with server_api() as client:
        response = client.get(f"work_pools/{name}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def default_template(pool_type: str) -> dict[str, Any]:
    with server_api() as client:
        metadata = client.get("collections/views/aggregate-worker-metadata").json()
    return next(
        w["default_base_job_configuration"]
        for collection in metadata.values()
        for w in collection.values()
        if isinstance(w, dict) and w.get("type") == pool_type
    )


def create_pool(name: str, pool_type: str) -> None:
    """A pool as a user makes it: of that type, with its worker's default template."""
    with server_api() as client:
        client.post(
            "work_pools/",
            json={
                "name": name,
                "type": pool_type,
                "base_job_template": default_template(pool_type),
            },
        ).raise_for_status()


class WorkerConfiguration(BaseJobConfiguration):
    """The fields the kubernetes and ECS workers' configuration classes add to the base one
    (prefect-kubernetes' KubernetesWorkerJobConfiguration.job_manifest, prefect-aws'
    ECSJobConfiguration.task_definition); those packages are not installed here."""

    job_manifest: dict[str, Any] = Field(default_factory=dict)
    task_definition: dict[str, Any] = Field(default_factory=dict)


def job_configuration(pool_name: str, deployment: dict[str, Any]) -> dict[str, Any]:
    """What the worker is handed for a run of the deployment: Prefect's own merge of the
    pool's base job template with the deployment's job variables."""
    template = pool(pool_name)["base_job_template"]
    configuration = asyncio.run(
        WorkerConfiguration.from_template_and_values(template, deployment["job_variables"])
    )
    return configuration.model_dump()


def test_a_missing_kubernetes_pool_is_created_and_the_job_runs_the_image(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "k8s"), "k8s")
    (folder / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:k8s\n    work_pool:\n"
        "      job_variables: {namespace: flows, cpu_request: '500m'}\n"
    )
    [row] = deploy(scenario, stack, work_pool_type="kubernetes").results
    assert row.status == "created", row.error
    created = pool(scenario.work_pool)
    assert created["type"] == "kubernetes"
    assert created["base_job_template"] == default_template("kubernetes")

    deployment = server_deployment(f"k8s/{scenario.project('p')}")
    configuration = job_configuration(scenario.work_pool, deployment)
    [container] = configuration["job_manifest"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == row.image
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert configuration["job_manifest"]["metadata"]["namespace"] == "flows"
    assert container["resources"]["requests"]["cpu"] == "500m"
    assert deploy(scenario, stack, work_pool_type="kubernetes").counters.deployment_writes == 0


def test_an_existing_ecs_pool_gets_the_image_in_its_task_definition(
    stack: Stack, scenario: Scenario
) -> None:
    create_pool(scenario.work_pool, "ecs")
    write_flow(scenario.folder("p", "ecs"), "ecs")
    [row] = deploy(scenario, stack).results  # the pool exists: work-pool-type is not used
    assert row.status == "created", row.error
    deployment = server_deployment(f"ecs/{scenario.project('p')}")
    assert "image_pull_policy" not in deployment["job_variables"]  # ECS has no such variable
    configuration = job_configuration(scenario.work_pool, deployment)
    [container] = configuration["task_definition"]["containerDefinitions"]
    assert container["image"] == row.image


def test_a_process_pool_is_refused_naming_the_pool_and_its_type(
    stack: Stack, scenario: Scenario
) -> None:
    create_pool(scenario.work_pool, "process")
    write_flow(scenario.folder("p", "proc"), "proc")
    planned = plan(scenario, stack)
    [folder] = planned.folders
    [error] = [p for p in folder.problems if p.severity == "error"]
    assert f"the work pool {scenario.work_pool!r} is of type 'process'" in error.message
    assert "kubernetes" in error.message  # what to use instead
    result = deploy(scenario, stack)
    assert result.counters.built == 0 and result.counters.deployment_writes == 0


def test_job_variables_the_pool_refuses_fail_at_their_line_before_any_build(
    stack: Stack, scenario: Scenario
) -> None:
    unknown = write_flow(scenario.folder("p", "typo"), "typo")
    (unknown / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:typo\n    work_pool:\n      job_variables:\n"
        "        env: {A: '1'}\n        nmespace: flows\n"
    )
    wrong = write_flow(scenario.folder("p", "wrong"), "wrong")
    (wrong / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:wrong\n    work_pool:\n      job_variables:\n"
        "        image_pull_policy: Sometimes\n"
    )
    write_flow(scenario.folder("p", "good"), "good")
    result = deploy(scenario, stack, work_pool_type="kubernetes")
    assert result.counters.built == 1  # only the good folder
    problems = {
        f.name: next(p for p in f.problems if p.severity == "error") for f in result.plan.folders
        if f.failed
    }  # fmt: skip
    assert (problems["typo"].file, problems["typo"].line) == (unknown / "prefect.yaml", 6)
    assert "`nmespace` is not one of those of the work pool" in problems["typo"].message
    assert (problems["wrong"].file, problems["wrong"].line) == (wrong / "prefect.yaml", 5)
    # Prefect's own validation, with the server's words.
    assert "'Sometimes' is not one of ['IfNotPresent', 'Always', 'Never']" in (
        problems["wrong"].message
    )
    assert {r.folder: r.status for r in result.results}["good"] == "created"


def test_a_mistyped_pool_is_refused_before_any_build_and_created_only_when_asked(
    stack: Stack, scenario: Scenario
) -> None:
    """Issue 23: a pool that does not exist is an error naming the pool, where it was set and
    the server's pools (a typo is then plain); `create-work-pool` creates it, and the plan
    says no worker serves it yet. Against the real server: its 404 and its pool list."""
    folder = write_flow(scenario.folder("p", "typo"), "typo")
    (folder / "prefect.yaml").write_text(
        "deployments:\n  - entrypoint: flow.py:typo\n    work_pool:\n"
        f"      name: {stack.worker_pool}{scenario.suffix}\n"
    )
    refused = plan(scenario, stack, create_work_pool=None)
    assert [d.action for d in refused.deployments] == ["failed"]  # by its name, not written
    assert refused.images[0].action == "failed"
    [problem] = [p for p in refused.folders[0].problems if p.title == "Work pool"]
    assert (problem.file, problem.line) == (folder / "prefect.yaml", 4)
    name = f"{stack.worker_pool}{scenario.suffix}"
    assert f"'{name}' (set by prefect.yaml:4 (work_pool.name)) does not exist" in problem.message
    assert stack.worker_pool in problem.message  # among the server's pools, the closest
    assert refused.pools_to_create == ()

    created = plan(scenario, stack, create_work_pool=True)
    assert [(p.name, p.type) for p in created.pools_to_create] == [(name, "docker")]
    assert {d.action for d in created.deployments} == {"create"}


def test_a_run_whose_every_folder_fails_creates_no_pool(stack: Stack, scenario: Scenario) -> None:
    """`create-work-pool` created the missing pool as the run started, before any image was
    built: a run whose every folder then failed left a pool nothing deploys to (trial D,
    2026-12-05). Pools are now ensured before the first write."""
    folder = write_flow(scenario.folder("p", "broken"), "broken")
    (folder / "Dockerfile").write_text(f"FROM {stack.base_image}\nRUN exit 3\n")
    name = f"{stack.worker_pool}-never{scenario.suffix}"
    (folder / "prefect.yaml").write_text(
        f"deployments:\n  - entrypoint: flow.py:broken\n    work_pool:\n      name: {name}\n"
    )
    result = deploy(scenario, stack, create_work_pool=True)
    assert {r.status for r in result.results} == {"failed"}
    with server_api() as client:
        assert client.get(f"work_pools/{name}").status_code == 404


def test_a_module_reading_the_pool_s_default_env_at_its_top_loads_as_a_run_would(
    stack: Stack, scenario: Scenario, capfd: pytest.CaptureFixture[str]
) -> None:
    """ArthurZakirov/sheets-to-postgresql (trial round 10 a 5): `os.getenv("SCOPES").split(
    ",")` at a module's top, SCOPES in the docker pool's default env: the check loaded the
    flow without it and refused it, while `prefect deploy`'s runs completed. The check now
    gets what Prefect's merge hands the worker (the oracle: its job configuration's env,
    with the deployment's env over the pool's); a flow reading a variable nothing sets still
    fails, said at the line that raised (settings.py:3), not at its `@flow`."""
    name = f"envpool-{scenario.suffix}"
    template = default_template("docker")
    template["variables"]["properties"]["env"]["default"] = {"SCOPES": "a,b", "REGION": "eu"}
    with server_api() as client:
        client.post(
            "work_pools/", json={"name": name, "type": "docker", "base_job_template": template}
        ).raise_for_status()
    reads = "import os\n\nSCOPES = os.getenv('{var}').split(',')\n"
    for folder, var in (("scoped", "SCOPES"), ("unset", "NOT_SET_ANYWHERE")):
        write_flow(scenario.folder("p", folder), folder, **{"settings__py": reads.format(var=var)})
        flow_file = scenario.folder("p", folder) / "flow.py"
        flow_file.write_text("import settings\n" + flow_file.read_text())
    given = {"env": {"REGION": "us"}}
    result = deploy(scenario, stack, work_pool=name, job_variables=given)
    statuses = {r.flow: r.status for r in result.results}
    assert statuses == {"scoped": "created", "unset": "failed"}, result.results
    unset = scenario.folder("p", "unset")
    assert f"error: {unset / 'settings.py'}:3: " in capfd.readouterr().err
    deployment = server_deployment(f"scoped/{scenario.project('p')}")
    env = job_configuration(name, deployment)["env"]
    assert {k: env[k] for k in ("SCOPES", "REGION")} == {"SCOPES": "a,b", "REGION": "us"}
