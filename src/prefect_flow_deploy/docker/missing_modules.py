"""A module the flow code imports that the built image lacks: a package not installed (a
warning: it may come at run time), or a module of the repository outside the flow folder,
the folder's own src-layout package, or the folder by its old path (an error at each flow
file importing it at its top, saying what to import or install instead). Pure over the
folder's reading and the image's answer, but the warnings said now."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import FlowFolder, ModuleImport
from prefect_flow_deploy.reading.folder_entries import repository_root
from prefect_flow_deploy.reading.outside_imports import also_at, folder_by_path_fix, own_module


def found_by_name(folder: FlowFolder) -> list[ModuleImport]:
    """The imports the check finds by name alone (not those after a change of `sys.path`:
    loading the flow judges them)."""
    return [i for i in folder.imports if not i.after_path_change]


def _beside(folder: FlowFolder, found: ModuleImport) -> bool:
    """A module beside the importing file, in a folder of the flow folder: Prefect's loader
    puts a flow file's own folder on sys.path, so a run finds it (the check looks from the
    code's top only; DonaldWipper/Football-Tournaments-Data-Archive's flows/<source>/ files
    import their siblings by name: warned "add it to requirements.txt", and each run was fine)."""
    if "/" not in found.file:
        return False  # at the folder's top: the check looked there
    return own_module(str((folder.path / found.file).parent / found.module))


def module_errors(folder: FlowFolder, missing: list[str], projects_root: Path) -> list[FolderError]:
    """The most common run-time crash: a package imported but not in requirements.txt (a
    warning at its first import, said now: it may come at run time, as `EXTRA_PIP_PACKAGES`
    installs it in Prefect's images). A module of the repository outside the folder that a
    flow file imports at module level is an error at the file's first such import (its
    other lines named): the image never has it, so every run of that file's flows would
    fail before it starts (`prefect deploy`'s image of the whole repository has it; this one
    holds the folder)."""
    flow_files = {f.file for f in folder.flows}
    errors = []
    for module in missing:
        imports = [
            i for i in found_by_name(folder) if i.module == module and not _beside(folder, i)
        ]
        if not imports:
            continue  # only after a change of sys.path (loading the flow judged it), or beside
        own_src = _own_src(folder, module)
        dotted = [i.dotted for i in imports]
        local = own_src or _in_repository(folder, module, projects_root, dotted)
        moved = _by_old_path(folder, imports[0]) if local and local != "." else None
        fix = (
            _own_src_fix(folder, module, own_src)
            if own_src
            else moved or _missing_fix(folder, module, local)
        )
        fatal = _first_per_file(i for i in imports if i.file in flow_files and not i.nested)
        if local is None or not fatal:
            where = imports[0]
            log.warning(
                f"{folder.key}: {where.file} imports `{module}`, which the image does not have; "
                f"the flow will fail with ModuleNotFoundError: {fix}.",
                file=folder.path / where.file,
                line=where.line,
                title="Missing package",
            )
            continue
        errors += [
            FolderError(
                f"{where.file} imports `{module}`{also}, which the image does not have, so "
                f"every run of its flows fails with ModuleNotFoundError: {fix}.",
                file=str(folder.path / where.file),
                line=where.line,
            )
            for where, also in fatal
        ]
    return errors


def _first_per_file(imports: Iterable[ModuleImport]) -> list[tuple[ModuleImport, str]]:
    """A file's first import of a module, and its other lines: one error for the file (7
    `from utilities.… import` lines of broepke/prefect-dka were 7 of GitHub's 10
    annotations)."""
    by_file: dict[str, list[ModuleImport]] = {}
    for found in imports:
        by_file.setdefault(found.file, []).append(found)
    return [(first, also_at(rest)) for first, *rest in by_file.values()]


def _by_old_path(folder: FlowFolder, where: ModuleImport) -> str | None:
    """For a module of this folder imported by its path from the repository root before the
    folder moved (`from flows.weather.client import …` in projects/bi/weather/, which has
    client.py), the import to write instead (bi-almeida-junior/prefect-server was told to
    copy `flows` into the folder)."""
    import ast

    try:
        tree = ast.parse((folder.path / where.file).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    dotted = next(
        (
            name
            for node in ast.walk(tree)
            if getattr(node, "lineno", None) == where.line
            for name in (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            )
            if name.split(".")[0] == where.module
        ),
        None,
    )  # fmt: skip
    parts = (dotted or "").split(".")
    for start in range(1, len(parts)):
        inside = folder.path.joinpath(*parts[start:])
        if inside.with_suffix(".py").is_file() or (inside / "__init__.py").is_file():
            name = ".".join(parts[start:])
            return (
                f"`{dotted}` is this folder's own `{name}`, imported by its path from the "
                "repository root before the folder moved; the image holds the folder's files "
                f"where the flow runs, so import it by its name within it (`from {name} "
                "import …`)"
            )
    return None


def _missing_fix(folder: FlowFolder, module: str, local: str | None) -> str:
    if local is None:
        where_to = (
            f"add it to {log.shown(folder.path / 'requirements.txt')}"
            if folder.dockerfile is None
            else f"install it in {log.shown(folder.dockerfile)}"
        )
        return f"{where_to} (the pip name may differ)"
    if local == ".":
        has_init = (folder.path / "__init__.py").is_file()
        return (
            f"`{module}` is this flow folder itself, imported by its path from the repository "
            "root as in an image of the whole repository; this image holds the folder's "
            f"files where the flow runs, so {folder_by_path_fix(module, has_init)}"
        )
    where = log.shown(folder.path)
    enclosing = folder.path.resolve().is_relative_to(repository_root(folder.path) / local)
    place = (  # wonkothesanest/prefect_data_getters: src/pkg/flows/ imports pkg
        f"`{local}` is the package this flow folder is in, and the image holds only {where}"
        if enclosing
        else f"`{local}` is in the repository but outside the flow folder, and the image "
        f"holds only {where}"
    )
    return (
        f"{place}: move or copy what it needs into the folder, or require it in "
        "requirements.txt as a package pip can install there (a version you publish, or "
        "`<name> @ git+https://…`)"
    )


def _own_src(folder: FlowFolder, module: str) -> str | None:
    """The folder's own package in its `src/` (a src layout: Python finds it only once
    installed), relative to the folder; None when it has none of that name."""
    for candidate in (f"src/{module}", f"src/{module}.py"):
        if (folder.path / candidate).exists():
            return candidate
    return None


def _own_src_fix(folder: FlowFolder, module: str, own_src: str) -> str:
    """What makes the folder's src-layout package importable where its flows run."""
    if folder.dockerfile is not None:
        install = (
            f"install the folder's package in {log.shown(folder.dockerfile)} (`RUN pip install .`)"
        )
    elif (folder.path / "pyproject.toml").is_file() or (folder.path / "setup.py").is_file():
        install = f"add `-e .` to {log.shown(folder.path / 'requirements.txt')} (pip installs the folder's package)"
    else:
        install = f"move it to the folder's top (`git mv {own_src} {own_src.removeprefix('src/')}`)"
    return (
        f"`{module}` is the folder's own package in {own_src}, a src layout, which Python "
        f"finds only once the package is installed (pip is not told to: it is not a PyPI "
        f"name to require): {install}"
    )


