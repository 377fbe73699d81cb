"""A write the Prefect server refuses becomes a message at the prefect.yaml line of the field
(refusals.py), never a dump of the request."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pydantic
import pytest

from prefect_flow_deploy.rules.refusals import refusal
from tests.unit.rules.test_spec_checks import spec  # the same deployment, judged by the server

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


def test_a_refused_schedule_is_said_at_its_own_line(tmp_path: Path) -> None:
    """Trial round 11 b 5: the third of three schedules was refused at `schedules:`, not
    at its own line (the one an editor or annotation should point at)."""
    from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml
    from prefect_flow_deploy.rules.refusals import would_refuse

    path = tmp_path / "prefect.yaml"
    path.write_text(
        "deployments:\n- name: d\n  entrypoint: flow.py:f\n  schedules:\n"
        "  - cron: '0 6 * * *'\n  - interval: 600\n  - cron: '0 25 * * *'\n"
    )
    [config], _ = read_prefect_yaml(path)
    judged = spec(schedules=list(config.schedules or ()), source_file=path,
                  source_lines=dict(config.lines))  # fmt: skip
    [problem] = would_refuse(judged)
    assert (problem.line, problem.severity) == (7, "error")
    assert problem.message.startswith('invalid schedule {"cron": "0 25 * * *"}')
