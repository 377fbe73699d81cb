"""A name a flow file imports at its top from a module of its own folder that the module
never binds (`from helpers import helper, missing_name`): loading the file raises
ImportError, so no run of its flows starts. Said at the import's line before any build (trial
round 10 a 4: 4lissonsilveira/prefect-w-perma-skeleton's `claim.py`, whose function was
commented out, was found only after the build, at the `@flow`).

Only what reading can be sure of: an import at the file's top (not under if/try), from a
module of the folder whose every binding is in its source (no `from x import *`, no
`__getattr__`, `globals()`, `exec`, `setattr`, `vars()`, `sys.modules`, `global`), of a name
that is not a submodule either."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.reading.python_source import FolderSource, Module
from prefect_flow_deploy.reading.python_statements import top_level

TITLE = "Name not in the module"
# Calls and names through which a module may bind names its source does not show.
_DYNAMIC_CALLS = frozenset({"globals", "exec", "setattr", "vars", "eval", "__import__"})
_DYNAMIC_NAMES = frozenset({"__getattr__", "__dict__", "modules"})


def missing_imported_names(
    source: FolderSource, folder: Path, flow_files: list[Path]
) -> list[Problem]:
    problems: list[Problem] = []
    bound: dict[str, frozenset[str] | None] = {}  # by module path: read once a run
    for path in flow_files:
        module = source.module_at(source.real_path(path))
        if module is None:
            continue
        for node in top_level(module.tree.body):
            if isinstance(node, ast.ImportFrom) and node.module:
                problems += _missing(source, module, node, path, folder, bound)
    return problems


def _missing(
    source: FolderSource,
    importer: Module,
    node: ast.ImportFrom,
    path: Path,
    folder: Path,
    bound: dict[str, frozenset[str] | None],
) -> list[Problem]:
    dotted = node.module or ""
    target = source.find(importer, dotted, node.level)
    if target is None:
        return []  # a library, or no module of the folder: the image check's to say
    key = str(target.path)
    if key not in bound:
        bound[key] = _bound_names(target.tree)
    names = bound[key]
    if names is None:
        return []
    package = os.path.basename(key) == "__init__.py"
    written = f"{'.' * node.level}{dotted}"
    found = []
    for alias in node.names:
        if alias.name == "*" or alias.name in names:
            continue
        if source.find(importer, f"{dotted}.{alias.name}", node.level) is not None:
            continue  # a submodule: `from pkg import sub`
        if package and os.path.isdir(os.path.join(os.path.dirname(key), alias.name)):
            continue  # a namespace subpackage
        shown = os.path.relpath(key, source.folder)
        relative = path.relative_to(folder).as_posix()  # only when said: most imports pass
        found.append(
            Problem(
                "error",
                f"`from {written} import {alias.name}`: {shown} binds no `{alias.name}` (nor is "
                f"it a module of the folder), so loading {relative} raises ImportError and no "
                f"run of its flows would start. Import a name {shown} defines, or define it "
                "there.",
                path,
                getattr(alias, "lineno", None) or node.lineno,
                TITLE,
                flow=f"{relative}:*",
            )
        )
    return found


def _bound_names(tree: ast.Module) -> frozenset[str] | None:
    """Every name the module binds when it loads (anywhere outside its functions and
    classes: a tuple, a `for` target, `with … as`, an `except … as`, a walrus, a match
    capture), or None when it may bind more than its source shows."""
    names: set[str] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        if isinstance(node, ast.Global | ast.Nonlocal):
            return None
        if _dynamic_call(node):
            return None
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in _DYNAMIC_NAMES:
                return None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == "__getattr__" or _dynamic_inside(node):
                return None
            names.add(node.name)  # its own bindings are not the module's
            continue
        names.update(_binds(node))
        todo.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def _dynamic_inside(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    """Whether a definition may bind the module's names when it runs (`global x`,
    `globals()[…] = …`, `setattr(sys.modules[__name__], …)`)."""
    return any(
        isinstance(n, ast.Global)
        or _dynamic_call(n)
        or (isinstance(n, ast.Attribute) and n.attr in _DYNAMIC_NAMES)
        for n in ast.walk(node)
    )


def _dynamic_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _DYNAMIC_CALLS
    )


def _binds(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, ast.Import):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []
