"""Which files of a flow folder a flow run loads: the flow files and the folder's modules they
import (at their top or inside a function), found by reading them. A file no run loads (a
deploy script run by hand, a test's conftest.py) is not judged as if one did."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path

from prefect_flow_deploy.core.model import ModuleImport, Problem
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.flows import REMOVED_IN_PREFECT_3, UNREADABLE
from prefect_flow_deploy.reading.outside_imports import IN_EVERY_IMAGE
from prefect_flow_deploy.reading.python_source import FolderSource, Module


def loaded_files(source: FolderSource, flow_files: list[Path]) -> set[Path]:
    """The folder's files a flow run may load: the flow files, and every module of the
    folder they import, at their top or inside a function (run later, but run), and so on.
    A file outside it (a script run by hand, a test) is never imported by a run."""
    todo = [m for p in flow_files if (m := source.module_at(source.real_path(p))) is not None]
    loaded = {m.path for m in todo}
    while todo:
        module = todo.pop()
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                targets = [source.find(module, alias.name, 0) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                dotted = node.module or ""
                targets = [source.find(module, dotted, node.level)] + [
                    source.find(module, f"{dotted}.{a.name}" if dotted else a.name, node.level)
                    for a in node.names
                    if a.name != "*"
                ]
            else:
                continue
            for target in targets:
                if target is not None and target.path not in loaded:
                    loaded.add(target.path)
                    todo.append(target)
    return loaded


def imported_modules(source: FolderSource, flow_files: list[Path]) -> list[Path]:
    """The folder's modules the flow files load, but those files, as the folder was given
    (Prefect's layout reads only the entries' files: a package a helper imports was not
    required of the image, and every run crashed; broepke/prefect-dka)."""
    real = {source.real_path(p) for p in flow_files}
    loaded = sorted(str(p) for p in loaded_files(source, flow_files))
    given = [source.given + path[len(source.folder) :] for path in loaded]
    return [Path(p) for p in given if source.real_path(p) not in real]


def as_loaded(
    source: FolderSource,
    folder: Path,
    flow_files: list[Path],
    imports: list[ModuleImport],
    problems: list[Problem],
) -> tuple[list[ModuleImport], list[Problem]]:
    """A file no flow run loads (a deploy script of Prefect 2, a test's conftest.py) is not
    judged as if one did: what it imports is not required of the image, and a name Prefect 3
    removed is a warning there. It failed the folder, where `prefect deploy` deploys its
    flows (hegdehog/data-engineering-zoomcamp-2023), and asked for pytest in the image."""
    removed = {p.file for p in problems if p.title == REMOVED_IN_PREFECT_3 and p.file}
    broken = {p.file for p in problems if p.title in UNREADABLE and p.file} if flow_files else set()
    others = ({folder / i.file for i in imports} | removed | broken) - set(flow_files)
    if not others:  # the usual folder: flow files alone, or modules nothing to say of
        return imports, problems
    loaded = loaded_files(source, flow_files)
    unloaded = {
        f
        for f in others
        if Path(source.real_path(f)) not in loaded
        and source.real_path(f) not in source.unparsable_imported
    }
    if not unloaded:
        return imports, problems
    kept = [i for i in imports if folder / i.file not in unloaded]
    said = [
        not_loaded(p)
        if p.file in unloaded and p.title == REMOVED_IN_PREFECT_3
        else not_read(p)
        if p.file in unloaded and p.title in UNREADABLE and not _may_hold_a_flow(p.file)
        else p
        for p in problems
    ]
    return kept, said


def not_read(problem: Problem) -> Problem:
    """A file of the folder that is not Python (a SQL script named `create_bronze.py`), that
    no flow file imports and that names no flow: no run loads it, and Prefect never reads
    it (BryanWille/br381-risk-pipeline: it failed the folder, trial round 10 a 3)."""
    return replace(
        problem,
        severity="warning",
        message=f"{problem.cause}: no flow of the folder imports this file and it names no flow, so "
        "no run loads it and the folder's flows deploy. If it is not Python, rename it "
        "(`.sql`, `.txt`); if it is, fix it.",
    )


def _may_hold_a_flow(path: Path) -> bool:
    """Whether a file that does not parse may define a flow (kept an error: its flows would
    go undeployed unseen)."""
    try:
        return b"flow" in file_reads.read_bytes(path).lower()
    except OSError:
        return True


def not_loaded(problem: Problem) -> Problem:
    return replace(
        problem,
        severity="warning",
        message=f"{problem.cause}: Prefect 3 removed it, and no flow of the folder imports this "
        "file, so no run does (a script run by hand?). Port it, or move it out of the flow "
        "folder.",
    )


def own_file_errors(
    source: FolderSource, folder: Path, flow_files: list[Path], problems: list[Problem]
) -> list[Problem]:
    """A name Prefect 3 removed, imported at a flow file's top, fails that file's flows
    (`flow`: `<file>:*`), not the folder, when no other flow file loads the file: the
    folder's other flows deploy (Stjefan/prefect-flows: one file's `prefect.filesystems`
    import failed the folder's three flows, shown as one row `-/<project>`)."""
    files = set(flow_files)
    marked = [
        p
        for p in problems
        if p.title == REMOVED_IN_PREFECT_3
        and p.severity == "error"
        and p.flow is None
        and p.file in files
    ]
    if not marked or len({p.file for p in marked}) == len(files):
        return problems  # none, or every flow file: the folder fails as before
    alone = {  # the marked files no other flow file loads
        file
        for file in {p.file for p in marked if p.file is not None}
        if Path(source.real_path(file))
        not in loaded_files(source, [f for f in flow_files if f != file])
    }
    return [
        replace(p, flow=f"{p.file.relative_to(folder).as_posix()}:*")
        if p in marked and p.file in alone
        else p
        for p in problems
    ]


# What a flow file's load may raise at, as a run loads it: `load`, code of its own (Prefect
# loads it in the image); else `libraries`, the imports of libraries at its top or at the top
# of the folder's modules it imports (module, names from it), which the check imports alone,
# without Prefect (the usual flow file: `import pandas` above definitions; Prefect is loaded
# only when one fails). Neither: nothing is loaded.
@dataclass(frozen=True)
class LoadRisk:
    load: bool = False
    libraries: tuple[tuple[str, tuple[str, ...]], ...] = ()


NOTHING, LOAD = LoadRisk(), LoadRisk(load=True)


def load_risk(source: FolderSource, path: Path, flow_functions: set[str]) -> LoadRisk:
    """Whether loading the file runs code that may raise (a library import, a call at its
    top, `1/0`, `asyncio.run(…)`), so the image check loads it as a run would: a module
    raising there crashed every run of a deployment said to be created (Cam0505/CamOnPrefect,
    domoench/prefect-df, tekumara/prefect-demo). Not one that calls its own flow at its top
    (no `__main__` guard): loading it would run that flow in the check."""
    module = source.module_at(source.real_path(path))
    if module is None:
        return NOTHING  # unreadable: its reader said so
    if any(isinstance(n, ast.Expr) and _calls(n.value, flow_functions) for n in module.tree.body):
        return NOTHING
    libraries: dict[str, set[str]] = {}
    if not _imports_alone(source, module, libraries, set()):
        return LOAD
    return LoadRisk(libraries=tuple((m, tuple(sorted(n))) for m, n in sorted(libraries.items())))


def _imports_alone(
    source: FolderSource, module: Module, libraries: dict[str, set[str]], seen: set[Path]
) -> bool:
    """Whether the module's top runs nothing that may raise but imports, gathering the
    libraries they import, through the folder's modules they import (each judged alike)."""
    seen.add(module.path)
    for node in module.tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if not _import_alone(source, module, node, libraries, seen):
                return False
        elif _may_raise(node):
            return False
    return True


def _import_alone(
    source: FolderSource,
    module: Module,
    node: ast.Import | ast.ImportFrom,
    libraries: dict[str, set[str]],
    seen: set[Path],
) -> bool:
    if isinstance(node, ast.ImportFrom) and (node.level or any(a.name == "*" for a in node.names)):
        return False  # a relative import or a star: what binds is Prefect's loading to tell
    dotted = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    for name in dotted:
        if name.split(".")[0] in IN_EVERY_IMAGE:
            continue
        parts = name.split(".")
        own = [source.find(module, ".".join(parts[: i + 1]), 0) for i in range(len(parts))]
        if not any(own):  # a library: the check imports it, and the names taken from it
            names = [] if isinstance(node, ast.Import) else [a.name for a in node.names]
            libraries.setdefault(name, set()).update(names)
            continue
        if not all(own) or not all(
            m.path in seen or _imports_alone(source, m, libraries, seen) for m in own if m
        ):
            return False
        if isinstance(node, ast.ImportFrom) and not _names_alone(
            source, module, own[-1], node, libraries, seen
        ):
            return False
    return True


def _names_alone(
    source: FolderSource,
    importer: Module,
    target: Module | None,
    node: ast.ImportFrom,
    libraries: dict[str, set[str]],
    seen: set[Path],
) -> bool:
    """Each name taken from the folder's module is bound at its top, or is a submodule of it
    (judged alike); else the import may raise, and Prefect's loading tells."""
    if target is None or target.stars:
        return False
    for alias in node.names:
        sub = source.find(importer, f"{node.module}.{alias.name}", 0)
        if sub is not None:
            if sub.path not in seen and not _imports_alone(source, sub, libraries, seen):
                return False
        elif alias.name not in target.names:
            return False
    return True


_DEFINING = ("flow", "task")  # `etl = flow(fn)`: binds a flow, runs nothing of the user's


def _may_raise(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return False
    if isinstance(node, ast.Expr):
        return not isinstance(node.value, ast.Constant)
    if isinstance(node, ast.If):
        test = ast.unparse(node.test).replace("'", '"')
        return test not in ('__name__ == "__main__"', "TYPE_CHECKING", "typing.TYPE_CHECKING")
    if isinstance(node, ast.Assign | ast.AnnAssign):
        value = node.value
        if value is None or isinstance(value, ast.Constant | ast.Name | ast.Attribute):
            return False
        if isinstance(value, ast.Call):
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            return name not in _DEFINING and not _quiet_call(value)
        return not all(isinstance(n, ast.Constant | ast.expr_context) or n is value
                       or isinstance(n, ast.List | ast.Tuple | ast.Dict | ast.Set)
                       for n in ast.walk(value))  # fmt: skip
    return True


# Calls a flow file makes at its top that raise for no argument a name or a literal can be
# (`logger = logging.getLogger(__name__)`, `URL = os.getenv("URL")`).
_QUIET_CALLS = frozenset({"logging.getLogger", "os.getenv", "os.environ.get"})


def _quiet_call(call: ast.Call) -> bool:
    return ast.unparse(call.func) in _QUIET_CALLS and all(
        isinstance(a, ast.Constant | ast.Name)
        for a in [*call.args, *(k.value for k in call.keywords)]
    )


def _calls(value: ast.expr, functions: set[str]) -> bool:
    """`etl()` or `asyncio.run(etl())` at the top: a flow of the file called."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
        for n in ast.walk(value)
    )
