"""A repository laid out as Prefect's docs lay it out: `prefect.yaml` at its root, with a
`deployments:` entry per deployment whose `entrypoint:` names a file anywhere
(`flows/etl.py:main`). Read as the folder layout is, with one mapping (docs/prefect-layout.md):

- a flow folder is the folder holding an entrypoint's file: its image's build context, as a
  folder of `projects/<project>/<folder>/` is (its own Dockerfile and requirements.txt);
- the folder `a/b/c` of the repository is `<project>/<folder>` = `a/b-c`; a folder one level
  down (`flows/`) is `<repository>/flows`, and the root itself `<repository>/<repository>`,
  `<repository>` being the repository's name (`--repository`, GITHUB_REPOSITORY or the git
  remote, else the checkout's folder's name);
- only the flows the entries name are deployed, under the entries' names, as
  `prefect deploy --all` would (and an entry's other keys are honoured as in a folder's
  prefect.yaml).

This module groups the entries (reading the file, never a flow); discovery.py reads each
folder as it reads the folder layout's.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from prefect_flow_deploy.core.model import DeploymentConfig, ModuleImport, Problem
from prefect_flow_deploy.reading.code_deployments import root_scripts
from prefect_flow_deploy.reading.dockerfile import folder_dockerfile
from prefect_flow_deploy.reading.folder_entries import checkout_of, repository_root
from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml_entries
from prefect_flow_deploy.reading.requirements import prefect_2_pin
from prefect_flow_deploy.reading.third_party_imports import ThirdPartyImports

PREFECT_YAML = "prefect.yaml"
# A prefect.yaml's text with `deployments:` entries (blank and comment lines between).
HAS_ENTRIES = re.compile(r"^deployments:\s*(?:#.*)?\n(?:\s*(?:#.*)?\n)*\s*-", re.MULTILINE)


@dataclass
class Group:
    """The entries of one flow folder."""

    path: Path  # the folder (resolved)
    project: str
    name: str
    configs: list[DeploymentConfig] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # the entrypoints' files
    problems: list[Problem] = field(default_factory=list)


@dataclass
class RootLayout:
    path: Path  # the repository's prefect.yaml
    groups: list[Group]
    # What belongs to no folder (a broken file, an entry whose folder cannot be told): a
    # failed `<repository>/*`, whose deployments are kept.
    unplaced: list[Problem]
    # Warnings said once: entries read from a folder of the projects root instead.
    notes: list[Problem]

    @property
    def root(self) -> Path:
        return self.path.parent.resolve()


def find(projects_root: Path) -> Path | None:
    """The repository's own prefect.yaml: at the projects root itself (`projects-root: .`)
    or beside it (the usual `projects/`, empty or missing)."""
    for base in (projects_root, projects_root.parent):
        if (base / PREFECT_YAML).is_file():
            return base / PREFECT_YAML
    return None


def repository_name(repository: str | None, root: Path) -> str:
    """The project of folders at or right under the root: the repository's name, else that
    of the checkout's folder (a prefect.yaml in `flows/` is not a project `flows`), else the
    root's."""
    named = (repository or "").rstrip("/").rsplit("/", 1)[-1]
    return named or (checkout_of(root) or root.resolve()).name


def folder_names(relative: PurePosixPath, repository: str) -> tuple[str, str]:
    """(project, folder) of the repository's folder at `relative` (see the module)."""
    parts = [p for p in relative.parts if p not in ("", ".")]
    if not parts:
        return repository, repository
    if len(parts) == 1:
        return repository, parts[0]
    return parts[0], "-".join(parts[1:])


