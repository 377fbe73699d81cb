"""What a work pool can run, decided from its base job template (pure: no server)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect_docker.worker import DockerWorker

from prefect_flow_deploy.core.model import DeploymentSpec
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.rules.pools import cannot_run_images
from prefect_flow_deploy.rules.specs import fit_pool
from prefect_flow_deploy.settings.options import Options

DOCKER = Pool("docker-pool", "docker", DockerWorker.get_default_base_job_template())
PROCESS = Pool("local", "process", {"variables": {"properties": {"working_dir": {}}}})
MANAGED = Pool("managed", "prefect:managed", {"variables": {"properties": {"pip_packages": {}}}})
PUSH = Pool("push", "ecs:push", {"variables": {"properties": {"image": {"type": "string"}}}})


def spec(**fields: object) -> DeploymentSpec:
    base = DeploymentSpec(
        flow_name="etl", name="sales", folder_key="sales/etl", project="sales",
        entrypoint="flow.py:etl", work_pool="docker-pool", image="r/sales/etl:abc",
        code_dir=None, version="abc", tags=[], job_variables={"image": "r/sales/etl:abc"},
        source_file=Path("prefect.yaml"), source_line=2,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_image_and_pull_policy_go_where_the_template_has_them() -> None:
    wanted, problem = fit_pool(
        spec(job_variables={"image": "ignored", "env": {"A": "1"}}), DOCKER, Options()
    )
    assert problem is None
    assert wanted.job_variables == {
        "env": {"A": "1"}, "image": "r/sales/etl:abc", "image_pull_policy": "IfNotPresent",
    }  # fmt: skip
    pushed, problem = fit_pool(spec(), PUSH, Options())
    assert problem is None
    assert pushed.job_variables == {"image": "r/sales/etl:abc"}  # no pull policy there


def test_a_pull_policy_set_in_the_repository_is_kept() -> None:
    wanted, _ = fit_pool(spec(job_variables={"image_pull_policy": "Always"}), DOCKER, Options())
    assert wanted.job_variables["image_pull_policy"] == "Always"


def test_pools_that_cannot_run_an_image_say_why_and_what_to_use() -> None:
    process = cannot_run_images(PROCESS)
    assert process is not None and "'local' is of type 'process'" in process
    assert "kubernetes" in process
    managed = cannot_run_images(MANAGED)
    assert managed is not None and "Prefect Managed" in managed and "pip_packages" in managed
    _, problem = fit_pool(
        spec(source_lines={"work_pool.name": 4}), PROCESS, Options()
    )  # the pool's line in prefect.yaml
    assert problem is not None and problem.line == 4


def test_an_unknown_variable_is_an_error_at_its_line_or_names_the_tenant_file() -> None:
    wanted = spec(
        job_variables={"nmespace": "x"}, source_lines={"job_variables.nmespace": 7}
    )  # fmt: skip
    _, problem = fit_pool(wanted, DOCKER, Options())
    assert problem is not None and problem.line == 7 and "`nmespace`" in problem.message
    _, tenant = fit_pool(
        spec(job_variables={"nmespace": "x"}), DOCKER, Options(job_variables={"nmespace": "x"})
    )
    assert tenant is not None and "prefect-flow-deploy.yaml" in tenant.message
