"""What the Prefect server would refuse about a deployment, judged while planning
(spec_checks.py): parameters against the flow's schema by Prefect's own rules, names it refuses."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.core.model import DeploymentSpec
from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml
from prefect_flow_deploy.rules.spec_checks import parameters_refused

SCHEMA = {
    "type": "object",
    "title": "Parameters",
    "properties": {
        "n": {"type": "integer", "title": "n", "default": 1, "position": 0},
        "when": {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
            "default": None,
            "title": "when",
            "position": 1,
        },
    },
    "required": [],
}


def spec(**fields: object) -> DeploymentSpec:
    values: dict[str, object] = {
        "flow_name": "f", "name": "p", "folder_key": "p/f", "project": "p",
        "entrypoint": "flow.py:f", "work_pool": "pool", "image": "r/p/f:1", "code_dir": "/c",
        "version": "1", "tags": [], "parameter_schema": SCHEMA,
    }  # fmt: skip
    return DeploymentSpec(**{**values, **fields})  # type: ignore[arg-type]


# -- parameters against the schema, names --------------------------------------------------


def test_parameters_are_judged_by_prefect_s_rule() -> None:
    assert parameters_refused(spec(parameters={"n": 3, "when": "2026-01-01"})) is None
    assert parameters_refused(spec(parameters={"when": None})) is None
    name, reason = parameters_refused(spec(parameters={"n": "three"})) or ("", "")
    assert name == "n"
    assert reason == (
        "Validation failed for field 'n'. Failure reason: 'three' is not of type 'integer'"
    )
    assert parameters_refused(spec(parameters={"n": True})) is not None  # JSON: no integer
    assert parameters_refused(spec(parameters={"n": "x"}, enforce_parameter_schema=False)) is None
    assert parameters_refused(spec(parameters={"n": "x"}, parameter_schema=None)) is None


def test_deployment_and_work_pool_names_prefect_refuses_are_errors_at_their_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(
        "deployments:\n- name: daily/eu\n  entrypoint: flow.py:f\n"
        "- name: ok\n  entrypoint: flow.py:f\n  work_pool:\n    name: a&b\n"
    )
    _, problems = read_prefect_yaml(path)
    assert [(p.line, p.message.split(",")[0]) for p in problems] == [
        (2, "the deployment name 'daily/eu' contains '/'"),
        (7, "the work pool name 'a&b' contains '&'"),
    ]


def test_a_parameter_the_flow_does_not_take_fails_it_unless_the_tenant_s_star_gave_it(
    tmp_path: Path,
) -> None:
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.rules.spec_checks import spec_problems
    from prefect_flow_deploy.settings.options import Options

    folder = FlowFolder("p", "f", tmp_path / "p" / "f")
    lines = {"parameters": 3, "parameters.m": 4}
    own = spec(parameters={"m": 1}, source_file=tmp_path / "prefect.yaml", source_lines=lines)
    [problem] = spec_problems(folder, own, Options())
    assert (problem.severity, problem.line, problem.flow) == ("error", 4, "flow.py:f")
    assert "has no parameter 'm' (its parameters: n, when)" in problem.message
    star = Options(parameters={"*": {"env": "dev"}})
    [problem] = spec_problems(folder, spec(parameters={"env": "dev"}), star)
    assert problem.severity == "warning" and "give it per flow name instead" in problem.message