def read(path: Path, projects_root: Path, repository: str | None) -> RootLayout | None:
    """The entries grouped by folder; None when the file has no `deployments:` (then it is
    no Prefect layout: a folder layout may sit beside it)."""
    configs, problems, places = read_prefect_yaml_entries(path, skip_unnamed=True)
    if not places and not any(p.severity == "error" for p in problems):
        return None
    root = path.parent.resolve()
    checkout = repository_root(root)
    top = checkout if root.is_relative_to(checkout) else root  # folders are named from here
    project = repository_name(repository, root)
    inside = projects_root.resolve()
    by_line = {c.line: c for c in configs}
    groups: dict[Path, Group] = {}
    layout = RootLayout(path, [], [], [])
    owner: dict[int, Group | None] = {}  # entry line → its folder (None: unplaced)
    refused = {p.line for p in problems if p.severity == "error"}
    for line, entrypoint in places:
        written = from_checkout(root, checkout, entrypoint)
        group, problem = _place(path, (root, top), inside, project, line, written, groups)
        owner[line or 0] = group
        if problem is not None and not entrypoint and line in refused:
            problem = None  # the entry's own error says it already
        if problem is not None:
            target = (
                group.problems
                if group
                else layout.notes
                if problem.severity == "warning"
                else layout.unplaced
            )
            target.append(problem)
        if group is not None and line in by_line and problem is None:
            group.configs.append(replace(by_line[line], entrypoint=written))
    starts = sorted(owner)
    for problem in problems:
        start = max((s for s in starts if s <= (problem.line or 0)), default=None)
        group = owner.get(start) if start is not None else None
        if group is not None:
            group.problems.append(problem)
        elif problem.severity == "warning" and groups:
            next(iter(groups.values())).problems.append(problem)  # said once
        elif problem.severity == "warning":
            layout.notes.append(problem)
        else:
            layout.unplaced.append(problem)
    layout.groups = list(groups.values())
    named = {file for group in layout.groups for file in group.files}
    layout.notes += root_scripts(root, named)
    layout.notes += _other_prefect_yamls(root, projects_root.resolve())
    return layout


def _other_prefect_yamls(root: Path, projects_root: Path) -> list[Problem]:
    """prefect.yaml files one or two folders below the root's, outside projects/, with
    `deployments:` entries: `prefect deploy --prefect-file flows/flow1/prefect.yaml` deploys
    them, and here nothing reads them (nitirajrathore/prefect-demo, trial round 10 b 7:
    three such files and their deployments left out unsaid)."""
    found = []
    for candidate in sorted([*root.glob(f"*/{PREFECT_YAML}"), *root.glob(f"*/*/{PREFECT_YAML}")]):
        relative = candidate.relative_to(root)
        if relative.parts[0].startswith(".") or candidate.resolve().is_relative_to(projects_root):
            continue
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if HAS_ENTRIES.search(text):
            found.append(
                Problem(
                    "warning",
                    f"{relative.as_posix()} is not read: only the repository's {PREFECT_YAML} "
                    "is, so its deployments are not made. Deploy it with --projects-root "
                    f"{relative.parent.as_posix()} (a run of its own, as `prefect deploy "
                    f"--prefect-file {relative.as_posix()}`), or move its entries into the "
                    f"repository's {PREFECT_YAML} with entrypoints from there.",
                    candidate,
                    None,
                    PREFECT_YAML,
                )
            )
    return found


def from_checkout(root: Path, checkout: Path, entrypoint: str | None) -> str | None:
    """An entrypoint as read from the prefect.yaml's folder. One written from the checkout's
    top instead (a `flows/prefect.yaml` deployed with `prefect deploy --prefect-file
    flows/prefect.yaml`, whose entrypoints Prefect reads from where it runs), naming a file
    of that folder that is not there under the written path: that file, from the folder."""
    if not entrypoint or checkout == root or not root.is_relative_to(checkout):
        return entrypoint
    file, colon, function = entrypoint.rpartition(":")
    if not colon or (root / file).exists():
        return entrypoint
    target = Path(os.path.normpath(checkout / file))
    if target.is_file() and target.is_relative_to(root):
        return f"{target.relative_to(root).as_posix()}:{function}"
    return entrypoint


