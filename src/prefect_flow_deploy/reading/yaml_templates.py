"""`{{ … }}` templates in a prefect.yaml entry, which `prefect deploy` fills in and this tool
does not (build step outputs, `{{ $ENV }}`, a flow run's fields): each said at its own line.
Block and variable references in job variables are the worker's (kept as written, resolved
at each run), as is the image's; an environment template in the work pool is an error (the
worker never fills it in); a variable in parameters is filled in from the server elsewhere
(rules/server_variables.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from prefect_flow_deploy.core.model import Problem


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


_TEMPLATE = re.compile(r"{{\s*(.*?)\s*}}")
# Resolved by Prefect's worker when it starts each run (BaseJobConfiguration
# .from_template_and_values): kept as written, so a secret never lands in the deployment.
_RUN_TIME_TEMPLATE = re.compile(r"prefect\.(blocks|variables)\.")


def template_problems(
    entry: dict[str, Any],
    node: yaml.Node | None,
    lines: dict[str, int],
    line: int | None,
    path: Path,
) -> list[Problem]:
    """`{{ … }}` templates that `prefect deploy` would fill in (build step outputs, `$ENV`
    values, blocks and variables in fields the worker does not template, a flow run's fields)
    are used as written: say so, each at its own line. Block and variable references in job
    variables are fine as they are (the worker resolves them), and so is the image's."""
    values = _entry_values(node) if node is not None else {}
    problems = []
    for key in ("parameters", "work_pool", "description", "tags"):
        found = (
            _templates(values[key], key == "work_pool")
            if key in values
            else [(t, lines.get(key, line)) for t in _TEMPLATE.findall(str(entry.get(key) or ""))]
        )
        problems += [
            Problem(
                "error" if _never_filled(key, template) else "warning",
                f"`{key}` holds the template `{{{{ {template} }}}}`, which prefect-flow-deploy "
                "does not fill in (there are no build step outputs here, and `$ENV` values "
                "are not copied into deployments); the text is used as written"
                + (_NEVER_FILLED if _never_filled(key, template) else ".")
                + " Per-tenant values belong in prefect-flow-deploy.yaml; in job_variables, "
                "`{{ prefect.blocks.… }}` and `{{ prefect.variables.… }}` are resolved by "
                "the worker at each run."
                + (_BLOCK_PARAMETER if _block_parameter(key, template) else ""),
                path,
                at,
                "prefect.yaml",
            )
            for template, at in found
            if not (key == "parameters" and template.startswith("prefect.variables."))
        ]  # a variable in parameters is filled in from the server (rules/server_variables.py)
    return problems


# `prefect deploy` writes the block document's data into the parameters (its
# resolve_block_document_references runs on the whole entry): a Secret's value in clear in the
# deployment, which this tool never does.
_BLOCK_PARAMETER = (
    " `prefect deploy` would write the block's data (a Secret's value in clear) into the "
    'deployment; load the block in the flow instead (`Secret.load("<name>").get()`), or '
    "pass its name as the parameter."
)


# An environment variable's template in the work pool: the worker fills in only blocks and
# variables, so the infrastructure gets the braces and every run crashes (ralacher/
# prefect-demo's `networks: ["{{ $PREFECT_DOCKER_NETWORK }}"]`, trial round 10 b 6).
_NEVER_FILLED = (
    ", and the worker fills in only blocks and variables, so every run would get the braces "
    "(a network, an env value, a pool of that name): the deployment is not written."
)


def _never_filled(key: str, template: str) -> bool:
    return key == "work_pool" and template.startswith("$")


def _block_parameter(key: str, template: str) -> bool:
    return key == "parameters" and template.startswith("prefect.blocks.")


def _entry_values(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value}


def _templates(node: yaml.Node, in_work_pool: bool) -> list[tuple[str, int | None]]:
    """Each template in a value's strings, with its line: in `work_pool:`, not the job
    variables' image, nor a block or variable in the job variables (the worker's)."""
    found: list[tuple[str, int | None]] = []
    # (node, where: "" outside the job variables, "root" their mapping, "in" below it)
    walk: list[tuple[yaml.Node, str]] = [(node, "")]
    while walk:
        current, where = walk.pop()
        if isinstance(current, yaml.ScalarNode) and isinstance(current.value, str):
            found += [
                (t, _line(current))
                for t in _TEMPLATE.findall(current.value)
                if not (where and _RUN_TIME_TEMPLATE.match(t))
            ]
        elif isinstance(current, yaml.SequenceNode):
            walk += [(item, where and "in") for item in current.value]
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if in_work_pool and current is node and name == "job_variables":
                    walk.append((value, "root"))
                elif not (where == "root" and name == "image"):
                    walk.append((value, where and "in"))
    return sorted(found, key=lambda t: t[1] or 0)
