"""What of a file's flows Prefect cannot deploy where they are, said at their lines (the
reader, flow_file_reader.py, finds the flows it can): a `@flow` on a method or inside a
function (Prefect loads an entrypoint's module-level name), a Prefect 1 `with Flow(...)`, and a
`@flow` whose `flow` an if/try at the top binds only one way to Prefect's."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.reading.python_source import (
    FuncDef,
    Module,
)
from prefect_flow_deploy.reading.python_statements import (
    statement_children,
)

PREFECT_FLOW = frozenset({"prefect.flow", "prefect.flows.flow"})
PREFECT1_FLOW = "prefect.Flow"
# Titles of the problems of a flow Prefect cannot deploy where it is defined.
ENCLOSED_FLOW_TITLES = ("Flow in a class", "Flow inside a function")

# Whether an expression of the file names the Prefect name (or one of the names) given.
Names = Callable[[ast.expr, frozenset[str] | str], bool]


def enclosed_flows(tree: ast.AST, path: Path, names: Names) -> list[Problem]:
    """`@flow` on a method or on a function defined inside another: Prefect loads a
    deployment's entrypoint `file.py:name` as a module-level name, so these are never
    deployed (as a subflow they run fine). Said at the line (discovery makes it an error
    when the folder has no other flow). Definitions are statements: only statement
    bodies are walked, in the fields' order (as ast.iter_child_nodes would)."""
    problems: list[Problem] = []
    _walk(tree, None, path, names, problems)
    return problems


def _walk(
    node: ast.AST, owner: ast.AST | None, path: Path, names: Names, problems: list[Problem]
) -> None:
    for child in statement_children(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if owner is not None and not isinstance(child, ast.ClassDef):
                problems += _enclosed_flow(child, owner, path, names)
            _walk(child, child, path, names, problems)
        else:
            _walk(child, owner, path, names, problems)


def _enclosed_flow(func: FuncDef, owner: ast.AST, path: Path, names: Names) -> list[Problem]:
    callees = [d.func if isinstance(d, ast.Call) else d for d in func.decorator_list]
    if not any(names(c, PREFECT_FLOW) for c in callees):
        return []
    if isinstance(owner, ast.ClassDef):
        where = f"a method of the class {owner.name!r}"
        fix = f"move it out of the class, to module level (a `@flow def` that uses {owner.name})"
        title = ENCLOSED_FLOW_TITLES[0]
    else:
        where = f"defined inside the function {getattr(owner, 'name', '?')!r}"
        fix = "move it to module level"
        title = ENCLOSED_FLOW_TITLES[1]
    message = (
        f"the flow {func.name!r} is {where}: Prefect deploys a flow by its "
        "entrypoint `file.py:function`, a module-level name, so it cannot deploy "
        f"this one (it can still run as a subflow). To deploy it, {fix}."
    )
    return [Problem("warning", message, path, func.lineno, title)]


def prefect1_flow(tree: ast.AST, path: Path, names: Names) -> Problem | None:
    """The first `with Flow(...)` of Prefect 1, an error at its line."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.With | ast.AsyncWith):
            continue
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and names(call.func, PREFECT1_FLOW):
                return Problem(
                    "error",
                    "this is a Prefect 1 flow (`with Flow(...)`); Prefect 3 deploys "
                    "functions decorated with `@flow`. Port it: "
                    "https://docs.prefect.io/v3/resources/upgrade-to-prefect-3",
                    path,
                    node.lineno,
                    "Prefect 1 flow",
                )
    return None


def chosen_at_run_time(func: FuncDef, module: Module, relative: str, path: Path) -> list[Problem]:
    """A decorator whose name an if/try at the top binds one way to Prefect's flow, when
    that binding is not the one taken (python_source.Module.undecided and .guarded): which
    one wins is a run-time fact, so the function is no flow read here."""
    problems = []
    for decorator in func.decorator_list:
        callee = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(callee, ast.Name) or module.undecided.get(callee.id) not in PREFECT_FLOW:
            continue
        message = (
            f"`@{callee.id}` on {func.name!r}: {relative} binds `{callee.id}` under if/try, "
            "one way to Prefect's flow, so which one it is is decided only when the file "
            "runs: the flow is not deployed. Import Prefect's flow unconditionally (`from "
            "prefect import flow`)."
        )
        problems.append(Problem("warning", message, path, func.lineno, "Flow not readable"))
    return problems


def called_at_import(tree: ast.Module, path: Path, functions: set[str]) -> list[Problem]:
    """A statement at the file's top calling one of its flows (`etl()`, `asyncio.run(etl())`,
    no `if __name__ == "__main__":`): the worker's process imports the file to start each
    run, so every run of the deployment runs the flow once more, as a run of its own (trial
    round 9 b 10); the image check does not load such a file."""
    return [
        Problem(
            "warning",
            f"`{ast.unparse(node).strip()}` at the top of the file runs the flow whenever the "
            "file is imported: each run of its deployments imports it, so runs the flow once "
            'more, as a flow run of its own. Put it under `if __name__ == "__main__":`.',
            path,
            node.lineno,
            "Flow run at import",
        )
        for node in tree.body
        if isinstance(node, ast.Expr)
        and any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
            for n in ast.walk(node.value)
        )
    ]


def beyond_the_top(
    above: list[tuple[ast.ImportFrom, bool]], path: Path, relative: str
) -> list[Problem]:
    """`from ..tasks.t import x` in a flow file: Prefect loads an entrypoint's file as a
    top-level module of its own (prefect.utilities.importtools.load_script_as_module), so
    every level above the first is beyond it and the load fails (trial round 10 a 1: said
    only after the build, at the `@flow`). At the top an error; in a function a warning."""
    problems = []
    parts = PurePosixPath(relative).parent.parts  # the flow file's folders in the flow folder
    for node, nested in above:
        up = node.level - 1
        base = list(parts[: len(parts) - up]) if up <= len(parts) else None
        names = ", ".join(a.name for a in node.names)
        statement = f"from {'.' * node.level}{node.module or ''} import {names}"
        instead = " Import it by its path in the flow folder, the working directory of each run" + (
            f": `from {'.'.join([*base, node.module])} import {names}`."
            if base is not None and node.module
            else "."
        )
        problems.append(
            Problem(
                "warning" if nested else "error",
                f"`{statement}`: Prefect loads a flow file as a top-level module of its own, so "
                f'an import {node.level} levels up is beyond it and fails with "attempted '
                'relative import beyond top-level package" '
                + ("when the function runs." if nested else "at every load: no run would start.")
                + instead,
                path,
                node.lineno,
                "Relative import beyond the flow file",
            )
        )
    return problems