def _place(
    path: Path,
    roots: tuple[Path, Path],
    projects_root: Path,
    project: str,
    line: int | None,
    entrypoint: str | None,
    groups: dict[Path, Group],
) -> tuple[Group | None, Problem | None]:
    """The folder of one entry (and what is wrong with it). `roots`: the prefect.yaml's
    folder and the checkout's top."""
    root, top = roots
    where = f"`entrypoint: {entrypoint}`" if entrypoint else "this deployment"

    def problem(message: str, severity: str = "error") -> Problem:
        return Problem(severity, f"{where}: {message}", path, line, "prefect.yaml")  # type: ignore[arg-type]

    if not entrypoint:
        return None, problem(
            "in the repository's prefect.yaml each deployment needs `entrypoint: "
            "<path>/<file>.py:<function>`: its folder is the image it runs from."
        )
    file, colon, function = entrypoint.rpartition(":")
    if not colon or not file.endswith(".py") or not function:
        return None, problem(_path_form(root, file, function))
    target = Path(os.path.normpath(root / file))
    if not target.is_relative_to(root):
        return None, problem(
            "the file is outside the repository, so no image can hold it."
            + _tail_here(root, file, function)
        )
    if target != projects_root and projects_root in target.parents and projects_root != root:
        return None, problem(
            f"the file is in a flow folder of {projects_root.name}/, which is read with its own "
            "prefect.yaml: move this entry there (this one is not read).",
            "warning",
        )
    folder = target.parent
    if not folder.is_dir():
        return None, problem(f"there is no folder {folder.relative_to(root).as_posix() or '.'}.")
    if folder not in groups:
        # The prefect.yaml's own folder by its path from the checkout's top: two prefect.yaml
        # files deployed each with its own --projects-root (connectors/alpha/prefect/,
        # connectors/beta/prefect/) were both `<repository>/<repository>`, and each run's
        # prune removed the other's deployments (Naxofon/RoDL, trial round 11 b 12).
        base = top if folder == root else root
        names = folder_names(PurePosixPath(folder.relative_to(base).as_posix()), project)
        groups[folder] = Group(folder, *names)
    group = groups[folder]
    if not target.is_file():
        return group, problem(
            f"there is no file {file}{_case_only(target)}: fix the path, or add the file."
        )
    if target not in group.files:
        group.files.append(target)
    return group, None


def _tail_here(root: Path, file: str, function: str) -> str:
    """The repository's file an absolute entrypoint ends with: `/flows/feed.py` written for a
    container where the code was mounted at /flows (ppatrzyk/rss-store)."""
    parts = PurePosixPath(file).parts
    if not PurePosixPath(file).is_absolute():
        return ""
    for start in range(1, len(parts)):
        tail = PurePosixPath(*parts[start:])
        if (root / tail).is_file():
            return f" Its path here is `{tail}`: write `{tail}:{function}`, relative to the root."
    return ""


def _case_only(target: Path) -> str:
    """A file of the folder whose name differs only in case (a repository made on Windows
    or macOS, whose file systems do not tell them apart; Linux, where images run, does)."""
    try:
        names = [p.name for p in target.parent.iterdir()]
    except OSError:
        return ""
    same = [name for name in names if name.lower() == target.name.lower()]
    return f" ({same[0]} there differs only in case, which Linux tells apart)" if same else ""


