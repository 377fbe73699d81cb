from dataclasses import replace
from pathlib import Path

from prefect_flow_deploy.core.model import DeploymentConfig, FlowFolder, FlowSpec, ImagePlan
from prefect_flow_deploy.rules.specs import deployment_specs
from prefect_flow_deploy.settings.options import Options


def folder_with(configs: list[DeploymentConfig]) -> FlowFolder:
    flows = [
        FlowSpec("etl", "etl", "flows/etl.py", 3, {"properties": {}}, "docstring"),
        FlowSpec("report", "report", "report.py", 5, {"properties": {}}),
    ]
    return FlowFolder(
        "sales", "daily", Path("/repo/projects/sales/daily"), flows, deployment_configs=configs
    )


def image(folder: FlowFolder) -> ImagePlan:
    return ImagePlan(
        folder, "r/sales/daily", "abc123", {}, "build", code_dir="/opt/prefect/flows/sales/daily"
    )


def test_default_deployment_per_flow() -> None:
    folder = folder_with([])
    specs, _ = deployment_specs(
        folder, image(folder), Options(tenant="prod", extra_tags=("team-a",))
    )
    assert [s.full_name for s in specs] == ["etl/sales", "report/sales"]
    etl = specs[0]
    assert etl.entrypoint == "flows/etl.py:etl" and etl.version == "abc123"
    assert etl.job_variables == {"image": "r/sales/daily:abc123"}
    assert list(etl.tags) == [
        "managed-by:prefect-flow-deploy", "sales", "project:sales", "folder:sales/daily", "tenant:prod", "team-a",
    ]  # fmt: skip
    assert etl.description == "docstring" and etl.enforce_parameter_schema


def test_prefect_yaml_entries_replace_the_default_and_match_root_relative_entrypoints() -> None:
    configs = [
        DeploymentConfig(entrypoint="flows/etl.py:etl", name="hourly", parameters={"n": 1}),
        DeploymentConfig(
            entrypoint="projects/sales/daily/flows/etl.py:etl", name="daily", paused=True
        ),
    ]
    folder = folder_with(configs)
    specs, problems = deployment_specs(folder, image(folder), Options())
    assert sorted(s.full_name for s in specs) == ["etl/daily", "etl/hourly", "report/sales"]
    assert problems == []


def test_entry_naming_no_flow_is_an_error_with_its_line() -> None:
    folder = folder_with([DeploymentConfig(entrypoint="gone.py:nothing", line=7)])
    folder = replace(folder, prefect_yaml=folder.path / "prefect.yaml")
    _, [problem] = deployment_specs(folder, image(folder), Options())
    assert problem.line == 7 and "not a @flow in this folder" in problem.message


def test_a_module_path_entry_is_an_error_naming_the_file_to_write() -> None:
    """styglab/teoria: `entrypoint: pkg.flows.etl.etl` (Prefect imports an installed
    module) was "not a @flow in this folder. Flows here: flows/etl.py:etl" (trial a 3)."""
    for written in ("pkg.flows.etl.etl", "flows.etl:etl"):
        folder = folder_with([DeploymentConfig(entrypoint=written, line=4)])
        _, [problem] = deployment_specs(folder, image(folder), Options())
        assert problem.message.endswith(
            "a module path, which this tool does not read (it loads the flow from its file in "
            "the folder's image): write it as `flows/etl.py:etl`."
        ), written


def test_tenant_overrides() -> None:
    folder = folder_with([DeploymentConfig(entrypoint="report.py:report", parameters={"a": 1, "b": 1},
                                           schedules=({"cron": "0 6 * * *"},), job_variables={"cpu": 1})])  # fmt: skip
    options = Options(
        parameters={"*": {"b": 2, "env": "dev"}, "report": {"a": 3}},
        job_variables={"env": {"LOG": "DEBUG"}},
        schedules_active=False,
    )
    [_, report], _ = deployment_specs(folder, image(folder), options)
    assert report.parameters == {"a": 3, "b": 2, "env": "dev"}
    assert report.job_variables == {
        "cpu": 1,
        "env": {"LOG": "DEBUG"},
        "image": "r/sales/daily:abc123",
    }
    assert report.schedules == ({"cron": "0 6 * * *", "active": False},)