def _in_repository(
    folder: FlowFolder, module: str, root: Path, dotted: list[str] | None = None
) -> str | None:
    """Where the repository holds a module the code imports as if it were installed (beside
    the flow folders, in the project, at the root or in its `src/` (the src layout of the
    repository's own package, installed in its development environment): a common monorepo
    habit), relative to the repository; "." when it is the flow folder itself (`from
    flows.helpers import …` in flows/, Prefect's layout run from the repository root)."""
    repository = repository_root(root)
    own = folder.path.resolve()
    tops = (root.resolve(), repository)
    for base in dict.fromkeys((own.parent, *tops, *(top / "src" for top in tops))):
        for candidate in (base / module, base / f"{module}.py"):
            if candidate == own:
                return "."
            # beside the folder, or the package the folder is in: a regular one (a project
            # folder named as a pip package, projects/mps/, is not the module)
            enclosing = own.is_relative_to(candidate)
            regular = (candidate / "__init__.py").is_file()
            if candidate.exists() and (not enclosing or regular or _beyond(candidate, own, dotted)):
                return os.path.relpath(candidate, repository).replace(os.sep, "/")
    return None


def _beyond(candidate: Path, own: Path, dotted: list[str] | None) -> bool:
    """An import naming a module of the enclosing namespace package outside the flow folder
    (`from src.services.logger import …` in src/flows/, no src/__init__.py: tomdncenter/
    automate, trial round 9 b 5: warned as a pip package, every run crashed)."""
    for name in dotted or []:
        rest = name.split(".")[1:]
        target = candidate.joinpath(*rest) if rest else None
        found = target is not None and (target.with_suffix(".py").is_file() or target.is_dir())
        if found and target is not None and not target.is_relative_to(own):
            return True
    return False