def _path_form(root: Path, file: str, function: str) -> str:
    """What to write instead of an entrypoint that is not `<file>.py:<function>`. A module
    path (`flows.etl:main`), which `prefect deploy` imports from where it runs, is named as
    the file it is when the repository has it: this tool builds from the file's folder."""
    parts = file.split(".")
    if function and all(part.isidentifier() for part in parts):
        places = (Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py"))
        for candidate in (*places, *(Path("src") / p for p in places)):  # or a src layout
            if (root / candidate).is_file():
                return (
                    f"a module path, which this tool does not read (it builds the image of "
                    f"the file's folder): write it as `{candidate.as_posix()}:{function}`."
                )
    return "write it as `<path>/<file>.py:<function>`, relative to the root."


def root_build_files(group: Group, root: Path, repository: Path | None = None) -> list[Problem]:
    """A requirements.txt, Dockerfile or pyproject.toml listing packages at the root (the
    prefect.yaml's folder, and the checkout's top above it: `prefect deploy --prefect-file
    flows/prefect.yaml` builds from there; andrew-dang/goc-datasets) that a flow folder
    below it does not have: its build context is the folder, so the image would lack it."""
    if group.path == root:
        return []
    found = []
    # A folder with its own Dockerfile installs what that says (danolen/fantasy-baseball-
    # platform's flows/ installs its pyproject.toml; the root requirements.txt is an app's).
    own_build = folder_dockerfile(group.path) is not None
    for top in dict.fromkeys((root, repository or root)):
        requirements, pyproject = top / "requirements.txt", top / "pyproject.toml"
        for at_root, own in (
            (
                requirements if requirements.is_file() and not own_build else None,
                group.path / "requirements.txt",
            ),
            (folder_dockerfile(top), folder_dockerfile(group.path)),  # either case, as Docker
            (pyproject if pyproject.is_file() and _declares_dependencies(pyproject) else None,
             group.path / "pyproject.toml"),  # vsoeiro/prefect-template
        ):  # fmt: skip
            if at_root is not None and (own is None or not own.is_file()):
                found.append(_outside(at_root, group, root, repository or root))
    return found


def _declares_dependencies(pyproject: Path) -> bool:
    """Whether the file lists packages to install (PEP 621 or Poetry), not a tool's settings
    alone (a `[tool.ruff]` file is nothing an image misses)."""
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    listed = re.search(r"(?m)^dependencies\s*=\s*\[\s*(#[^\n]*\s*)*[\"']", text)
    section = re.search(r"(?ms)^\[tool\.poetry\.dependencies\]\s*$(.*?)(?=^\[|\Z)", text)
    keys = re.findall(r"(?m)^\s*([\w.-]+)\s*=", section[1]) if section else []
    poetry = any(k != "python" for k in keys)
    return bool(listed or poetry)


def _outside(at_root: Path, group: Group, root: Path, repository: Path) -> Problem:
    name = at_root.name
    relative = group.path.relative_to(root).as_posix()
    where = (
        at_root.relative_to(repository).as_posix() if at_root.is_relative_to(repository) else name
    )
    fix = {
        "requirements.txt": f"Copy it into {relative}/, or run `prefect-flow-deploy "
        "adopt`, which does",
        "pyproject.toml": f"List the packages it requires in {relative}/requirements.txt",
    }.get(name, f"Copy it into {relative}/, its COPY sources then read from the folder")
    pin = prefect_2_pin(at_root) if name == "requirements.txt" else None
    if pin is not None:  # the copy would be refused (AbdessamadAouissi/spotify-elt-pipeline)
        fix += f", then require `prefect>=3` in the copy instead of line {pin[0]}'s `{pin[1]}`"
    return Problem(
        "warning",
        f"{where} is outside the build context of the flow "
        f"folder {relative}/ (each folder's image is built from the folder alone), "
        f"so the image does without it. {fix} (docs/prefect-layout.md).",
        at_root,
        None,
        "Build file outside the flow folder",
    )


_PIP_STEP = "pip_install_requirements"  # prefect.deployments.steps.pip_install_requirements


def pulled_requirements(entries: list[dict[str, Any]], path: Path, root: Path) -> list[Path]:
    """The requirements files the entries' pull steps install at each run (an entry's own
    `pull:`, else the file's), those that exist, in the entries' order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    shared = data.get("pull") if isinstance(data, dict) else None
    found: list[Path] = []
    for entry in entries:
        for step in entry.get("pull", shared) or []:
            for key, value in step.items() if isinstance(step, dict) else ():
                if str(key).endswith(_PIP_STEP) and isinstance(value, dict):
                    file = root / str(value.get("requirements_file") or "requirements.txt")
                    if file.is_file() and file not in found:
                        found.append(file)
    return found


def imported_where_it_is(group: Group, root: Path, files: list[Path]) -> ModuleImport | None:
    """An import by the flow files at the root (which move alone) of the group's folder as a
    package, or of a package holding it: `from pkg.sub.loader import …` with the folder
    `pkg/sub`. Moved out, the folder is gone from the package the file imports
    (nishantnayar/prefect-trading's `main.py` and `src/data/sources`)."""
    parts = group.path.relative_to(root.resolve()).parts
    if not parts or not all(p.isidentifier() for p in parts):
        return None  # a folder no import names
    package = ".".join(parts)
    for file in files:
        try:
            tree = ast.parse(file.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue  # said by validate at the file
        found = ThirdPartyImports(file.name)
        found.visit(tree)
        for imported in found.found:
            named = imported.dotted or imported.module
            if f"{named}.".startswith(f"{package}.") or package.startswith(f"{named}."):
                return imported
    return None
