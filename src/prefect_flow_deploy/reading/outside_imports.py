"""A flow file importing, at its top, a module of the repository outside its flow folder
(`from utilities.slack import …` with `utilities/` at the root): `prefect deploy`'s image
holds the whole repository, this tool's the folder, so every run of that file's flows fails
unless the image installs a package of that name. Said before anything is built (a warning:
only the image can tell, and the build's check makes it an error), so `validate` on a pull
request says what the merge's deploy would refuse (broepke/prefect-dka passed validate and
plan, then failed after its build)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect_flow_deploy.core.model import ModuleImport, Problem

OUTSIDE = "Module outside the flow folder"
# Found first in the image whatever the repository holds: the standard library, and Prefect
# (every image the check accepts has it).
IN_EVERY_IMAGE = frozenset(sys.stdlib_module_names) | {"prefect"}


def also_at(rest: Sequence[ModuleImport]) -> str:
    """` (also at lines 5, 9)`: a module's other imports in the file, said with its first."""
    if not rest:
        return ""
    return f" (also at line{'s' * (len(rest) > 1)} {', '.join(str(i.line) for i in rest)})"


def outside_imports(
    folder: Path, root: Path, imports: Sequence[ModuleImport], flow_files: set[str]
) -> list[Problem]:
    """One warning per flow file and module, at its first import (its other lines named)."""
    by_place: dict[tuple[str, str], list[ModuleImport]] = {}
    for found in imports:
        # After a change of sys.path, only loading the file tells where Python finds it.
        if found.file in flow_files and not (found.nested or found.path or found.after_path_change):
            by_place.setdefault((found.file, found.module), []).append(found)
    problems = []
    for (file, module), places in by_place.items():
        here = (str(folder), os.path.dirname(os.path.join(str(folder), file)))
        if module in IN_EVERY_IMAGE or any(own_module(os.path.join(d, module)) for d in here):
            continue  # the folder's own (or its file's folder's), or the image's
        where = _in_repository(str(folder), str(root), module)
        if where is None:
            continue
        first, *rest = places
        if where == ".":
            problems.append(_folder_by_its_path(folder, file, module, first, rest))
            continue
        problems.append(
            Problem(
                "warning",
                f"{file} imports `{module}`{also_at(rest)}, which is {where} in the repository, outside "
                "the flow folder (or the package it is in): the image holds the folder alone, "
                "so unless requirements.txt "
                "or the Dockerfile installs a package of that name, every run of its flows "
                "fails with ModuleNotFoundError (the build's check then refuses them). Move or "
                "copy it into the folder, or make it a package requirements.txt installs.",
                folder / file,
                first.line,
                OUTSIDE,
            )
        )
    return problems


FOLDER_BY_PATH = "Flow folder imported by its path"


def _folder_by_its_path(
    folder: Path, file: str, module: str, first: ModuleImport, rest: Sequence[ModuleImport]
) -> Problem:
    """Prefect's layout run from the repository root (`from idx.download import …` in
    src/idx/, Baskakovs/idx: validate and plan said nothing, deploy refused it after the
    build, trial round 11 a 1)."""
    return Problem(
        "warning",
        f"{file} imports `{module}`{also_at(rest)}, the flow folder itself, by its path from the "
        "repository root as in an image of the whole repository: the image holds the folder's "
        "files where the flow runs, not the folder as a package, so unless requirements.txt or "
        "the Dockerfile installs a package of that name, every run of its flows fails with "
        "ModuleNotFoundError (the build's check then refuses them). "
        + folder_by_path_fix(module, (folder / "__init__.py").is_file()).capitalize()
        + ".",
        folder / file,
        first.line,
        FOLDER_BY_PATH,
    )


def folder_by_path_fix(module: str, has_init: bool) -> str:
    """What to write instead of importing the flow folder by its path (said before the
    build and by the build's check)."""
    init = (
        f"; what `{module}/__init__.py` defines, from a module of the folder you move it to "
        f"(`from common import …`, not `from {module} import …`)"
        if has_init
        else ""
    )
    return (
        "import its modules by their names within it "
        f"(`import helpers`, not `import {module}.helpers`{init})"
    )


def _in_repository(folder: str, root: str, module: str) -> str | None:
    """Where the repository holds the module beside the flow folders (the project, the
    projects root), at its top or in its src/, relative to the top; "." when it is the
    folder itself (Prefect's layout, run from the repository root); None when it does not."""
    project = os.path.dirname(folder)
    bases = (project, os.path.dirname(project), root, os.path.join(root, "src"))
    inside = [b for b in dict.fromkeys(bases) if b == root or b.startswith(root + os.sep)]
    for base in inside:
        package, file = os.path.join(base, module), os.path.join(base, module + ".py")
        if package == folder:
            return "."
        if os.path.isfile(file):
            return os.path.relpath(file, root).replace(os.sep, "/")
        if _importable(package):
            return os.path.relpath(package, root).replace(os.sep, "/") + "/"
    return None


def own_module(path: str) -> bool:
    """The folder's module, package or folder of that name (asked of the disk once each)."""
    return os.path.isdir(path) or os.path.isfile(path + ".py")


def _importable(path: str) -> bool:
    """A module, a package, or a folder of Python files (a namespace package)."""
    return _is_module(path) or (os.path.isdir(path) and _holds_code(path))


def _holds_code(directory: str, depth: int = 3) -> bool:
    """A folder without `__init__.py` holding Python files (in it, or a few levels down):
    a namespace package, which the checkout's top on sys.path imports (CBIIT/prefect-toolkit:
    `from src.commons.submval import …`, no `__init__.py` anywhere), though never beside the
    flow folder, whose own are found first."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return False
    if any(e.name.endswith(".py") and e.is_file() for e in entries):
        return True
    return depth > 1 and any(
        e.is_dir() and not e.name.startswith(".") and _holds_code(e.path, depth - 1)
        for e in entries
    )


def _is_module(path: str) -> bool:
    """A module Python would import from there: `<path>.py`, or a package with its
    `__init__.py` (a folder without one, `prefect/` of deployment files, is a namespace
    package an installed package of that name wins over: victor-floriano/ba882)."""
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))
