"""Deployments a file makes in code (`my_flow.serve(cron=…)`, `.deploy(…)`,
`.to_deployment(…)`, Prefect's `serve(…)`), as teams do before they move to prefect.yaml: this
tool never runs them, so the schedules, parameters and other settings they give would be
dropped without a word. Each such call is a warning at its line, naming the settings and
where they go instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from prefect_flow_deploy.core.model import Problem

# A cheap look at the text first: most files make no deployment, and walking a whole tree
# costs more than reading it.
MAY_DEPLOY = re.compile(r"\.(?:serve|deploy|to_deployment)\s*\(")
_METHODS = {"serve", "deploy", "to_deployment"}
# Keywords of Flow.serve / .deploy / .to_deployment (Prefect 3) that make a deployment's
# settings; one of the first set makes the call a deployment (not an unrelated `.serve()`).
_SETTINGS = {
    "cron", "interval", "rrule", "schedule", "schedules", "parameters", "triggers",
    "work_pool_name", "work_queue_name", "job_variables", "concurrency_limit", "paused",
}  # fmt: skip
_ALSO = {"name", "description", "tags", "version", "enforce_parameter_schema"}


def code_deployments(tree: ast.AST, path: Path) -> list[Problem]:
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _METHODS:
            continue
        given = [k.arg for k in node.keywords if k.arg in _SETTINGS | _ALSO]
        if not any(key in _SETTINGS for key in given):
            continue
        problems.append(
            Problem(
                "warning",
                f"`.{node.func.attr}(…)` sets {', '.join(f'`{k}`' for k in given)} in code, "
                "which prefect-flow-deploy never runs: it deploys each flow from the folder's "
                "prefect.yaml, else with its defaults, so these settings are not deployed. "
                "Put them in the flow folder's prefect.yaml (`schedules:`, `parameters:`, "
                "`work_pool:`, … under a `deployments:` entry; docs/what-it-builds.md).",
                path,
                node.lineno,
                "Deployment made in code",
            )
        )
    return sorted(problems, key=lambda p: p.line or 0)  # ast.walk goes breadth first
