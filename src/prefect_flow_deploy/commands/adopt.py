"""`adopt`: rewrite a repository into `projects/<project>/<folder>/`, printing each step.

Two layouts are adopted:
- Prefect's own (prefect_layout.py): a prefect.yaml at the root whose entries name files
  anywhere. Each entrypoint's folder moves to `projects/<project>/<folder>/` (the names the
  root layout is read with, so no image or deployment is renamed), with a prefect.yaml of its
  entries (entrypoints made relative to the folder; the ignored build/push/pull sections
  left out); a root requirements.txt (or the file its entries' pull steps installed) is copied into each folder without one; the root
  prefect.yaml goes once every entry has a folder. A flow file at the root moves alone.
- Prefect 1's, as the hand-written workflow this tool replaces registered it: a workflow
  step `prefect register --project <name> -p <path>`; each path (a folder, or a file) moves
  to `projects/<name>/<folder>/`. Its flows must then be ported to Prefect 3 (`validate`
  says where).

In a git checkout files move with `git mv` (so history follows them), else they are moved.
`plan` decides every step from the repository as it is (reading only); `apply` does them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.reading import left_at_root, prefect_layout
from prefect_flow_deploy.reading.dockerfile import folder_dockerfile
from prefect_flow_deploy.reading.folder_entries import checkout_of, repository_root
from prefect_flow_deploy.reading.requirements import prefect_2_pin
from prefect_flow_deploy.rules.pools import PULL_POLICY_VARIABLE

if TYPE_CHECKING:
    from prefect_flow_deploy.core.model import FlowFolder, FlowSpec, ModuleImport

_REGISTER = re.compile(r"\bprefect\s+register\b(?P<args>[^\n]*)")


@dataclass(frozen=True)
class Step:
    kind: str  # "move", "copy", "write", "remove"
    source: Path | None
    target: Path
    text: str = ""  # what a "write" writes
    note: str = ""


@dataclass
class Adoption:
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    lines: list[str]
    warnings: list[str]


def plan(root: Path, projects_root: Path, project: str | None = None) -> Adoption:
    """Every step, in order, from the repository as it is."""
    adoption = Adoption()
    layout_file = root / prefect_layout.PREFECT_YAML
    if layout_file.is_file():
        _prefect_layout(adoption, root, layout_file, projects_root, project)
    _prefect1_layout(adoption, root, projects_root)
    if not adoption.steps:
        already = projects_root.is_dir() and any(
            d.is_dir() for p in projects_root.iterdir() if p.is_dir() for d in p.iterdir()
        )
        if already:
            raise ConfigurationError(
                f"nothing to adopt: {_rel(projects_root, root)}/ already holds "
                "<project>/<folder>/, which `plan` and `deploy` read as it is."
            )
        raise ConfigurationError(
            f"nothing to adopt in {root}: no prefect.yaml at its root with `deployments:` "
            "entries, and no workflow under .github/workflows/ that runs `prefect register "
            "--project`. Create a flow folder with `prefect-flow-deploy new PROJECT FOLDER`."
        )
    return adoption


def _prefect_layout(
    adoption: Adoption, root: Path, path: Path, projects_root: Path, project: str | None
) -> None:
    from prefect_flow_deploy.settings.repository import origin_repository

    read = prefect_layout.read(path, projects_root, project or origin_repository(root))
    if read is None:
        return
    entries = _raw_entries(path, root.resolve())
    requirements = root / "requirements.txt"
    placed = 0
    at_top = [f for g in read.groups if g.path == root.resolve() for f in g.files]
    # Deepest folders first: a folder inside another moves before the one that holds it.
    for group in sorted(read.groups, key=lambda g: -len(g.path.parts)):
        target = projects_root / group.project / group.name
        kept = prefect_layout.imported_where_it_is(group, root, at_top)
        if target.exists() or kept:
            adoption.warnings.append(
                f"{_rel(group.path, root)} is not moved: "
                + (f"{_rel(target, root)} exists already." if not kept else _imported(kept))
            )
            continue
        mine = [e for e in entries if _folder_of(e, root) == group.path]
        placed += len(mine)
        if group.path == root.resolve():  # flow files at the root: each moves alone
            for file in group.files:
                adoption.steps.append(Step("move", file, target / file.name))
            adoption.warnings.append(
                f"{', '.join(f.name for f in group.files)} moved alone from the repository "
                f"root into {_rel(target, root)}/: move the modules they import there too."
            )
        else:
            adoption.steps.append(Step("move", group.path, target))
        relative = [_relative_entry(e, group.path, root) for e in mine]
        adoption.steps.append(
            Step("write", None, target / "prefect.yaml", _yaml(relative),
                 f"{len(mine)} deployment{'s' * (len(mine) != 1)}")
        )  # fmt: skip
        alone = group.path == root.resolve()  # its files move alone: the root's stay
        own_build = not alone and folder_dockerfile(group.path) is not None  # installs its own
        if alone or not ((group.path / "requirements.txt").is_file() or own_build):
            pulled = prefect_layout.pulled_requirements(mine, path, root)
            move = (None if alone else group.path, target)
            _copy_requirements(adoption, pulled, requirements, move, root)
        everything = _read_group(group, root)
        unnamed = _unnamed_flows(group, everything, [g.path for g in read.groups if g is not group])
        adoption.warnings += left_at_root.modules_left(group, everything, root, target)
        if unnamed:
            adoption.warnings.append(
                f"{_rel(target, root)}: in projects/ every @flow of a folder is deployed, and "
                f"the repository's prefect.yaml did not name "
                f"{', '.join(f.entrypoint for f in unnamed)}: each gets a deployment too. If "
                "one is only a subflow, keep it a @flow in a module of a folder starting with "
                "`_`, or leave it as is to deploy it." + _colliding(unnamed)
            )
    moves = {g.path: projects_root / g.project / g.name for g in read.groups}
    adoption.warnings += left_at_root.build_files_left(root, moves)
    if read.unplaced or placed < len(entries):
        adoption.warnings.append(
            f"{_rel(path, root)} is kept: some of its entries' folders are not moved (said "
            "above), or name none (`prefect-flow-deploy validate` says which, at their lines)."
        )
    elif placed:
        adoption.steps.append(Step("remove", path, path, note="its entries are in the folders"))


def _imported(where: ModuleImport) -> str:
    return (
        f"{where.file}:{where.line} imports `{where.dotted}` from it, and that file moves alone;"
        " moved, the folder would be gone from the package the file imports. Put the file and"
        " the package in one flow folder by hand."
    )


def _read_group(group: prefect_layout.Group, root: Path) -> FlowFolder | None:
    """The folder that moves, as reading finds it (every flow; None: the root, whose entry
    files move alone)."""
    from prefect_flow_deploy.reading.discovery import read_folder

    if group.path == root.resolve():
        return None
    return read_folder(group.project, group.path, root, name=group.name)


def _colliding(flows: list[FlowSpec]) -> str:
    """The flows of one name among those deployed by default: one deployment name, which
    `validate` refuses (entree-capital/prefect-3-demo's two `buy` flows)."""
    by_name: dict[str, list[str]] = {}
    for flow in flows:
        by_name.setdefault(flow.name, []).append(flow.entrypoint)
    return "".join(
        f" {' and '.join(places)} are both named {name!r}: one deployment name, which "
        "`validate` refuses; give each its own `@flow(name=…)`."
        for name, places in by_name.items()
        if len(places) > 1
    )


def _unnamed_flows(
    group: prefect_layout.Group, everything: FlowFolder | None, others: list[Path]
) -> list[FlowSpec]:
    """Flows of the folder the entries do not name (read, never run), but those of the
    folders inside it that move on their own."""
    from prefect_flow_deploy.core.model import config_matches

    if everything is None:
        return []  # only the entry files move
    return [
        f
        for f in everything.flows
        if not any(config_matches(c, f) for c in group.configs)
        and not any(o in (group.path / f.file).parents for o in others)
    ]


def _copy_requirements(
    adoption: Adoption, pulled: list[Path], requirements: Path, move: tuple[Path | None, Path],
    root: Path,
) -> None:  # fmt: skip
    """The file the entries' pull steps installed (CBIIT/prefect-toolkit), else the root's,
    copied in as the folder's requirements.txt; `move`: the folder moved whole (None: its
    files moved alone), and where to."""
    source = pulled[0] if pulled else (requirements if requirements.is_file() else None)
    if source is None:
        return
    folder, target = move
    inside = folder is not None and source.resolve().is_relative_to(folder.resolve())
    moved = target / source.resolve().relative_to(folder.resolve()) if folder and inside else source
    adoption.steps.append(Step("copy", moved, target / "requirements.txt"))
    pin = prefect_2_pin(source)
    if pin is not None:
        adoption.warnings.append(
            f"{_rel(target, root)}/requirements.txt: line {pin[0]}, `{pin[1]}`, copied from "
            f"{_rel(source, root)}, installs Prefect 2 over the image's Prefect 3, which "
            "`validate` refuses: require `prefect>=3` there, or remove the line."
        )
    if len(pulled) > 1:
        adoption.warnings.append(
            f"{_rel(target, root)}: its entries' pull steps install "
            f"{', '.join(p.name for p in pulled)}; the first is its requirements.txt now: "
            "merge the others into it."
        )


def _raw_entries(path: Path, root: Path) -> list[dict[str, Any]]:
    """The root file's entries that deploy: not one without a `name:` (the template entry
    `prefect init` writes, every value empty), which `prefect deploy --all` and reading
    skip too: kept, it left the root file behind with the entries just moved, and the
    next `validate` failed on each (JBris/deep-root-gen). Entrypoints as reading reads them
    (one written from the checkout's top, read from the file's folder)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("deployments") if isinstance(data, dict) else None
    checkout = repository_root(root)
    return [
        {**e, "entrypoint": prefect_layout.from_checkout(root, checkout, e["entrypoint"])}
        if isinstance(e.get("entrypoint"), str)
        else e
        for e in entries or []
        if isinstance(e, dict) and e.get("name")
    ]


def _folder_of(entry: dict[str, Any], root: Path) -> Path | None:
    entrypoint = entry.get("entrypoint")
    if not isinstance(entrypoint, str) or ":" not in entrypoint:
        return None
    return Path(os.path.normpath(root.resolve() / entrypoint.rpartition(":")[0])).parent


def _relative_entry(entry: dict[str, Any], folder: Path, root: Path) -> dict[str, Any]:
    """The entry for the folder's own prefect.yaml: its entrypoint relative to the folder,
    the build/push/pull overrides, the image job variable and the version left out (the
    tool builds and ships the image, and its content tag is the version: each a warning at
    every later run, kept)."""
    file, _, function = str(entry["entrypoint"]).rpartition(":")
    inside = Path(os.path.normpath(root.resolve() / file)).relative_to(folder).as_posix()
    kept = {k: v for k, v in entry.items() if k not in ("build", "push", "pull", "version")}
    pool = kept.get("work_pool")
    if isinstance(pool, dict) and isinstance(pool.get("job_variables"), dict):
        # `image_pull_policy: Never` went with a local image: the pushed one must be pulled
        local = pool["job_variables"].get(PULL_POLICY_VARIABLE) == "Never"
        dropped = {"image", PULL_POLICY_VARIABLE} if local else {"image"}
        variables = {k: v for k, v in pool["job_variables"].items() if k not in dropped}
        kept["work_pool"] = {**pool, "job_variables": variables}
    return {**kept, "entrypoint": f"{inside}:{function}"}


def _yaml(entries: list[dict[str, Any]]) -> str:
    head = "# Written by `prefect-flow-deploy adopt` from the repository's prefect.yaml.\n"
    body = yaml.safe_dump({"deployments": entries}, sort_keys=False, allow_unicode=True)
    return head + body


def _prefect1_layout(adoption: Adoption, root: Path, projects_root: Path) -> None:
    """Folders (or files) a workflow registers with `prefect register --project`."""
    workflows = root / ".github" / "workflows"
    if not workflows.is_dir():
        return
    moved: set[Path] = set()
    for workflow in sorted(workflows.glob("*.y*ml")):
        text = workflow.read_text(encoding="utf-8", errors="replace").replace("\\\n", " ")
        for match in _REGISTER.finditer(text):
            project, paths = _register_arguments(match.group("args"))
            if not project or not paths:
                continue
            for written in paths:
                source = (root / written).resolve()
                if (
                    source in moved
                    or not source.exists()
                    or not source.is_relative_to(root.resolve())
                ):
                    if not source.exists():
                        adoption.warnings.append(
                            f"{_rel(workflow, root)} registers {written}, which is not here."
                        )
                    continue
                moved.add(source)
                name = source.name if source.is_dir() else source.stem
                target = projects_root / project / name
                target = target / source.name if source.is_file() else target
                adoption.steps.append(
                    Step(
                        "move", source, target, note=f"{_rel(workflow, root)}: --project {project}"
                    )
                )
        if any(s.note.startswith(_rel(workflow, root)) for s in adoption.steps):
            adoption.warnings.append(
                f"{_rel(workflow, root)} still runs `prefect register`: replace those steps "
                "with the prefect-flow-deploy action; and port each Prefect 1 flow "
                "(`with Flow(...)`) to a @flow function (`prefect-flow-deploy validate` says "
                "where): https://docs.prefect.io/v3/resources/upgrade-to-prefect-3"
            )


def _register_arguments(args: str) -> tuple[str | None, list[str]]:
    """`--project NAME` and every `-p/--path PATH` of a `prefect register` command line
    (up to a shell separator)."""
    command = re.split(r"&&|\|\||;|\|", args, maxsplit=1)[0]
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    project, paths = None, []
    for index, word in enumerate(words):
        value = words[index + 1] if index + 1 < len(words) else None
        name, equals, glued = word.partition("=")
        if equals:
            value = glued
        if name == "--project":
            project = value
        elif name in ("-p", "--path") and value:
            paths.append(value)
    return project, paths


# -- doing it ---------------------------------------------------------------------------------


def apply(root: Path, projects_root: Path, project: str | None, dry_run: bool) -> Outcome:
    """Plan, then do each step (in a git checkout with git), printing what it did."""
    adoption = plan(root, projects_root, project)
    # In a checkout: the root itself, or a folder of one (`adopt sub/`).
    in_checkout = checkout_of(root) is not None
    with_git = in_checkout and shutil.which("git") is not None
    lines = []
    for step in adoption.steps:
        line = _describe(step, root, with_git)
        lines.append(("would " if dry_run else "") + line)
        if not dry_run:
            _do(step, root, with_git)
    if dry_run:
        lines.append("dry run: nothing was changed")
    else:
        lines.append(
            "done: `prefect-flow-deploy validate` checks every folder, `plan` shows what "
            "deploys (a folder of Prefect's layout keeps its image and deployment names)"
        )
    return Outcome(lines, adoption.warnings)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _describe(step: Step, root: Path, with_git: bool) -> str:
    git = "git " if with_git else ""
    if step.kind == "move":
        assert step.source is not None
        line = f"{git}mv {_rel(step.source, root)} {_rel(step.target, root)}"
    elif step.kind == "copy":
        assert step.source is not None
        line = f"copy {_rel(step.source, root)} {_rel(step.target, root)}"
    elif step.kind == "write":
        line = f"write {_rel(step.target, root)}"
    else:
        line = f"{git}rm {_rel(step.target, root)}"
    return line + (f" ({step.note})" if step.note else "")


def _git(root: Path, *args: str) -> bool:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    return done.returncode == 0


def _do(step: Step, root: Path, with_git: bool) -> None:
    step.target.parent.mkdir(parents=True, exist_ok=True)
    if step.kind == "move":
        assert step.source is not None
        if not (with_git and _git(root, "mv", str(step.source), str(step.target))):
            shutil.move(str(step.source), str(step.target))  # untracked, or no git
    elif step.kind == "copy":
        assert step.source is not None
        shutil.copy2(step.source, step.target)
        if with_git:
            _git(root, "add", str(step.target))
    elif step.kind == "write":
        existing = step.target.read_text(encoding="utf-8") if step.target.is_file() else ""
        if existing:  # the folder had one: its entries stay, and come first
            data = yaml.safe_load(existing) or {}
            theirs = data.get("deployments") or []
            names = {e.get("name") for e in theirs if isinstance(e, dict)}
            ours = [
                e for e in yaml.safe_load(step.text)["deployments"] if e.get("name") not in names
            ]
            if ours:  # an entry of the same name there is the folder's own word: kept as it is
                data["deployments"] = [*theirs, *ours]
                step.target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        else:
            step.target.write_text(step.text, encoding="utf-8")
        if with_git:
            _git(root, "add", str(step.target))
    elif not (with_git and _git(root, "rm", "-q", str(step.target))):
        step.target.unlink()
