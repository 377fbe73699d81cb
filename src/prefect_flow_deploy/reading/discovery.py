"""Discovery: the projects root → one FlowFolder per `<project>/<folder>`, with its flows."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.errors import NoFlowFoldersError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import (
    DUPLICATE_FLOW_NAME,
    DeploymentConfig,
    FlowFolder,
    FlowSpec,
    ModuleImport,
    Problem,
    config_matches,
)
from prefect_flow_deploy.core.naming import UNREADABLE_PROJECT
from prefect_flow_deploy.reading import file_reads, prefect_layout
from prefect_flow_deploy.reading.code_deployments import moved_to_entry
from prefect_flow_deploy.reading.copy_sources import missing_copy_sources
from prefect_flow_deploy.reading.dockerfile import (
    dockerfile_problems,
    folder_dockerfile,
    unread_dockerfiles,
)
from prefect_flow_deploy.reading.flow_file_problems import ENCLOSED_FLOW_TITLES
from prefect_flow_deploy.reading.flows import find_flows
from prefect_flow_deploy.reading.folder_entries import (
    checkout_of,
    display,
    entry_problems,
    listed_entry_problem,
    repository_root,
)
from prefect_flow_deploy.reading.folder_listing import FolderListing, list_folder
from prefect_flow_deploy.reading.import_cycles import cycle_problems
from prefect_flow_deploy.reading.imported_names import missing_imported_names
from prefect_flow_deploy.reading.layout_advice import (
    buried_prefect_yamls,
    buried_requirements,
    found_instead,
)
from prefect_flow_deploy.reading.listed_entries import by_alias_only, named_otherwise
from prefect_flow_deploy.reading.loaded_files import as_loaded, imported_modules, own_file_errors
from prefect_flow_deploy.reading.outside_imports import outside_imports
from prefect_flow_deploy.reading.prefect_yaml import NO_DEPLOYMENTS, read_prefect_yaml
from prefect_flow_deploy.reading.python_source import FolderSource
from prefect_flow_deploy.reading.requirements import (
    requirements_problems,
    unread_dependency_problems,
)
from prefect_flow_deploy.reading.stray_files import warn_strays

_SKIPPED_DIRS = {"__pycache__", "node_modules", "venv", "site-packages"}
_NO_FLOW = "No flow"  # the title of a folder's "no @flow function found"


def is_flow_dir(name: str) -> bool:
    return not name.startswith((".", "_")) and name not in _SKIPPED_DIRS


def discover(
    projects_root: Path,
    pattern: str | None = None,
    repository: str | None = None,
    on_read: Callable[[FlowFolder], None] | None = None,
) -> list[FlowFolder]:
    """Every flow folder, in a stable order, filtered by `pattern`: the folders under the
    projects root (`<project>/<folder>/`), and those a prefect.yaml at the repository root
    names (Prefect's own layout, prefect_layout.py; `repository` names its project).

    `pattern` is a regular expression searched in `project/folder` (as the old workflow's
    dispatch input was). An entry that cannot be read (a symlink loop, a link out of the
    repository) is a failed folder at that entry: the others are read as usual. No flow
    folder at all is an error that says what the repository holds instead. `on_read` is
    told of each folder as soon as it is read, before the next (gather asks the registry
    about it meanwhile).
    """
    regex = re.compile(pattern) if pattern else None
    found = prefect_layout.find(projects_root)
    layout = prefect_layout.read(found, projects_root, repository) if found else None
    folders: list[FlowFolder] = []

    def read(folder: FlowFolder) -> None:
        folders.append(folder)
        if on_read is not None:
            on_read(folder)

    seen = 0
    if projects_root.is_dir() and not (layout and layout.root == projects_root.resolve()):
        seen = _folder_layout(projects_root, regex, read)
    if layout is not None:
        for note in layout.notes:
            log.warning(note.message, file=note.file, line=note.line, title=note.title)
        seen += len(layout.groups) + bool(layout.unplaced)
        _root_layout(layout, regex, read)
    if not seen:
        raise NoFlowFoldersError(found_instead(projects_root, found, repository))
    if not folders:
        log.warning(
            f"no flow folders matching {pattern!r} under {projects_root}: flows is searched "
            "in <project>/<flow folder>.",
            title="Nothing to deploy",
        )
    return folders


def _folder_layout(
    projects_root: Path, regex: re.Pattern[str] | None, read: Callable[[FlowFolder], None]
) -> int:
    """The folders of `projects/<project>/<folder>/`, each handed to `read`: how many there
    are."""
    root = repository_root(projects_root)
    seen = 0
    # Real paths carried down (a folder no link leads to is its parent's real path + name).
    for project_dir, problem, project_real in _subdirs(
        projects_root, root, os.path.realpath(projects_root)
    ):
        if problem is not None:  # its folders are unknown: a failed `<project>/*`
            seen += 1
            read(_failed(project_dir.name, UNREADABLE_PROJECT, project_dir, problem))
            continue
        warn_strays(project_dir)
        try:
            entries = _subdirs(project_dir, root, project_real)
        except OSError as exc:
            seen += 1
            problem = Problem("error", f"cannot list {display(project_dir)}: {exc}", project_dir)
            read(_failed(project_dir.name, UNREADABLE_PROJECT, project_dir, problem))
            continue
        for folder_dir, problem, real in entries:
            seen += 1
            key = f"{project_dir.name}/{folder_dir.name}"
            if regex and not regex.search(key):
                continue
            if problem is not None:
                read(_failed(project_dir.name, folder_dir.name, folder_dir, problem))
            else:
                read(read_folder(project_dir.name, folder_dir, root, resolved=real))
    return seen


def _root_layout(
    layout: prefect_layout.RootLayout,
    regex: re.Pattern[str] | None,
    read: Callable[[FlowFolder], None],
) -> None:
    """The folders a prefect.yaml at the repository root names (prefect_layout.py), each
    handed to `read`."""
    root = layout.root
    repository = checkout_of(root) or root
    if layout.unplaced:
        project = prefect_layout.repository_name(None, root)
        project = layout.groups[0].project if layout.groups else project
        read(FlowFolder(project, UNREADABLE_PROJECT, root, problems=list(layout.unplaced)))
    for group in layout.groups:
        if regex and not regex.search(f"{group.project}/{group.name}"):
            continue
        folder = read_folder(
            group.project, group.path, repository, name=group.name, configs=group.configs,
            files=group.files, prefect_yaml=layout.path,
        )  # fmt: skip
        problems = (*group.problems, *folder.problems)
        if any(p.severity == "error" for p in group.problems):  # its entries said why
            problems = tuple(p for p in problems if p.title != _NO_FLOW)
        problems += tuple(prefect_layout.root_build_files(group, root, repository))
        read(replace(folder, problems=problems))


def _failed(project: str, name: str, path: Path, problem: Problem) -> FlowFolder:
    return FlowFolder(project=project, name=name, path=path, problems=[problem])


def _subdirs(
    path: Path, root: Path, real: str | None = None
) -> list[tuple[Path, Problem | None, str | None]]:
    """The folders in `path` (links to folders included), each with why it cannot be read,
    if so, and its real path when `path`'s (`real`) tells it (it is no link). Files are not
    read here: only a loop (it may have been a folder) is reported."""
    found = []
    for entry in os.scandir(path):
        if not is_flow_dir(entry.name):
            continue
        try:
            is_symlink = entry.is_symlink()
        except OSError:
            is_symlink = True  # then entry_problem asks the disk, as it always did
        problem = listed_entry_problem(entry.path, is_symlink, root)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir or (problem is not None and problem.title == "Symlink loop"):
            known = os.path.join(real, entry.name) if real and not is_symlink else None
            found.append((Path(entry.path), problem, known))
    return sorted(found, key=lambda pair: pair[0].name)


def python_files(listing: FolderListing) -> Iterator[Path]:
    """The folder's .py files, sorted, outside the folders `is_flow_dir` skips."""
    for path in listing.files_under(is_flow_dir, ordered=True):
        if path.endswith(".py"):
            yield Path(path)


def read_folder(
    project: str,
    path: Path,
    root: Path | None = None,
    *,
    name: str | None = None,
    configs: list[DeploymentConfig] | None = None,
    files: list[Path] | None = None,
    prefect_yaml: Path | None = None,
    resolved: str | None = None,
) -> FlowFolder:
    """The folder as its files say (`root`: the repository, which no link may leave); a
    folder that cannot be read fails at the file, the run goes on. A folder of a prefect.yaml
    at the repository root comes with its entries (`configs`), their files and that file:
    only those files are read, and only the flows they name are deployed. `resolved`: the
    folder's real path, when the caller knows it."""
    root = root or repository_root(path.parent.parent)
    listing = list_folder(
        path, resolved
    )  # one walk: the entry checks, the flow finder, the resolver
    folder = FlowFolder(
        project, name or path.name, path, problems=entry_problems(path, root, listing)
    )
    if folder.failed:
        return folder
    if configs is not None:
        folder = replace(folder, prefect_yaml=prefect_yaml, deployment_configs=configs)
    return _read_files(folder, root, listing, files)


def _read_files(
    folder: FlowFolder, root: Path, listing: FolderListing, listed: list[Path] | None = None
) -> FlowFolder:
    """The folder with what its files say. What was found before a file could not be read
    stays, with that file's error."""
    path = folder.path
    files: dict[str, Path] = {}  # dockerfile, requirements, prefect_yaml: those found
    flows: list[FlowSpec] = []
    problems = list(folder.problems)
    imports: list[ModuleImport] = []
    more: dict[str, Any] = {}  # deployment_configs, requirements_name_files: once read

    def so_far() -> FlowFolder:
        fields = {**files, **more}
        return replace(folder, flows=flows, problems=problems, imports=imports, **fields)

    try:
        own = ("requirements.txt",) + (() if listed is not None else ("prefect.yaml",))
        for name in own:
            candidate = path / name
            if candidate.is_file():
                files[_FILE_ATTRIBUTES[name]] = candidate
        dockerfile = folder_dockerfile(path)
        if dockerfile is not None:
            files["dockerfile"] = dockerfile
        read = so_far()  # the folder's files

        source = FolderSource(path, listing)  # this folder's modules only: none crosses folders
        by_file: dict[Path, list[FlowSpec]] = {}

        def flows_of(file: Path) -> list[FlowSpec]:
            """The file's flows, read once; what is wrong with it and what it imports noted."""
            if file not in by_file:
                by_file[file], file_problems, file_imports = find_flows(file, path, source)
                problems.extend(file_problems)
                imports.extend(file_imports)
            return by_file[file]

        yaml_problems: list[Problem] = []
        if listed is None and read.prefect_yaml is not None:
            more["deployment_configs"], yaml_problems = read_prefect_yaml(read.prefect_yaml)
        for file in python_files(listing) if listed is None else listed:
            flows += flows_of(file)
        for module in imported_modules(source, listed) if listed is not None else []:
            flows_of(module)  # what it imports and what is wrong with it: its flows stay out
        # An entry may name a flow by another name (entrypoint_names): an alias, an import.
        aliased = named_otherwise(so_far(), listed or list(by_file), source, flows_of)
        if listed is None:
            flows = by_alias_only(so_far().deployment_configs, flows, aliased)
        flows += aliased
        entry_files = [path / f.file for f in aliased]  # a run loads the alias's module
        flow_files = [f for f, found in by_file.items() if found]
        flow_files += [f for f in entry_files if f not in flow_files]
        problems += cycle_problems(source, flow_files)
        imports, problems = as_loaded(source, path, flow_files, imports, problems)
        problems = own_file_errors(source, path, flow_files, problems)
        problems += missing_imported_names(source, path, flow_files)
        problems += outside_imports(path, root, imports, {f.file for f in flows})
        below = list(listing.files_under(is_flow_dir, ordered=False)) if listed is None else []
        problems += buried_prefect_yamls(below, path)  # the folder layout reads its top's alone

        if read.dockerfile is not None:
            text = file_reads.read_text(read.dockerfile)
            problems += (
                Problem("error", message, read.dockerfile, line, "Dockerfile")
                for line, message in dockerfile_problems(text)
            )
            problems += missing_copy_sources(read, text, root)
        if read.requirements is not None:
            requirement_problems, names_files = requirements_problems(
                read.requirements, listing, over_base_image=read.dockerfile is None
            )
            problems += requirement_problems
            more["requirements_name_files"] = names_files
        if read.dockerfile is None and read.requirements is None:
            problems += unread_dependency_problems(path, listing)
            problems += buried_requirements(below, path)
        if read.dockerfile is None and listing.directories:  # the folder's own top first
            problems += unread_dockerfiles(path, (e.name for e in listing.directories[0].files))
        if listed is not None:
            # only the flows its entries name; an entry naming none fails alone (rules.specs:
            # it failed the folder, its good entries in no output: trial round 11 b 11)
            more["deployment_configs"] = named = so_far().deployment_configs
            flows = [f for f in flows if any(config_matches(c, f) for c in named)]
        elif read.prefect_yaml is not None:
            problems += yaml_problems
            if any(p.title == NO_DEPLOYMENTS for p in yaml_problems):
                flows = []  # switched off: `deployments: []` (not the defaults, as before)

        entries: list[DeploymentConfig] = more.get("deployment_configs") or []
        by_default = [f for f in flows if not any(config_matches(c, f) for c in entries)]
        problems += _flow_name_problems(path, by_default)
        made = [f.made for f in flows if f.made]
        problems = [p for p in problems if not _made_by_factory(p, made)]
        problems = [p for p in problems if not moved_to_entry(p, flows, entries)]
        enclosed = [p for p in problems if p.title in ENCLOSED_FLOW_TITLES]
        if enclosed and not flows:  # the folder's only flows cannot be deployed
            problems = [replace(p, severity="error") if p in enclosed else p for p in problems]
        elif (
            not flows
            and not so_far().failed
            and not any(p.title == NO_DEPLOYMENTS for p in problems)
        ):
            problems.append(
                Problem(
                    "warning",
                    f"no @flow function found in {folder.key}; nothing to deploy from this "
                    "folder. Decorate the flow function with @flow (from prefect import flow); "
                    "if the folder holds shared code, not a flow, start its name with `_` to "
                    "skip it.",
                    path,
                    title=_NO_FLOW,
                )
            )
    except (OSError, UnicodeError) as exc:
        where = Path(getattr(exc, "filename", None) or path)
        save = ": save it as UTF-8" if isinstance(exc, UnicodeError) else ""
        message = f"cannot read {display(where)}: {exc}{save}"
        problems.append(Problem("error", message, where, title="Unreadable"))
    return so_far()


_FILE_ATTRIBUTES = {"requirements.txt": "requirements", "prefect.yaml": "prefect_yaml"}


def _made_by_factory(problem: Problem, made: list[tuple[str, int, int]]) -> bool:
    """A `@flow` inside a function that is a factory of a deployed flow (flow_factories)."""
    if problem.title not in ENCLOSED_FLOW_TITLES or problem.file is None or problem.line is None:
        return False
    path = str(problem.file.resolve())
    return any(p == path and first <= problem.line <= last for p, first, last in made)


def _flow_name_problems(path: Path, flows: list[FlowSpec]) -> list[Problem]:
    """Two flows of one name that no prefect.yaml entry names would share the folder's
    deployment (`<flow>/<project>`): each fails, at its line; the folder's other flows still
    deploy. Entries name their own deployments, as in Prefect (two flows of one name under
    two entry names are two deployments); a name used twice is rules/collisions.py's."""
    problems = []
    by_name: dict[str, list[FlowSpec]] = {}
    for flow in flows:
        if flow.name_pending is None:  # a name the image computes: checked once it is known
            by_name.setdefault(flow.name, []).append(flow)
    for name, group in by_name.items():
        if len(group) < 2:
            continue
        places = " and ".join(f"{f.file}:{f.line}" for f in group)
        for flow in group:
            problems.append(
                Problem(
                    "error",
                    f"{len(group)} flows are named {name!r} ({places}); they would overwrite each "
                    "other's deployment. Give each its own `name=`.",
                    path / flow.file,
                    flow.line,
                    DUPLICATE_FLOW_NAME,
                    flow=flow.entrypoint,
                )
            )
    return problems


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
