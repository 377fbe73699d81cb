"""`{{ prefect.variables.<name> }}` in a deployment's parameters: `prefect deploy` fills each
in with the server's variable when it registers the deployment (prefect.cli.deploy._core:
`resolve_variables` over the whole entry), and nothing fills it in later (the worker
templates the job configuration alone), so a run would receive the braces as text. The
same here, from the values gather read (one request a run). Job variables keep theirs: the
worker resolves them at each run (docs/what-it-builds.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from prefect_flow_deploy.core.model import DeploymentSpec, FlowFolder, Problem

# Prefect's placeholder (prefect.utilities.templating.PLACEHOLDER_CAPTURE_REGEX), of a variable.
_PLACEHOLDER = re.compile(r"({{\s*([\w\.\-\[\]$]+)\s*}})")
PREFIX = "prefect.variables."


def variable_names(folders: Iterable[FlowFolder], tenant: Mapping[str, Any]) -> list[str]:
    """The variables the folders' entries' parameters name, and the tenant's."""
    names: set[str] = _names(dict(tenant))
    for folder in folders:
        for config in folder.deployment_configs:
            names.update(_names(config.parameters))
    return sorted(names)


def _names(value: Any) -> set[str]:
    if isinstance(value, str):
        return {n[len(PREFIX) :] for _, n in _PLACEHOLDER.findall(value) if n.startswith(PREFIX)}
    if isinstance(value, dict):
        return set().union(*(_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_names(v) for v in value))
    return set()


def resolved(value: Any, variables: Mapping[str, Any]) -> Any:
    """The value with each variable placeholder filled in as Prefect's resolve_variables
    does: a string that is one placeholder becomes the variable's value (any JSON type),
    one placeholder among text its `str`; a variable the server lacks, "" (stripped)."""
    if isinstance(value, dict):
        return {k: resolved(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v, variables) for v in value]
    if not isinstance(value, str):
        return value
    found = set(_PLACEHOLDER.findall(value))
    if not any(n.startswith(PREFIX) for _, n in found):
        return value
    if len(found) == 1:
        [(whole, name)] = found
        if whole == value:
            return variables.get(name[len(PREFIX) :], "")
    for whole, name in found:
        if name.startswith(PREFIX):
            known = name[len(PREFIX) :] in variables
            value = value.replace(whole, str(variables[name[len(PREFIX) :]]) if known else "")
    return value


def missing_variables(
    specs: Iterable[DeploymentSpec], variables: Mapping[str, Any]
) -> list[Problem]:
    """A warning for each variable a deployment's parameters name that the server lacks:
    Prefect registers "" in its place, and so does this tool."""
    return [
        Problem(
            "warning",
            f"`parameters` names the variable `{name}`, which the Prefect server does not have: "
            f'the parameter is registered with "" in its place, as `prefect deploy` does. '
            "Create the variable (`prefect variable set "
            f"{name} …`), or write the value.",
            spec.source_file,
            spec.source_lines.get("parameters", spec.source_line),
            "prefect.yaml",
        )
        for spec in specs
        for name in sorted(_names(spec.parameters) - set(variables))
    ]
