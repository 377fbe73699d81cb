"""Which names the code imports from Prefect the image's own Prefect cannot give, read from
its source files, never imported: part of the `check_image` program, whose text
`image_programs.in_image_program` inlines it into (the image has no package to import)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

UNKNOWN = "?"


def prefect_missing(pairs: list[list[str]]) -> list[list[str]]:
    """[module, name] of each `from <module> import <name>` the image's Prefect cannot give
    (name "": the module itself is missing), judged from its source files: a module file,
    and the names its top level binds. Anything that cannot be told (a compiled module, a
    module `__getattr__`, `import *`) passes."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = next(iter(spec.submodule_search_locations))
    out = []
    for module, name in pairs:
        source = module_file(root, module)
        if source is None:
            out.append([module, ""])
        elif source != UNKNOWN and name and module_file(root, f"{module}.{name}") is None:
            bound = top_level_names(source, module, root)
            if bound is not None and name not in bound:
                out.append([module, name])
    return out


def module_file(root: str, module: str) -> str | None:
    """The source of `prefect.a.b` under the package folder `root`; UNKNOWN when it exists
    in another form (compiled); None when there is no such module."""
    path = os.path.join(root, *module.split(".")[1:])
    for candidate in (os.path.join(path, "__init__.py"), path + ".py"):
        if os.path.isfile(candidate):
            return candidate
    folder, stem = os.path.split(path)
    if os.path.isdir(path) or (
        os.path.isdir(folder) and any(n.startswith(stem + ".") for n in os.listdir(folder))
    ):
        return UNKNOWN
    return None


def top_level_names(source: str, module: str = "", root: str = "") -> set[str] | None:
    """The names a module's top level binds (also under `if` and `try`), or None when they
    cannot be told from the source. A module `__getattr__` of Prefect 3's lazy kind gives
    the names of its `_public_api` table, and those Prefect's migration table moved
    (`getattr_migration`); a submodule is the caller's (module_file). Another kind of
    `__getattr__` cannot be told (`from prefect import NoSuchThing` passed every check, and
    every run crashed: Stjefan/prefect-flows' `prefect.deployments.DeploymentImage`)."""
    import ast

    tree = _parsed(source)
    if tree is None:
        return None
    names = _bound(tree)
    if "*" in names:
        return None
    lazy = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__"),
        None,
    )
    if "__getattr__" not in names:
        return names
    used = {n.id for n in ast.walk(lazy) if isinstance(n, ast.Name)} if lazy else set()
    migrated_only = lazy is None and any(  # `__getattr__ = getattr_migration(__name__)`
        isinstance(n, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "__getattr__"
            for t in getattr(n, "targets", [getattr(n, "target", None)])
        )
        and isinstance(n.value, ast.Call)
        and getattr(n.value.func, "id", "") == "getattr_migration"
        for n in tree.body
    )
    if migrated_only:
        used = {"getattr_migration"}
    elif "_public_api" not in used:
        return None
    names |= _dict_keys(tree, "_public_api")
    if "getattr_migration" in used:
        moved = os.path.join(root, "_internal", "compatibility", "migration.py")
        migration = _parsed(moved)
        prefix = f"{module}:"
        keys = _dict_keys(migration, "MOVED_IN_V3") if migration is not None else set()
        names |= {k.removeprefix(prefix) for k in keys if k.startswith(prefix)}
    return names


def _parsed(source: str) -> Any:
    import ast

    try:
        with open(source, "rb") as f:
            return ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None


def _dict_keys(tree: Any, variable: str) -> set[str]:
    """The string keys of the dict literal a module's top level assigns to `variable`."""
    import ast

    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id == variable and isinstance(value, ast.Dict):
            return {
                k.value
                for k in value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return set()


def _bound(tree: Any) -> set[str]:
    """The names a module's top level binds ("*" among them after `import *`)."""
    import ast

    names: set[str] = set()
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)  # its body binds nothing at the top level
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            if isinstance(node, ast.With):
                targets = [i.optional_vars for i in node.items]
            names.update(n.id for t in targets if t is not None for n in ast.walk(t)
                         if isinstance(n, ast.Name))  # fmt: skip
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements.extend(getattr(node, field, []))
    return names
