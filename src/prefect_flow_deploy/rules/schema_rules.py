"""Prefect's schema check, as its server runs it on a deployment's parameters and job
variables: `prefect.utilities.schema_tools.validate(..., raise_on_error=True,
ignore_required=True)`, copied from Prefect 3.9.1 (schema_tools/validation.py) once for both.

Why a copy: schema_tools imports SQLAlchemy (hydration.py, for a type), which alone would
keep SQLAlchemy and greenlet in the action's image; and job variables are judged once per
pool here, where Prefect prepares and checks the schema on every call (job_variables.py).
Prefect's validator class adds only a check for hydration placeholders, which plain JSON from
a YAML file never holds. tests/unit/rules/test_schema_rules.py and test_job_variables.py
compare the answers with Prefect's own.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a schema is judged, not with the rules
    from jsonschema import Draft202012Validator


class CircularSchemaRefError(Exception):
    """The schema refers to itself without end (Prefect raises its namesake)."""


def compiled(schema: dict[str, Any], allow_none_with_default: bool) -> Draft202012Validator:
    """The schema as Prefect validates with (`preprocess_schema`, then every `required`
    removed), checked against the meta-schema (jsonschema.SchemaError if it is not a
    JSON Schema). Built as `jsonschema.validate` builds it in Prefect's raising mode: no
    format checker, a registry that fetches nothing."""
    from jsonschema import Draft202012Validator
    from referencing import Registry

    prepared = without_key("required", _preprocessed(schema, allow_none_with_default))
    try:
        Draft202012Validator.check_schema(prepared)
    except RecursionError:
        raise CircularSchemaRefError from None
    return Draft202012Validator(prepared, registry=Registry())


def refusal(validator: Draft202012Validator, instance: Any) -> tuple[str, str] | None:
    """(the top-level key at fault, or ""; Prefect's ValidationError message), None when
    valid. CircularSchemaRefError where Prefect raises it."""
    import referencing.exceptions
    from jsonschema.exceptions import best_match

    try:
        error = best_match(validator.iter_errors(instance))
    except RecursionError:
        raise CircularSchemaRefError from None
    except referencing.exceptions.Unresolvable as exc:
        return ("", f"Validation failed. Failure reason: {exc}")
    if error is None:
        return None
    if error.json_path == "$":
        message = "Validation failed."
    else:
        message = f"Validation failed for field {error.json_path.replace('$.', '')!r}."
    path = list(error.absolute_path)
    return (str(path[0]) if path else "", f"{message} Failure reason: {error.message}")


def without_key(key: str, value: Any) -> Any:
    """prefect.utilities.collections.remove_nested_keys([key], value)."""
    if not isinstance(value, dict):
        return value
    return {k: without_key(key, v) for k, v in value.items() if k != key}


# -- Prefect 3.9.1's schema_tools.validation.preprocess_schema --------------------------------

_BLOCK_REFERENCE = {
    "type": "object",
    "properties": {
        "$ref": {
            "oneOf": [
                {"type": "string", "format": "uuid"},
                {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1},
            ]
        }
    },
    "required": ["$ref"],
}


def _preprocessed(schema: dict[str, Any], allow_none_with_default: bool) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    if "properties" in schema:
        _process_properties(
            schema["properties"], schema.get("required", []), allow_none_with_default
        )
    definitions = schema.get("definitions")
    if isinstance(definitions, dict):  # Prefect fails on any other: no JSON Schema anyway
        for definition in list(definitions.values()):
            if "properties" in definition:
                _process_properties(
                    definition["properties"],
                    definition.get("required", []),
                    allow_none_with_default,
                )
            if "block_type_slug" in definition:  # a block may be given by its id
                definitions[definition["title"]] = {
                    "oneOf": [definition, copy.deepcopy(_BLOCK_REFERENCE)]
                }
    return schema


def _process_properties(
    properties: dict[str, Any], required: list[str], allow_none_with_default: bool
) -> None:
    for key, schema in properties.items():
        # _fix_null_typing: None is accepted where a property is optional (and, for job
        # variables, where it has a default).
        if (
            key not in required
            and "type" in schema
            and schema.get("type") != "null"
            and ("default" not in schema or allow_none_with_default)
        ):
            schema["anyOf"] = [{"type": schema["type"]}, {"type": "null"}]
            del schema["type"]
        # _fix_tuple_items
        if (
            schema.get("items")
            and isinstance(schema["items"], list)
            and not schema.get("prefixItems")
        ):
            schema["prefixItems"] = copy.deepcopy(schema["items"])
            del schema["items"]
        if "properties" in schema:
            _process_properties(
                schema["properties"], schema.get("required", []), allow_none_with_default
            )
