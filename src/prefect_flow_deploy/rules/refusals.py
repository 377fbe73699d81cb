"""A deployment write the Prefect server (or Prefect's client models) refused, as a message
at the prefect.yaml line of the field it names, never a dump of the request.

The server answers a request it cannot validate with 422 and
`{"exception_message", "exception_detail": [pydantic errors: loc, msg, input], "request_body"}`
(prefect/server/api/server.py, validation_exception_handler), and refuses parameters that
do not match the schema on update with 409 `{"detail": "Error updating deployment:
Validation failed for field 'x'. …"}` (server/api/deployments.py). Only `loc` and `msg` are
used: `input` and the request body may be large, or hold values not to print.

And, before any write, what the server would refuse, judged by its own rules (a schedule, a
trigger, job variables): the plan fails the folder or the flow instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import DeploymentPlan, DeploymentSpec, Problem
from prefect_flow_deploy.deployment.diff import diff
from prefect_flow_deploy.deployment.fields import by_api
from prefect_flow_deploy.deployment.schedules import ScheduleError
from prefect_flow_deploy.deployment.triggers import TriggerError
from prefect_flow_deploy.rules.job_variables import JobVariableCheck
from prefect_flow_deploy.rules.specs import variable_problem
from prefect_flow_deploy.settings.options import Options

_PARAMETER_FIELD = re.compile(r"Validation failed for field '([^']*)'")


def refusal(
    error: BaseException, spec: DeploymentSpec | None
) -> tuple[str, Path | None, int | None]:
    """What to print for a failed write, and the file and line to annotate."""
    status, details = _details(error)
    if not details:
        return _plain(error), None, None
    path, message = details[0]
    message = message.rstrip(".")
    if spec is None:
        return f"Prefect refused it ({status}): {message}.", None, None
    key = _yaml_key(path, message, error)
    where = f"`{'.'.join(map(str, path))}`: " if path else ""
    line = _line(spec, key, path, message)
    fix = f" Fix `{key}` in prefect.yaml." if key and spec.source_lines else ""
    text = f"the Prefect server refused {spec.full_name} ({status}): {where}{message}.{fix}"
    return text, spec.source_file if line else None, line


def _details(error: BaseException) -> tuple[str, list[tuple[list[Any], str]]]:
    """(status, [(field path in the request body, message)]) of a refused write."""
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "status_code"):
        try:
            body = response.json()
        except ValueError:
            body = None
        status = str(response.status_code)
        if isinstance(body, dict):
            listed = body.get("exception_detail") or body.get("detail")
            if isinstance(listed, list):
                return status, [_from_pydantic(e) for e in listed if isinstance(e, dict)]
            if isinstance(listed, str):
                return status, [([], listed)]
        return status, []
    errors = getattr(error, "errors", None)  # pydantic's ValidationError, in our process
    if callable(errors):
        try:
            return "refused by Prefect's client", [
                _from_pydantic(e, body=False) for e in errors(include_input=False)
            ]
        except TypeError:
            return "refused by Prefect's client", []
    return "", []


def _from_pydantic(error: dict[str, Any], body: bool = True) -> tuple[list[Any], str]:
    loc = list(error.get("loc") or [])
    if body and loc[:1] == ["body"]:
        loc = loc[1:]
    return loc, str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _yaml_key(path: list[Any], message: str, error: BaseException) -> str | None:
    request = getattr(error, "request", None)
    if request is not None and "/automations" in str(getattr(request, "url", "")):
        return "triggers"
    if path:
        # The write's field (a request body key) → the prefect.yaml key that sets it.
        field = by_api(str(path[0]))
        return field.yaml if field is not None else None
    if _PARAMETER_FIELD.search(message) or "parameters" in message:
        return "parameters"
    if "Work pool" in message:
        return "work_pool.name"
    return None


def _line(spec: DeploymentSpec, key: str | None, path: list[Any], message: str) -> int | None:
    """The line of the key in the prefect.yaml entry (a parameter's own line when named),
    else the entry's (or the flow's) line."""
    lines = spec.source_lines
    if key == "parameters":
        named = _PARAMETER_FIELD.search(message)
        name = str(path[1]) if len(path) > 1 else (named.group(1) if named else "")
        found = lines.get(f"parameters.{name.split('.')[0]}") or lines.get("parameters")
        return found or spec.source_line
    if key == "work_pool.job_variables" and len(path) > 1:
        return lines.get(f"job_variables.{path[1]}") or lines.get("work_pool") or spec.source_line
    if key is not None:
        return lines.get(key) or lines.get(key.split(".")[0]) or spec.source_line
    return spec.source_line


def _plain(error: BaseException) -> str:
    """An error without details: an HTTP answer by its status (Prefect's client appends the
    whole response to its message), anything else as it says."""
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "status_code"):
        return (
            f"the Prefect server answered {response.status_code} "
            f"{getattr(response, 'reason_phrase', '')}".rstrip()
        )
    return f"{type(error).__name__}: {error}"


def would_refuse(
    spec: DeploymentSpec, error: Exception | None = None, flow: str | None = None
) -> list[Problem]:
    """The schedule or trigger of the deployment the server would refuse (`error`, else
    judged now, as a create), at its prefect.yaml line."""
    if error is None:
        try:
            diff(spec, None)
        except (ScheduleError, TriggerError) as exc:
            error = exc
        else:
            return []
    key = "schedules" if isinstance(error, ScheduleError) else "triggers"
    line = spec.source_lines.get(key, spec.source_line)
    if isinstance(error, ScheduleError):  # at the schedule's own line (trial round 11 b 5)
        index = next((i for i, s in enumerate(spec.schedules or []) if s == error.config), None)
        line = spec.source_lines.get(f"schedules.{index}", line)
    return [Problem("error", str(error), spec.source_file, line, f"prefect.yaml {key}", flow=flow)]


def refused_variables(
    planned: DeploymentPlan, checks: Mapping[str, JobVariableCheck], options: Options
) -> Problem | None:
    """Job variables about to be written that the server would refuse, judged now with
    its own rule: the folder fails before anything is built. (Unchanged ones were
    accepted already: a re-run with nothing to do does not import Prefect for this.)"""
    spec = planned.spec
    written = planned.action == "create" or {"job_variables", "work_pool_name"} & set(
        planned.changed_fields
    )
    if spec is None or not written or spec.work_pool not in checks:
        return None
    refused = checks[spec.work_pool].refused(spec.job_variables)
    if refused is None:
        return None
    variable, reason = refused
    return variable_problem(
        spec, variable, options,
        f"the work pool {spec.work_pool!r} refuses these job variables: {reason}",
    )  # fmt: skip
