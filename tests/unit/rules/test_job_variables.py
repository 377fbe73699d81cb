"""The server's rule for job variables (job_variables.py), judged against the server itself:
Prefect's own `_validate_work_pool_job_variables` (prefect/server/api/validation.py, called
here as the deployment routes call it) on the default template of every worker type the
server bundles, for variable sets that are valid, of the wrong type, None, nested, unknown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import prefect.server.api
import pytest
from fastapi import HTTPException
from prefect.server.api.validation import _validate_work_pool_job_variables
from prefect.utilities.schema_tools import ValidationError

from prefect_flow_deploy.rules.job_variables import JobVariableCheck

BUNDLED = (
    Path(prefect.server.api.__file__).parent
    / "collections_data/views/aggregate-worker-metadata.json"
)


def templates() -> dict[str, dict[str, Any]]:
    found = {}
    for collection in json.loads(BUNDLED.read_text()).values():
        for worker in collection.values():
            found[worker["type"]] = worker["default_base_job_configuration"]
    return found


TEMPLATES = templates()
VARIABLE_SETS: list[dict[str, Any]] = [
    {"image": "registry/sales/etl:abc"},
    {"image": "registry/sales/etl:abc", "env": {"A": "1"}},
    {"image": "r/x:1", "env": {"A": 1}},  # a number where the env wants strings
    {"image": "r/x:1", "env": "A=1"},
    {"image": 42},
    {"image": None},
    {"image": "r/x:1", "labels": ["a"]},
    {"image": "r/x:1", "command": None},
    {"image": "r/x:1", "stream_output": "yes"},
    {"image": "r/x:1", "auto_remove": True, "mem_limit": None, "privileged": "no"},
    {"image": "r/x:1", "volumes": ["/a:/b"], "networks": "bridge"},
    {"image": "r/x:1", "namespace": 3, "finished_job_ttl": "ten"},
    {"image": "r/x:1", "cpu": "1", "memory": 512, "region": None},
    {"image": "r/x:1", "unknown_key": {"nested": [1, 2]}},
]


def server_answer(template: dict[str, Any], variables: dict[str, Any]) -> str | None:
    """What the server says of these variables: None when it accepts them."""
    try:
        asyncio.run(
            _validate_work_pool_job_variables(None, "pool", template, variables)  # type: ignore[arg-type]
        )
    except (ValidationError, HTTPException) as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("pool_type", sorted(TEMPLATES))
def test_every_answer_is_the_server_s_own(pool_type: str) -> None:
    check = JobVariableCheck(TEMPLATES[pool_type])
    refused_somewhere = 0
    for variables in VARIABLE_SETS:
        ours = check.refused(variables)
        theirs = server_answer(TEMPLATES[pool_type], variables)
        assert (ours[1] if ours else None) == theirs, (pool_type, variables)
        refused_somewhere += ours is not None
    assert refused_somewhere, "the sets must include ones the server refuses"


def test_the_refused_variable_is_named() -> None:
    refused = JobVariableCheck(TEMPLATES["docker"]).refused({"image": "x", "auto_remove": "yes"})
    assert refused is not None and refused[0] == "auto_remove"
    assert "Validation failed for field 'auto_remove'" in refused[1]
    # None is accepted where the template has a default (the server allows it too).
    assert JobVariableCheck(TEMPLATES["docker"]).refused({"image": "x", "mem_limit": None}) is None


def test_a_template_without_a_schema_refuses_nothing() -> None:
    assert JobVariableCheck({}).refused({"anything": 1}) is None
    assert JobVariableCheck({"variables": {}}).refused({"anything": 1}) is None


def test_the_image_of_each_folder_is_not_a_reason_to_judge_again() -> None:
    check = JobVariableCheck(TEMPLATES["kubernetes"])
    for n in range(50):
        assert check.refused({"image": f"r/p/f{n}:abc", "namespace": "etl"}) is None
    assert len(check._answers) == 1  # one judgement for 50 folders' images
    assert check.refused({"image": "r/p/f:abc", "namespace": 3}) is not None
    assert len(check._answers) == 2
