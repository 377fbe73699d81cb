"""Prefect's schema check, copied (schema_rules.py), judged against Prefect's own
`schema_tools.validate(..., raise_on_error=True, ignore_required=True)`: the same answer,
word for word, on the parameter schema of every flow in the corpus and the examples and on
hand-made schemas; and judging parameters imports no SQLAlchemy (the action's image has none).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import SchemaError
from prefect.utilities import schema_tools

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.rules.schema_rules import CircularSchemaRefError, compiled, refusal

ROOT = Path(__file__).resolve().parents[3]
Answer = tuple[str, str] | str | None


def prefect_answer(instance: dict[str, Any], schema: dict[str, Any], none_ok: bool) -> Answer:
    """Prefect's, as spec_checks and job_variables report it: (key, message), or what it raises."""
    try:
        schema_tools.validate(
            instance, schema, raise_on_error=True, ignore_required=True,
            allow_none_with_default=none_ok,
        )  # fmt: skip
    except schema_tools.ValidationError as exc:
        path = list(getattr(exc.__cause__, "absolute_path", []))
        return (str(path[0]) if path else "", str(exc))
    except schema_tools.CircularSchemaRefError:
        return "circular"
    except SchemaError as exc:
        return f"not a schema: {exc.message}"
    return None


def our_answer(instance: dict[str, Any], schema: dict[str, Any], none_ok: bool) -> Answer:
    try:
        return refusal(compiled(schema, none_ok), instance)
    except CircularSchemaRefError:
        return "circular"
    except SchemaError as exc:
        return f"not a schema: {exc.message}"


def flow_schemas() -> dict[str, dict[str, Any]]:
    found = {}
    for root in (ROOT / "tests/corpus/projects", ROOT / "examples/projects"):
        for folder in discover(root):
            for flow in folder.flows:
                if flow.parameter_schema:
                    found[f"{folder.key}:{flow.function}"] = flow.parameter_schema
    return found


SCHEMAS = flow_schemas()
# Values of every JSON type, and shapes a model or a list of them would take.
VALUES: list[Any] = [
    "x", "2026-01-01", 3, 2.5, True, None, [1, "a"], [[1, "a"]], {"limit": "x"},
    {"limit": 2, "path": "/p", "unknown": 1},
]  # fmt: skip


def parameter_sets(schema: dict[str, Any]) -> list[dict[str, Any]]:
    properties = schema.get("properties", {})
    defaults = {n: p["default"] for n, p in properties.items() if "default" in p}
    sets: list[dict[str, Any]] = [defaults, {"not_a_parameter": 1}]
    sets += [{name: value} for name in properties for value in VALUES]
    return sets


def test_the_corpus_gives_schemas_of_every_shape() -> None:
    text = json.dumps(SCHEMAS)
    assert len(SCHEMAS) >= 30
    for shape in ('"definitions"', '"$ref"', '"enum"', '"anyOf"', '"prefixItems"', '"format"'):
        assert shape in text, shape


@pytest.mark.parametrize("key", sorted(SCHEMAS))
def test_every_flow_s_parameters_get_prefect_s_answer(key: str) -> None:
    schema = SCHEMAS[key]
    validator = compiled(schema, allow_none_with_default=False)  # once, as a plan does
    refused = 0
    for parameters in parameter_sets(schema):
        theirs = prefect_answer(parameters, schema, none_ok=False)
        assert refusal(validator, parameters) == theirs, parameters
        refused += theirs is not None
    assert refused or not schema.get("properties"), "some values must be refused"


