"""Deployments a file makes in code (`my_flow.serve(cron=…)`, `.deploy(…)`,
`.to_deployment(…)`, Prefect's `serve(…)`), as teams do before they move to prefect.yaml: this
tool never runs them, so the schedules, parameters and other settings they give would be
dropped without a word. Each such call is a warning at its line, naming the settings and
where they go instead; silent once an entry of the folder's prefect.yaml names that flow
(`discovery`: the settings moved there, the call is a leftover)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path

from prefect_flow_deploy.core.model import DeploymentConfig, FlowSpec, Problem, config_matches

CODE_DEPLOYMENT = "Deployment made in code"  # the title of such a call's warning

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


def code_deployments(
    tree: ast.AST, path: Path, flows: Sequence[FlowSpec] = (), named_only: bool = False
) -> list[Problem]:
    """A warning per call making a deployment; `flows`: the file's own, so a call on one of
    them (`etl.deploy(…)`) names it (the problem's `flow`). `named_only`: Prefect's layout,
    where a flow no entry names is not deployed at all (mfonekpo/deploy-test, trial round
    10 b 4: told it was deployed "with its defaults")."""
    problems = []
    by_function = {f.function: f.entrypoint for f in flows}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _METHODS:
            continue
        given = [k.arg for k in node.keywords if k.arg in _SETTINGS | _ALSO]
        if not any(key in _SETTINGS for key in given):
            continue
        remote = _remote_source(node.func.value, tree)
        problems.append(
            Problem(
                "warning",
                f"`.{node.func.attr}(…)` sets {', '.join(f'`{k}`' for k in given)} in code, "
                "which prefect-flow-deploy never runs: it deploys each flow from the folder's "
                "prefect.yaml, else with its defaults, so these settings are not deployed. "
                "Put them in the flow folder's prefect.yaml (`schedules:`, `parameters:`, "
                "`work_pool:`, … under a `deployments:` entry; docs/what-it-builds.md)."
                if remote is None and not named_only
                else f"`.{node.func.attr}(…)` sets {', '.join(f'`{k}`' for k in given)} in "
                "code, which prefect-flow-deploy never runs, and no entry of the repository's "
                "prefect.yaml names this file: in Prefect's layout only the flows the entries "
                "name are deployed, with the entries' settings. Put these (`schedules:`, "
                "`parameters:`, `work_pool:`, …) in the entry that names the flow, or add one "
                "(`entrypoint: <file>.py:<function>`)."
                if remote is None
                else f"`.{node.func.attr}(…)` deploys a flow from {remote}, code kept outside "
                "this repository: prefect-flow-deploy deploys this repository's flows only "
                "and never runs this call, so that deployment is not made or updated here. "
                "Deploy it where its code lives, or keep running this script.",
                path,
                node.lineno,
                CODE_DEPLOYMENT,
                flow=by_function.get(_receiver(node.func.value) or ""),
            )
        )
    return sorted(problems, key=lambda p: p.line or 0)  # ast.walk goes breadth first


def moved_to_entry(
    problem: Problem, flows: Sequence[FlowSpec], entries: Sequence[DeploymentConfig]
) -> bool:
    """A deployment made in code on a flow an entry of the folder deploys: a leftover."""
    if problem.title != CODE_DEPLOYMENT or problem.flow is None:
        return False
    named = (f for f in flows if f.entrypoint == problem.flow)
    return any(config_matches(c, f) for f in named for c in entries)


def _chain(value: ast.expr) -> tuple[list[ast.Call], ast.expr]:
    """The method calls a method is called on, outermost first, and what the chain starts
    from: `[with_options(…), from_source(…)]` and `flow` of
    `flow.from_source(…).with_options(…).deploy(…)`."""
    calls: list[ast.Call] = []
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        calls.append(value)
        value = value.func.value
    return calls, value


def _receiver(value: ast.expr) -> str | None:
    """The name a method is called on: `etl` of `etl.deploy(…)` and of
    `etl.with_options(…).deploy(…)`."""
    start = _chain(value)[1]
    return start.id if isinstance(start, ast.Name) else None


def _remote_source(value: ast.expr, tree: ast.AST) -> str | None:
    """The URL `from_source(…)` was given in the chain a method is called on (a string, a
    module constant holding one, or `GitRepository(url=…)`), when it names code elsewhere:
    `https://…`, `git@…`, `s3://…`."""
    for call in _chain(value)[0]:
        if not isinstance(call.func, ast.Attribute) or call.func.attr != "from_source":
            continue
        for source in [*call.args[:1], *(k.value for k in call.keywords if k.arg == "source")]:
            if isinstance(source, ast.Call):  # GitRepository(url=…), RemoteStorage(…)
                source = next(
                    (k.value for k in source.keywords if k.arg == "url"),
                    source.args[0] if source.args else source,
                )
            if isinstance(source, ast.Name):  # SOURCE_REPO = "https://…" (trial 11 a 10)
                source = _module_constant(tree, source.id) or source
            text = source.value if isinstance(source, ast.Constant) else None
            if isinstance(text, str) and ("://" in text or text.startswith("git@")):
                return text
    return None


def _module_constant(tree: ast.AST, name: str) -> ast.Constant | None:
    """The string a module's top level last binds to `name`, when that is a literal."""
    found = None
    for node in getattr(tree, "body", []):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ) or (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and node.target.id == name):  # fmt: skip
            value = node.value
            found = value if isinstance(value, ast.Constant) else None
    return found


def root_scripts(root: Path, named: set[Path]) -> list[Problem]:
    """The deployments made in code by the scripts at the top of a repository in Prefect's
    layout that no entry names (a `deploy.py` of `flow.from_source(…).deploy(schedule=…)`):
    never run here either, so what they set is not deployed (ABZ-Aaron/prefect-server-test,
    trial round 8 a 4). Read only when one may deploy."""
    problems: list[Problem] = []
    for path in sorted(root.glob("*.py")):
        if path in named or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            if MAY_DEPLOY.search(text):
                problems += code_deployments(ast.parse(text), path, named_only=True)
        except (OSError, SyntaxError, ValueError):
            continue  # a script that cannot be read says nothing of deployments
    return problems
