"""What the Prefect server would refuse about a deployment, judged while planning (so that
`validate`, `plan` and `deploy` all say it, before anything is built): parameters that do
not match the flow's parameter schema, and names Prefect refuses. Each is an error of the one
flow, at the line that sets the value; the folder's other flows and the other folders go on.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import DeploymentSpec, FlowFolder, Problem
from prefect_flow_deploy.core.naming import refused_name
from prefect_flow_deploy.rules.pools import PULL_POLICY_VARIABLE
from prefect_flow_deploy.rules.schema_rules import (
    CircularSchemaRefError,
    compiled,
    refusal,
    without_key,
)
from prefect_flow_deploy.settings.options import Options

# Where a setting came from in the config file: (the file, when found; the line).
SettingAt = tuple[Path | None, int | None]


def spec_problems(
    folder: FlowFolder,
    spec: DeploymentSpec,
    options: Options,
    parameters_at: SettingAt | None = None,
) -> list[Problem]:
    problems = []
    if not spec.source_lines.get("name"):  # named after the project folder
        name_refused = refused_name("deployment", spec.name)
        if name_refused:
            problems.append(
                Problem(
                    "error",
                    f"{name_refused}: deployments are named after the project folder "
                    f"{folder.project!r}. Rename the folder, or give the deployment a `name:` "
                    "in prefect.yaml.",
                    folder.path.parent,
                    None,
                    "Name Prefect refuses",
                    flow=spec.entrypoint,
                )
            )
    return problems + never_pulled(spec, options) + parameter_problems(spec, options, parameters_at)


def never_pulled(spec: DeploymentSpec, options: Options) -> list[Problem]:
    """`image_pull_policy: Never` with an image this run pushes to a registry: a worker runs
    it only if its own engine built it, and the others fail every run with ImageNotFound
    (RaniaElFahli/lastfm_api_pipeline set it beside a local `image:`, which the tool
    replaces: trial round 11 b 6). Sound only where every worker shares the building engine."""
    if not options.registry or spec.job_variables.get(PULL_POLICY_VARIABLE) != "Never":
        return []
    line = spec.source_lines.get(f"job_variables.{PULL_POLICY_VARIABLE}")
    return [
        Problem(
            "warning",
            f"`{PULL_POLICY_VARIABLE}: Never`: a worker starts the run only if its own Docker "
            f"engine has the image, and this one is built here and pushed to {options.registry}: "
            "a worker on another engine (the usual case on GitHub) fails every run with "
            "ImageNotFound. Remove it (the default, IfNotPresent, pulls the image once), unless "
            "every worker shares the engine that builds.",
            spec.source_file,
            line or spec.source_line,
            "Image never pulled",
        )
    ]


def parameter_problems(
    spec: DeploymentSpec, options: Options, parameters_at: SettingAt | None = None
) -> list[Problem]:
    """The deployment's parameters judged against its flow's schema: while planning when the
    source tells the schema, else (a type from a library) once the built image computed it,
    before the write (execute.py): an unknown parameter would otherwise be accepted by the
    server and fail every run."""
    problems = []
    unknown = unknown_parameters(spec)
    for name in unknown[:1]:
        file, line, origin = _parameter_source(spec, name, options, parameters_at)
        known = ", ".join(sorted((spec.parameter_schema or {}).get("properties", {}))) or "none"
        # The tenant's "*" gives its parameters to every flow: one that does not take it
        # may be meant to go without (a warning); anywhere else it names this flow.
        star = _from_star(spec, name, options)
        problems.append(
            Problem(
                "warning" if star else "error",
                f"{spec.entrypoint} has no parameter {name!r} (its parameters: {known}), so "
                f"every run of {spec.full_name} would fail before the flow starts (Prefect's "
                "SignatureMismatchError: a run's parameters are passed as the function's "
                + (
                    'arguments). The tenant\'s `parameters: {"*": …}` gives it to every '
                    "flow: give it per flow name instead."
                    if star
                    else f"arguments). Remove it{origin}, or fix its name."
                ),
                file,
                line,
                "Parameters",
                flow=None if star else spec.entrypoint,
            )
        )
    refused = parameters_refused(spec)
    if refused is not None and not unknown:
        name, reason = refused
        file, line, origin = _parameter_source(spec, name, options, parameters_at)
        problems.append(
            Problem(
                "error",
                f"the parameters of {spec.full_name} do not match the flow's signature "
                f"({spec.entrypoint}), so the Prefect server would refuse the deployment "
                f"(enforce_parameter_schema): {reason}. Fix the value{origin}, or the "
                "flow's type hint.",
                file,
                line,
                "Parameters",
                flow=spec.entrypoint,
            )
        )
    return problems


def unknown_parameters(spec: DeploymentSpec) -> list[str]:
    """Parameters the flow's function does not take: a flow run binds its parameters to the
    function's arguments by name (prefect.utilities.callables.parameters_to_args_kwargs), so
    an unknown name fails every run, whatever `enforce_parameter_schema` says. The schema
    has one property per argument (`*args` and `**kwargs` by their own names)."""
    schema = spec.parameter_schema
    if not schema or not isinstance(schema.get("properties"), dict):
        return []
    return sorted(set(spec.parameters) - set(schema["properties"]))


def parameters_refused(spec: DeploymentSpec) -> tuple[str, str] | None:
    """(the parameter at fault, Prefect's reason) when the server would refuse the
    deployment's parameters, else None. Unknown while the schema is (a signature only the
    built image can tell): the server's answer then says it, at registration."""
    schema = spec.parameter_schema
    if not spec.enforce_parameter_schema or not schema or not spec.parameters:
        return None
    if _simply_valid(spec.parameters, schema) or _plainly_valid(spec.parameters, schema):
        return None
    return _prefect_verdict(spec.parameters, schema)


