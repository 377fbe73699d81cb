"""Discovery: the projects root → one FlowFolder per `<project>/<folder>`, with its flows."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from .flows_source import find_flows
from .logger import log
from .model import FlowFolder, FlowSpec, Problem
from .prefect_yaml import read_prefect_yaml
from .python_source import FolderSource
from .requirements import outside_folder_problems, requirements_file_references

_FLOW_DECORATOR = re.compile(r"@(?:\w+\.)?flow\b")
_SKIPPED_DIRS = {"__pycache__", "node_modules", "venv", "site-packages"}


def is_flow_dir(name: str) -> bool:
    return not name.startswith((".", "_")) and name not in _SKIPPED_DIRS


def discover(projects_root: Path, pattern: str | None = None) -> list[FlowFolder]:
    """Every flow folder under the root, in a stable order, filtered by `pattern`.

    `pattern` is a regular expression searched in `project/folder` (as the old workflow's
    dispatch input was).
    """
    regex = re.compile(pattern) if pattern else None
    folders = []
    for project_dir in _subdirs(projects_root):
        for stray in _flow_files_at(project_dir):
            log.warning(
                f"{stray.name} is directly in the project folder {project_dir.name}/, so it is not "
                f"deployed: move it into a flow folder, {project_dir.name}/<folder>/{stray.name}.",
                file=stray,
                title="Flow outside a flow folder",
            )
        for folder_dir in _subdirs(project_dir):
            key = f"{project_dir.name}/{folder_dir.name}"
            if regex and not regex.search(key):
                continue
            folders.append(read_folder(project_dir.name, folder_dir))
    if not folders:
        where = f" matching {pattern!r}" if pattern else ""
        log.warning(
            f"no flow folders{where} under {projects_root}: the layout is "
            f"{projects_root}/<project>/<flow folder>/*.py. Check projects-root.",
            title="Nothing to deploy",
        )
    return folders


def _flow_files_at(directory: Path) -> list[Path]:
    """Python files holding a flow that sit where no flow folder would find them."""
    return sorted(
        path
        for path in directory.glob("*.py")
        if path.is_file()
        and _FLOW_DECORATOR.search(path.read_text(encoding="utf-8", errors="replace"))
    )


def _subdirs(path: Path) -> list[Path]:
    return sorted(
        (
            Path(entry.path)
            for entry in os.scandir(path)
            if entry.is_dir() and is_flow_dir(entry.name)
        ),
        key=lambda p: p.name,
    )


def python_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if is_flow_dir(d))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(root, name)


def read_folder(project: str, path: Path) -> FlowFolder:
    folder = FlowFolder(project=project, name=path.name, path=path)
    for name, attr in (
        ("Dockerfile", "dockerfile"),
        ("requirements.txt", "requirements"),
        ("prefect.yaml", "prefect_yaml"),
    ):
        candidate = path / name
        if candidate.is_file():
            setattr(folder, attr, candidate)

    source = FolderSource(path)  # this folder's modules only: nothing crosses folders
    for file in python_files(path):
        flows, problems, imports = find_flows(file, path, source)
        folder.flows.extend(flows)
        folder.problems.extend(problems)
        folder.imports.extend(imports)

    if folder.requirements is not None:
        references = requirements_file_references(folder.requirements)
        folder.problems.extend(outside_folder_problems(folder.requirements, references))
        folder.requirements_name_files = bool(references)
    if folder.prefect_yaml is not None:
        configs, problems = read_prefect_yaml(folder.prefect_yaml)
        folder.deployment_configs = configs
        folder.problems.extend(problems)

    _check_flow_names(folder)
    if not folder.flows and not folder.failed:
        folder.problems.append(
            Problem(
                "warning",
                f"no @flow function found in {folder.key}; nothing to deploy from this folder. "
                "Decorate the flow function with @flow (from prefect import flow); if the "
                "folder holds shared code, not a flow, start its name with `_` to skip it.",
                path,
                title="No flow",
            )
        )
    return folder


def _check_flow_names(folder: FlowFolder) -> None:
    """Two flows of one name would share a deployment: each fails, at its line; the folder's
    other flows still deploy."""
    by_name: dict[str, list[FlowSpec]] = {}
    for flow in folder.flows:
        by_name.setdefault(flow.name, []).append(flow)
    for name, group in by_name.items():
        if len(group) < 2:
            continue
        places = " and ".join(f"{f.file}:{f.line}" for f in group)
        for flow in group:
            folder.problems.append(
                Problem(
                    "error",
                    f"{len(group)} flows are named {name!r} ({places}); they would overwrite each "
                    "other's deployment. Give each its own `name=`.",
                    folder.path / flow.file,
                    flow.line,
                    "Duplicate flow name",
                    flow=flow.entrypoint,
                )
            )


def report_folder_problems(folders: list[FlowFolder]) -> None:
    """Each problem at its file and line: an annotation on GitHub, a line elsewhere."""
    for folder in folders:
        for problem in folder.problems:
            log.annotate(
                problem.severity,
                f"{folder.key}: {problem.message}",
                file=problem.file,
                line=problem.line,
                title=problem.title or None,
            )
