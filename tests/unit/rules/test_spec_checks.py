"""What the Prefect server would refuse about a deployment, judged while planning
(spec_checks.py): parameters against the flow's schema by Prefect's own rules, names it refuses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

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


# -- cost: the meta-schema check once per distinct schema ----------------------------------

MODEL_SCHEMA = {
    "type": "object",
    "properties": {"config": {"$ref": "#/definitions/Config", "position": 0}},
    "definitions": {
        "Config": {
            "type": "object",
            "properties": {"region": {"type": "string"}, "retries": {"type": "integer"}},
        }
    },
}


def test_a_schema_is_checked_against_the_meta_schema_once_whatever_its_deployments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parameters only jsonschema can judge (a model-typed one) build their validator once
    per distinct schema: for 10·N deployments sharing two schemas, two meta-schema checks,
    as for N. Each deployment's parameters are still judged (a wrong one is refused)."""
    import jsonschema

    from prefect_flow_deploy.rules import spec_checks

    # Every meta-schema check, whatever the draft, starts with check_schema asking
    # `validator_for(cls.META_SCHEMA, …)` (as tests/unit/run/test_engine_costs.py counts).
    checks = [0]
    real_validator_for = jsonschema.validators.validator_for

    def validator_for(schema: Any, *args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_name == "check_schema":
            checks[0] += 1
        return real_validator_for(schema, *args, **kwargs)

    monkeypatch.setattr(jsonschema.validators, "validator_for", validator_for)
    other = {**MODEL_SCHEMA, "title": "Other"}
    for count in (3, 30):
        spec_checks._plain_validator.cache_clear()
        checks[0] = 0
        for index in range(count):
            config = {"region": f"eu-{index}", "retries": index}
            schema = MODEL_SCHEMA if index % 2 else other
            given = spec(parameters={"config": config}, parameter_schema=schema)
            assert parameters_refused(given) is None
        assert checks[0] == 2, (count, checks[0])
    refused = parameters_refused(
        spec(parameters={"config": {"retries": "many"}}, parameter_schema=MODEL_SCHEMA)
    )
    assert refused is not None and refused[0] == "config"


def test_a_pull_policy_never_with_a_pushed_image_is_said_at_its_line() -> None:
    """RaniaElFahli/lastfm_api_pipeline (trial round 11 b 6): `image_pull_policy: Never` kept
    from a local-image setup was registered with the pushed image, and a worker on another
    engine crashed every run (ImageNotFound). Said when the image goes to a registry; not
    for a run on the local engine (the worker may share it), nor for another policy."""
    from prefect_flow_deploy.rules.spec_checks import never_pulled
    from prefect_flow_deploy.settings.options import Options

    never = spec(
        job_variables={"image_pull_policy": "Never"}, source_file=Path("prefect.yaml"),
        source_line=3, source_lines={"job_variables.image_pull_policy": 9},
    )  # fmt: skip
    [said] = never_pulled(never, Options(registry="ghcr.io/acme/flows"))
    assert (said.severity, said.line) == ("warning", 9)
    assert "fails every run with ImageNotFound" in said.message
    assert never_pulled(never, Options()) == []
    always = spec(job_variables={"image_pull_policy": "Always"})
    assert never_pulled(always, Options(registry="ghcr.io/acme/flows")) == []