MODEL = {
    "title": "Settings",
    "type": "object",
    "properties": {
        "limit": {"title": "Limit", "type": "integer", "default": 10},
        "mode": {"enum": ["fast", "slow"], "type": "string"},
        "window": {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
    },
    "required": ["mode"],
}
BLOCK = {
    "title": "Secret",
    "block_type_slug": "secret",
    "type": "object",
    "properties": {"value": {"type": "string"}},
    "required": ["value"],
}
HAND_MADE: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "scalars, None with and without a default": (
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "default": 1},
                "s": {"type": "string"},
                "r": {"type": "number"},
                "b": {"type": "boolean", "default": False},
            },
            "required": ["r"],
        },
        [
            {"n": None},
            {"s": None},
            {"r": None},
            {"b": None},
            {"n": 1.5},
            {"n": "1"},
            {"s": 3},
            {"r": True},
            {"b": 0},
            {"n": 2, "s": "x", "r": 1, "b": True},
            {},
        ],
    ),
    "nested models through definitions, enums, tuples": (
        {
            "type": "object",
            "properties": {
                "settings": {"$ref": "#/definitions/Settings"},
                "many": {"type": "array", "items": {"$ref": "#/definitions/Settings"}},
                "pair": {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
            },
            "definitions": {"Settings": MODEL},
        },
        [
            {"settings": {"mode": "fast"}},
            {"settings": {"mode": "medium"}},
            {"settings": {"limit": None}},
            {"settings": {"limit": "ten", "mode": 3}},
            {"settings": {"window": [1, 2]}},
            {"settings": {"window": [1, "a", 3]}},
            {"many": [{"mode": "slow"}, {"mode": "x"}]},
            {"many": {}},
            {"pair": [1, "a"]},
            {"pair": ["a", 1]},
            {"settings": "fast"},
        ],
    ),
    "$defs, nested properties, a block given by its id": (
        {
            "type": "object",
            "properties": {
                "outer": {
                    "type": "object",
                    "properties": {"inner": {"type": "integer"}, "deep": {"$ref": "#/$defs/D"}},
                },
                "secret": {"$ref": "#/definitions/Secret"},
            },
            "$defs": {"D": {"type": "object", "properties": {"x": {"const": 1}}}},
            "definitions": {"Secret": BLOCK},
        },
        [
            {"outer": {"inner": None}},
            {"outer": {"inner": "1"}},
            {"outer": {"deep": {"x": 2}}},
            {"secret": {"value": "s"}},
            {"secret": {"$ref": "0b1c6e4e-1f4a-4bd0-9bd5-1e9a4cf2a1b2"}},
            {"secret": {"$ref": {"block_document_id": "abc"}}},
            {"secret": {"$ref": 3}},
            {"secret": {"value": 3}},
        ],
    ),
    "no other parameters": (
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        [{"a": 1}, {"a": 1, "b": 2}],
    ),
    "a reference to another document": (
        {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}},
        [{"a": 1}, {}],
    ),
    "a reference to itself": (
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/A"}},
            "definitions": {"A": {"$ref": "#/definitions/A"}},
        },
        [{"a": 1}],
    ),
    "not a JSON Schema": (
        {"type": "object", "properties": {"a": {"type": "bogus"}}},
        [{"a": 1}],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_MADE))
@pytest.mark.parametrize("none_ok", [False, True])
def test_hand_made_cases_get_prefect_s_answer(case: str, none_ok: bool) -> None:
    schema, parameter_sets_ = HAND_MADE[case]
    for parameters in parameter_sets_:
        theirs = prefect_answer(parameters, schema, none_ok)
        assert our_answer(parameters, schema, none_ok) == theirs, parameters


def test_the_hand_made_cases_reach_every_outcome() -> None:
    answers = [
        prefect_answer(parameters, schema, none_ok=False)
        for schema, sets in HAND_MADE.values()
        for parameters in sets
    ]
    assert None in answers and "circular" in answers
    assert any(isinstance(a, str) and a.startswith("not a schema") for a in answers)
    refused = [a for a in answers if isinstance(a, tuple)]
    assert any(a[0] == "" and "Unresolvable" in a[1] for a in refused)
    assert any(a[1].startswith("Validation failed. Failure reason: Additional") for a in refused)
    assert any(a[0] == "settings" and "'settings.mode'" in a[1] for a in refused)


JUDGE_PARAMETERS = """
import json, sys
from prefect_flow_deploy.core.model import DeploymentSpec
from prefect_flow_deploy.rules.spec_checks import parameters_refused
schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
spec = DeploymentSpec(
    flow_name="f", name="p", folder_key="p/f", project="p", entrypoint="flow.py:f",
    work_pool="pool", image="r/p/f:1", code_dir="/c", version="1", tags=[],
    parameter_schema=schema, parameters={"n": "three"},
)
print(parameters_refused(spec))
print(json.dumps(sorted(sys.modules)))
"""


def test_judging_parameters_imports_no_sqlalchemy() -> None:
    """The action's image has no SQLAlchemy (the Dockerfile's PRUNE): judging parameters,
    down to Prefect's own create-time check, must not need it."""
    done = subprocess.run(
        [sys.executable, "-c", JUDGE_PARAMETERS], capture_output=True, text=True, check=True
    )
    answer, printed = done.stdout.strip().splitlines()
    modules = {name.split(".")[0] for name in json.loads(printed)} | set(json.loads(printed))
    assert "Validation failed for field 'n'" in answer  # judged by Prefect's rules
    assert "prefect._internal.schemas.validators" in modules  # the count sees imports
    assert "sqlalchemy" not in modules and "greenlet" not in modules
