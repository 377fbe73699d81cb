"""Checks made before building (issue 15): the rules themselves, in milliseconds. The
bad-input suite (tests/bad_inputs.py) runs every case through validate, plan and deploy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pydantic
import pytest
import yaml

from prefect_flow_deploy.context import LARGE_FILE, large_files
from prefect_flow_deploy.dockerfile import dockerfile_problems
from prefect_flow_deploy.model import DeploymentSpec
from prefect_flow_deploy.prefect_yaml import read_prefect_yaml
from prefect_flow_deploy.refusals import refusal
from prefect_flow_deploy.requirements import insecure_index_problems, plain_http_host
from prefect_flow_deploy.spec_checks import parameters_refused
from prefect_flow_deploy.yaml_limits import MAX_NODES, YamlTooLarge, check_expansion

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


# -- YAML size and aliases -----------------------------------------------------------------


def bomb(levels: int) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_an_anchor_before_it_is_constructed() -> None:
    text = bomb(9)  # 10^9 strings from 9 lines
    with pytest.raises(YamlTooLarge) as refused:
        check_expansion(yaml.compose(text), text)
    assert refused.value.line is not None and 1 <= refused.value.line <= 9
    assert "YAML aliases expand this file to" in refused.value.message
    assert f"at most {MAX_NODES:,}" in refused.value.message


def test_aliases_used_as_intended_pass() -> None:
    text = "base: &base {cron: '0 * * * *', timezone: UTC}\nx: [*base, *base, *base]\n"
    check_expansion(yaml.compose(text), text)  # no exception
    text = bomb(4)  # 10,000 values: within the limit
    check_expansion(yaml.compose(text), text)


def test_an_anchor_that_holds_itself_is_refused_at_its_line() -> None:
    text = "ok: 1\nloop: &l [1, *l]\n"
    with pytest.raises(YamlTooLarge) as refused:
        check_expansion(yaml.compose(text), text)
    assert refused.value.line == 2 and "holds an alias of itself" in refused.value.message


def test_prefect_yaml_alias_bomb_and_size_are_problems_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text("definitions:\n" + "".join(f"  {line}\n" for line in bomb(8).splitlines()))
    _, [problem] = read_prefect_yaml(path)
    assert problem.severity == "error" and problem.file == path and problem.line
    path.write_text("deployments: []\n# " + "x" * 1_100_000 + "\n")
    _, [problem] = read_prefect_yaml(path)
    assert "1,100,019 bytes" in problem.message and problem.file == path


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


# -- Dockerfile ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# syntax=docker/dockerfile:1\nARG V=1\nFROM base:$V\nRUN x\n", []),
        ("# comment\n\nRUN echo hi\nCOPY . /x\n", [(3, "`RUN` comes before any `FROM`")]),
        ("ARG BASE_IMAGE\n", [(1, "has no `FROM`")]),
        ("\n# only a comment\n", [(1, "has no instruction")]),
        ("FROM base\nRUNN echo\n", [(2, "unknown instruction `RUNN`")]),
        ("FROM base\nRUN <<EOF\nset -e\necho hi\nEOF\nCOPY . .\n", []),
        ("FROM base\nRUN apt-get install \\\n  curl \\\n  git\n", []),
        ("# escape=`\nFROM base\nRUN a `\n  b\n", []),
    ],
)
def test_dockerfile_mistakes_buildkit_would_refuse(
    text: str, expected: list[tuple[int, str]]
) -> None:
    found = dockerfile_problems(text)
    assert [line for line, _ in found] == [line for line, _ in expected]
    for (_, message), (_, part) in zip(found, expected, strict=True):
        assert part in message


# -- requirements.txt, large files ---------------------------------------------------------


def test_plain_http_indexes_are_warned_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "--index-url https://pypi.org/simple\n--extra-index-url http://ci:tok@pypi.acme/simple\n"
        "-i http://localhost:8080/simple\n--trusted-host mirror.acme\n"
        "--find-links=http://mirror.acme/wheels  # same host, trusted\nrequests\n"
    )
    problems = insecure_index_problems(path)
    assert [p.line for p in problems] == [2, 5]
    assert "pip refuses it unless `--trusted-host pypi.acme`" in problems[0].message
    assert "only silences pip" in problems[1].message
    assert plain_http_host("HTTP://[::1]:3141/simple") is None


def test_large_files_are_found_by_size_alone(tmp_path: Path) -> None:
    (tmp_path / "big.bin").touch()
    with (tmp_path / "big.bin").open("r+b") as handle:
        handle.truncate(LARGE_FILE + 1)  # sparse: nothing written
    (tmp_path / "small.txt").write_text("x")
    assert large_files(tmp_path, ["big.bin", "small.txt", "gone.txt"]) == [
        ("big.bin", LARGE_FILE + 1)
    ]


# -- the server's refusal at the prefect.yaml line -----------------------------------------

# As the stack's Prefect 3.9.1 server answered POST /deployments/ and PATCH
# /deployments/{id} with parameters that do not match the schema (the 422 body is
# prefect/server/api/server.py's validation_exception_handler).
CREATE_422 = {
    "exception_message": "Invalid request received.",
    "exception_detail": [
        {
            "type": "value_error",
            "loc": ["body"],
            "msg": "Value error, Validation failed for field 'n'. Failure reason: 'x' is not "
            "of type 'integer'",
            "input": {"name": "p", "parameters": {"n": "x"}},
            "ctx": {"error": {}},
        }
    ],
    "request_body": {"name": "p", "parameters": {"n": "x"}, "secret-ish": "s3cr3t"},
}
UPDATE_409 = {
    "detail": "Error updating deployment: Validation failed for field 'n'. Failure reason: "
    "'x' is not valid under any of the given schemas"
}


def http_error(status: int, body: dict[str, object], path: str) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", f"http://prefect/api{path}")
    response = httpx.Response(status, json=body, request=request)
    return httpx.HTTPStatusError(f"{status} … Response: {body}", request=request, response=response)


def test_a_422_becomes_a_message_at_the_parameter_s_line(tmp_path: Path) -> None:
    where = spec(
        source_file=tmp_path / "prefect.yaml",
        source_line=2,
        source_lines={"name": 2, "parameters": 4, "parameters.n": 5},
    )
    message, file, line = refusal(http_error(422, CREATE_422, "/deployments/"), where)
    assert (file, line) == (tmp_path / "prefect.yaml", 5)
    assert message == (
        "the Prefect server refused f/p (422): Validation failed for field 'n'. Failure "
        "reason: 'x' is not of type 'integer'. Fix `parameters` in prefect.yaml."
    )
    assert "s3cr3t" not in message and "request_body" not in message
    message, file, line = refusal(http_error(409, UPDATE_409, "/deployments/1"), where)
    assert line == 5 and "(409)" in message


def test_a_field_named_by_loc_and_a_client_side_refusal(tmp_path: Path) -> None:
    where = spec(source_file=tmp_path / "prefect.yaml", source_line=2, source_lines={"name": 3})
    body = {"exception_detail": [{"loc": ["body", "name"], "msg": "String should match"}]}
    message, _, line = refusal(http_error(422, body, "/deployments/"), where)
    assert line == 3 and "`name`: String should match" in message

    class Named(pydantic.BaseModel):
        name: str = pydantic.Field(pattern="^[^/]*$")

    with pytest.raises(pydantic.ValidationError) as refused:
        Named(name="a/b")
    message, _, line = refusal(refused.value, where)
    assert line == 3 and "refused by Prefect's client" in message
    assert "a/b" not in message  # the input is never printed


def test_an_answer_without_details_is_its_status_not_a_dump() -> None:
    error = http_error(500, {}, "/deployments/")
    message, file, line = refusal(error, spec())
    assert message == "the Prefect server answered 500 Internal Server Error"
    assert (file, line) == (None, None)
    assert json.dumps(CREATE_422["request_body"]) not in message


def test_a_config_file_alias_bomb_stops_the_run_at_its_line(tmp_path: Path) -> None:
    """The config file is read before anything else: a bomb there is a wrong config file
    (exit 3), at the file and line, before its values are built."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "prefect-flow-deploy.yaml").write_text(
        "defaults:\n  tags: [x]\ntenants:\n  prod:\n    parameters:\n"
        + "".join(f"      {line}\n" for line in bomb(9).splitlines())
    )
    done = subprocess.run(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "validate", "--tenant", "prod"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "prefect-flow-deploy.yaml:13: YAML aliases expand this file to" in done.stderr


def test_a_parameter_the_flow_does_not_take_fails_it_unless_the_tenant_s_star_gave_it(
    tmp_path: Path,
) -> None:
    from prefect_flow_deploy.model import FlowFolder
    from prefect_flow_deploy.options import Options
    from prefect_flow_deploy.spec_checks import spec_problems

    folder = FlowFolder("p", "f", tmp_path / "p" / "f")
    lines = {"parameters": 3, "parameters.m": 4}
    own = spec(parameters={"m": 1}, source_file=tmp_path / "prefect.yaml", source_lines=lines)
    [problem] = spec_problems(folder, own, Options())
    assert (problem.severity, problem.line, problem.flow) == ("error", 4, "flow.py:f")
    assert "has no parameter 'm' (its parameters: n, when)" in problem.message
    star = Options(parameters={"*": {"env": "dev"}})
    [problem] = spec_problems(folder, spec(parameters={"env": "dev"}), star)
    assert problem.severity == "warning" and "give it per flow name instead" in problem.message
