"""The server's rule for a deployment's job variables, judged before anything is built.

Prefect's server refuses job variables its work pool's template does not allow
(prefect/server/api/validation.py, `_validate_work_pool_job_variables`): it calls
`prefect.utilities.schema_tools.validate` in raising mode with `ignore_required`, with the
template's defaults that are themselves valid, and None allowed where there is a default.
This module applies that rule with jsonschema (Prefect's own dependency) directly, for two
reasons measured on a real-shaped repository (625 flows): importing Prefect to reach its
`validate` cost 1.6 of a 3.6 s plan, and calling it per deployment re-checked the template
against the meta-schema every time (89 of 97 profiled seconds). Here everything that depends
only on the pool is done once per pool, and each distinct set of variables is judged once.

The check itself is Prefect's, copied once in schema_rules.py (with `allow_none_with_default`,
as the server asks for job variables), and tests/unit/rules/test_job_variables.py compares
every answer with the server's own on the default template of every worker type it bundles.
"""

from __future__ import annotations

import json
from typing import Any

from prefect_flow_deploy.rules.schema_rules import compiled, refusal, without_key

IMAGE_VARIABLE = "image"
# Keywords of a string schema that may refuse some strings (JSON Schema 2020-12 validation
# and applicators); any other keyword (title, description, example, …) only annotates.
_CONSTRAINTS = {
    "pattern", "format", "enum", "const", "minLength", "maxLength", "contentEncoding",
    "contentMediaType", "anyOf", "oneOf", "allOf", "not", "if", "then", "else", "$ref",
    "$dynamicRef",
}  # fmt: skip


class JobVariableCheck:
    """One work pool's rule. `refused(variables)` is (variable, reason) or None."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.schema: dict[str, Any] | None = template.get("variables") or None
        self._validator: Any = None
        self._defaults: dict[str, Any] = {}
        self._answers: dict[str, tuple[str, str] | None] = {}
        properties = (self.schema or {}).get("properties") or {}
        self._image_is_any_string = _plain_string(properties.get(IMAGE_VARIABLE))

    def refused(self, variables: dict[str, Any]) -> tuple[str, str] | None:
        if self.schema is None or not variables:
            return None
        key = self._key(variables)
        if key not in self._answers:
            self._answers[key] = self._judge(variables)
        return self._answers[key]

    def _key(self, variables: dict[str, Any]) -> str:
        """Variables that get the same answer share a key: the image differs per folder,
        but when the template takes any string there, its value cannot change the answer."""
        if self._image_is_any_string and isinstance(variables.get(IMAGE_VARIABLE), str):
            variables = {**variables, IMAGE_VARIABLE: ""}
        return json.dumps(variables, sort_keys=True, default=repr)

    def _judge(self, variables: dict[str, Any]) -> tuple[str, str] | None:
        from jsonschema.exceptions import SchemaError

        if self._validator is None:
            try:
                self._prepare()
            except SchemaError:
                self.schema = None  # not a JSON Schema: nothing to judge against
                return None
        return refusal(self._validator, {**self._defaults, **variables})

    def _prepare(self) -> None:
        """Once per pool: the defaults the server keeps (each valid on its own, by Prefect's
        non-raising `validate` with a format checker, as the server asks), then the schema
        as the server validates with, checked against the meta-schema once (`jsonschema.
        validate` checks it on every call) and compiled into one validator."""
        import referencing.exceptions
        from jsonschema import Draft202012Validator
        from referencing import Registry

        assert self.schema is not None
        raw = without_key("required", self.schema)
        checker = Draft202012Validator(
            raw, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=Registry()
        )
        for name, attrs in (self.schema.get("properties") or {}).items():
            if not isinstance(attrs, dict) or "default" not in attrs:
                continue
            default = attrs["default"]
            if isinstance(default, dict) and "$ref" in default:
                continue  # a block reference: the server leaves out what it cannot use
            try:
                if next(checker.iter_errors({name: default}), None) is None:
                    self._defaults[name] = default
            except referencing.exceptions.Unresolvable:
                continue  # Prefect raises here; a default it cannot judge is not used
        self._validator = compiled(self.schema, allow_none_with_default=True)


def _plain_string(schema: Any) -> bool:
    """A schema every string satisfies."""
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not _CONSTRAINTS & set(schema)
    )