# JSON Schema's types as Python holds JSON values (a bool is no integer to JSON Schema).
_JSON_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
# Keywords that describe a property without constraining its value.
_ANNOTATIONS = {"title", "description", "default", "position", "examples"}


def _simply_valid(parameters: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when every parameter's property is only a `type` (or an `anyOf` of bare types,
    as `Optional[int]` is written) that its value has: the usual case, decided without
    importing jsonschema (a fifth of a second, which `validate` in pre-commit feels).
    False means "not sure": jsonschema decides then."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return False
    for name, value in parameters.items():
        prop = properties.get(name)
        if not isinstance(prop, dict):
            return False
        options = prop.get("anyOf", [prop]) if set(prop) - _ANNOTATIONS == {"anyOf"} else [prop]
        if not any(
            isinstance(o, dict)
            and set(o) - _ANNOTATIONS == {"type"}
            and _JSON_TYPES.get(o["type"], lambda _v: False)(value)
            for o in options
        ):
            return False
    return True


def _plainly_valid(parameters: dict[str, Any], schema: dict[str, Any]) -> bool:
    """The server's create-time check, without importing Prefect (a second or more of
    start-up, which `validate` in pre-commit cannot afford): `jsonschema.validate` of the
    parameters against the schema without its `required` keys, refusing remote `$ref`s
    (prefect._internal.schemas.validators.validate_values_conform_to_schema). Its update-time
    check (schema_tools.validate) only relaxes this one, so parameters valid here are valid
    there; anything else is judged by Prefect itself (`_prefect_verdict`)."""
    import referencing.exceptions

    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # not JSON: Prefect judges it
        return False
    validator = _plain_validator(key)
    if validator is None:
        return False
    try:
        return not any(True for _ in validator.iter_errors(parameters))
    except (referencing.exceptions.Unresolvable, RecursionError):
        return False


@functools.lru_cache(maxsize=256)
def _plain_validator(schema_json: str) -> Any:
    """The validator `jsonschema.validate` builds for a schema (without its `required`
    keys), None when the schema is no JSON Schema. Built once per distinct schema, not per
    deployment: the meta-schema check is the costly part, and a flow's deployments (one per
    tenant and prefect.yaml entry) share their schema."""
    import jsonschema
    import referencing
    import referencing.exceptions

    stripped = without_key("required", json.loads(schema_json))
    try:
        cls = jsonschema.validators.validator_for(stripped)
        cls.check_schema(stripped)
    except (jsonschema.SchemaError, referencing.exceptions.Unresolvable, RecursionError):
        return None
    return cls(stripped, registry=referencing.Registry())


def _prefect_verdict(parameters: dict[str, Any], schema: dict[str, Any]) -> tuple[str, str] | None:
    """Prefect's own checks, as its server runs them: on create, the request model's
    `validate_parameters_conform_to_schema`; on update, `schema_tools.validate(...,
    raise_on_error=True, ignore_required=True)` (server/api/deployments.py; None allowed only
    where a property has no default), here its copy in schema_rules.py: schema_tools imports
    SQLAlchemy, which the action's image leaves out. Either refusing is an error: the
    deployment is created on a new server."""
    from prefect._internal.schemas.validators import validate_values_conform_to_schema

    try:
        validate_values_conform_to_schema(parameters, schema, ignore_required=True)
    except ValueError as exc:
        path = list(getattr(exc.__cause__, "absolute_path", []))
        return (str(path[0]) if path else "", str(exc))
    try:
        return refusal(compiled(schema, allow_none_with_default=False), parameters)
    except CircularSchemaRefError:
        return ("", "the flow's parameter schema refers to itself")


def _from_star(spec: DeploymentSpec, name: str, options: Options) -> bool:
    """Set by the tenant's `"*"` only (not by the flow's own entry or prefect.yaml)."""
    return (
        name in options.parameters.get("*", {})
        and name not in options.parameters.get(spec.flow_name, {})
        and f"parameters.{name}" not in spec.source_lines
    )


def _parameter_source(
    spec: DeploymentSpec, name: str, options: Options, parameters_at: SettingAt | None
) -> tuple[Path | None, int | None, str]:
    """Where the parameter's value is set: the tenant's `parameters:` (which win; at
    `parameters_at`, found by gather), else the prefect.yaml entry (at the parameter's own
    line when known)."""
    tenant = {**options.parameters.get("*", {}), **options.parameters.get(spec.flow_name, {})}
    if name in tenant or (not name and tenant and not spec.source_lines.get("parameters")):
        file, line = parameters_at or source_line(options.source("parameters"))
        return file, line, f" in the tenant's `parameters:` ({options.source('parameters')})"
    line = spec.source_lines.get(f"parameters.{name}", spec.source_lines.get("parameters"))
    return spec.source_file, line or spec.source_line, " under `parameters:` in prefect.yaml"


_CONFIG_SOURCE = re.compile(r"^(?P<name>[^:]+):(?P<line>\d+) \(")


def source_line(source: str) -> SettingAt:
    """The config file's line a setting came from, read from its source as the cascade
    records it (`prefect-flow-deploy.yaml:7 (tenant prod)`); which file that is, gather
    finds (settings.cascade.config_line)."""
    match = _CONFIG_SOURCE.match(source)
    return (None, int(match["line"])) if match else (None, None)
