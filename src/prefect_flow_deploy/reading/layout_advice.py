"""When no flow folder is found: what the repository holds instead, and what to do.

Only on that error path: the repository is listed once (hidden folders, virtualenvs and
dependencies skipped), and Python files are searched for flows as text, never run.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.reading.folder_entries import checkout_of
from prefect_flow_deploy.reading.outside_imports import IN_EVERY_IMAGE
from prefect_flow_deploy.reading.prefect_layout import HAS_ENTRIES, PREFECT_YAML

_SKIPPED = {"node_modules", "venv", "site-packages", "__pycache__", "build", "dist"}
_FLOW = re.compile(r"^\s*@(?:\w+\.)*flow\b|=\s*(?:\w+\.)*flow\(", re.MULTILINE)
_PREFECT1 = re.compile(r"\bwith\s+Flow\(|from\s+prefect\s+import\s+[^\n]*\bFlow\b")
_REGISTER = re.compile(r"prefect\s+register\b[^\n]*--project\s+(\S+)")
MAX_FILES = 20_000


def repository_of(projects_root: Path) -> Path:
    """The checkout holding the projects root (its top level), else the projects root's
    parent, or the projects root itself when it is the top."""
    resolved = projects_root.resolve()
    found = checkout_of(resolved)
    return found or (resolved if (resolved / PREFECT_YAML).is_file() else resolved.parent)


def scan(repository: Path) -> tuple[Counter[str], Counter[str], list[str]]:
    """(Prefect 2/3 flow files by top folder, Prefect 1 flow files by top folder, workflow
    files that run `prefect register --project`)."""
    flows: Counter[str] = Counter()
    old: Counter[str] = Counter()
    registers = []
    seen = 0
    for current, dirs, names in os.walk(repository):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED)
        if Path(current) == repository and (repository / ".github" / "workflows").is_dir():
            workflows = repository / ".github" / "workflows"
            for workflow in sorted(workflows.glob("*.y*ml")):
                text = workflow.read_text(encoding="utf-8", errors="replace")
                if _REGISTER.search(text):
                    registers.append(workflow.relative_to(repository).as_posix())
        for name in names:
            if not name.endswith(".py"):
                continue
            seen += 1
            if seen > MAX_FILES:
                return flows, old, registers
            path = Path(current, name)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            top = path.relative_to(repository).parts[0] if path.parent != repository else "."
            if _PREFECT1.search(text):
                old[top] += 1
            elif _FLOW.search(text) and "prefect" in text:
                flows[top] += 1
    return flows, old, registers


def found_instead(projects_root: Path, root_yaml: Path | None, name: str | None = None) -> str:
    """The message of the error: where it looked, what it found, what to do. `name`: the
    repository the run acts as (`owner/name`), whose name the suggested project takes."""
    repository = repository_of(projects_root)
    at_top = repository / projects_root.name
    if not projects_root.is_dir() and at_top.is_dir() and not projects_root.is_absolute():
        return (  # run from a folder of the checkout (Stjefan/prefect-flows, trial b 5)
            f"no flow folder found: there is no folder {projects_root} in {Path.cwd()}, a "
            f"folder of the repository; its flow folders are under {at_top}. Run "
            f"prefect-flow-deploy from the repository's top ({repository}), or set "
            f"--projects-root {os.path.relpath(at_top)}."
        )
    flows, old, registers = scan(repository)
    where = (
        f"{projects_root} holds no <project>/<flow folder>/"
        if projects_root.is_dir()
        else f"there is no folder {projects_root}"
    )
    found = _most(flows, "with a @flow") + _most(old, "with a Prefect 1 flow (`with Flow(...)`)")
    found += [f"{w}, which runs `prefect register --project`" for w in registers]
    if root_yaml is not None:
        shown = Path(os.path.relpath(root_yaml.resolve(), repository)).as_posix()
        found.append(f"{shown} without a named `deployments:` entry")
    nested = nested_layouts(repository)
    found += [f"{n}/{PREFECT_YAML} with `deployments:` entries" for n in nested]
    if not found:
        return (
            f"no flow folder found: {where}, and no Python file in {repository} has a Prefect "
            "@flow. Create a flow folder that deploys as it is with `prefect-flow-deploy new "
            "PROJECT FOLDER`, or set projects-root (--projects-root) to the folder holding "
            "<project>/<flow folder>/."
        )
    steps = [
        f"set projects-root to {n} (`--projects-root {n}`): its {PREFECT_YAML} is read as "
        f"Prefect's layout there, as `prefect deploy --prefect-file {n}/{PREFECT_YAML}` reads it"
        for n in nested
    ]
    if registers:
        steps.append(
            "run `prefect-flow-deploy adopt` (`--dry-run` first) to move the folders the "
            "workflow registers into projects/<project>/<folder>/ (their Prefect 1 flows must "
            "then be ported to Prefect 3)"
        )
    first = (  # a prefect.yaml cannot deploy a Prefect 1 flow (bertrandlalo/prefect_jobs)
        "port them to Prefect 3 first (https://docs.prefect.io/v3/resources/upgrade-to-prefect-3); "
        "then "
        if old and not flows and not registers
        else ""
    )
    if flows:
        steps.append(
            f"move each folder of flows into projects/<project>/<folder>/ ({_move(flows, repository, name)})"
        )
    steps += [
        "give the repository a prefect.yaml at its root with a named `deployments:` entry per "
        "flow (`entrypoint: flows/etl.py:main`), as Prefect's docs lay it out: it is read as "
        "it is, and `prefect-flow-deploy adopt` can move it into projects/ later",
        "set projects-root (--projects-root) to the folder holding <project>/<flow folder>/",
    ]
    return (
        f"no flow folder found: {where}. Found instead: {'; '.join(found)}. To deploy them: "
        f"{first}{'; or '.join(steps)}. See docs/prefect-layout.md."
    )


def nested_layouts(repository: Path) -> list[str]:
    """The top folders whose prefect.yaml has `deployments:` entries (a file kept beside
    the flows and deployed with `--prefect-file`), by name."""
    found = []
    for candidate in sorted(repository.glob(f"*/{PREFECT_YAML}")):
        text = candidate.read_text(encoding="utf-8", errors="replace")
        if HAS_ENTRIES.search(text) and not candidate.parent.name.startswith("."):
            found.append(candidate.parent.name)
    return found


def _move(flows: Counter[str], repository: Path, name: str | None) -> str:
    """The command that moves the largest folder of flows into place (`adopt` moves only
    what a prefect.yaml or a workflow names), into a project named as the repository the
    run acts as (its git remote's name, not the checkout folder's)."""
    top = min(flows, key=lambda folder: (-flows[folder], folder))
    project = (name or "").rsplit("/", 1)[-1] or repository.name or "<project>"
    if top == ".":
        return (
            f"here the flow files are at the root: move them into `projects/{project}/<folder>/`"
            + (
                ", with a copy of requirements.txt"
                if (repository / "requirements.txt").is_file()
                else ""
            )
            + " and the modules they import"
        )
    subfolders = sorted(p.parent.name for p in (repository / top).glob(f"*/{PREFECT_YAML}"))
    if subfolders and not (repository / top / PREFECT_YAML).is_file():
        return (  # each subfolder with its prefect.yaml a flow folder (trial round 9 b 9)
            f"`mkdir -p projects && git mv {top} projects/{top}`: the project {top}, whose "
            f"folders {', '.join(subfolders)} keep their prefect.yaml at their top"
        )
    top = _own_folder(repository, top)
    name = Path(top).name
    move = f"`mkdir -p projects/{project} && git mv {top} projects/{project}/{name}`"
    if (repository / "requirements.txt").is_file() and not (
        repository / top / "requirements.txt"
    ).is_file():
        move += (  # uuboyscy/tjr101: pandas only in the root's, three flows refused after
            f", then `cp requirements.txt projects/{project}/{name}/` (each folder's image "
            "installs the folder's own requirements.txt alone)"
        )
    if _imports_itself(repository / top):  # tker-78/trading-etl: `from src.utils import …`
        move += (
            f"; its files import `{top}.…` by its path from the root: after the move, import "
            "its modules by their names within the folder"
        )
    return move


def _own_folder(repository: Path, top: str) -> str:
    """The folder of `top` to move: the one holding its flow files, when that folder (or one
    between it and `top`) has their requirements.txt or Dockerfile (prefect/flows/ with its
    requirements.txt: moving prefect/ left that file below the flow folder's top, unread, and
    the build refused the flow; MarcoTulioGT/iac_gcp_prefect, trial round 11 b 8)."""
    parents = set()
    for current, dirs, names in os.walk(repository / top):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        for name in names:
            if name.endswith(".py"):
                text = Path(current, name).read_text(encoding="utf-8", errors="replace")
                if _FLOW.search(text) and "prefect" in text:
                    parents.add(current)
    if not parents:
        return top
    folder = Path(os.path.commonpath(sorted(parents)))
    while folder != repository / top and folder.is_relative_to(repository / top):
        if (folder / "requirements.txt").is_file() or (folder / "Dockerfile").is_file():
            return folder.relative_to(repository).as_posix()
        folder = folder.parent
    return top


def _imports_itself(folder: Path) -> bool:
    """Whether a Python file under the folder imports it by its name (`from src.x import`).
    Never a folder named as Prefect or the standard library: `from prefect.states import …`
    in a `prefect/` folder is Prefect's (madridmarco/data-extraction-soccer-leagues)."""
    if folder.name in IN_EVERY_IMAGE:
        return False
    pattern = re.compile(rf"^\s*(?:from|import)\s+{re.escape(folder.name)}\.", re.MULTILINE)
    for current, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        for name in names:
            if name.endswith(".py"):
                text = Path(current, name).read_text(encoding="utf-8", errors="replace")
                if pattern.search(text):
                    return True
    return False


def _most(counts: Counter[str], what: str, shown: int = 4) -> list[str]:
    """`12 .py files with a @flow under flows/`, the largest first, at most `shown`."""
    lines = [
        f"{n} .py file{'s' * (n > 1)} {what} under {_under(top)}"
        for top, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    more = len(lines) - shown
    return lines[:shown] + ([f"and {more} more such folders"] if more > 0 else [])


def _under(top: str) -> str:
    return "the repository root" if top == "." else f"{top}/"


def buried_prefect_yamls(files: Iterable[str], folder: Path) -> list[Problem]:
    """A prefect.yaml below the flow folder's top (`etl/daily/prefect.yaml` with the flow
    folder `etl`): no run reads it, and its deployments' schedules and parameters were lost
    unsaid (SteffRhes/prefect_experiments, trial round 9 b 9). `files`: the folder's files."""
    top = str(folder)
    return [
        Problem(
            "warning",
            f"{os.path.relpath(path, top)} is not read: only the flow folder's own "
            f"{PREFECT_YAML} is, so its deployments are not made as it says (their flows get "
            "the default deployment). Make its folder a flow folder of its own (move it to "
            f"projects/<project>/{os.path.basename(os.path.dirname(path))}/), or move its "
            f"entries into {os.path.basename(top)}/{PREFECT_YAML} with entrypoints from there.",
            Path(path),
            None,
            PREFECT_YAML,
        )
        for path in files
        if os.path.basename(path) == PREFECT_YAML and os.path.dirname(path) != top
    ]


def buried_requirements(files: Iterable[str], folder: Path) -> list[Problem]:
    """For a folder built by the default recipe without a requirements.txt at its top: one
    below it (`flows/requirements.txt` in the flow folder `prefect/`), which no build reads,
    so its packages are not in the image (MarcoTulioGT/iac_gcp_prefect, trial round 11 b 8:
    said only after the build, as a missing module). `files`: the folder's files."""
    top = str(folder)
    return [
        Problem(
            "warning",
            f"{os.path.relpath(path, top)} is not read: the image installs the flow folder's "
            "own requirements.txt, at its top, and this folder has none, so these packages are "
            f"not in the image. Move it to the folder's top (`git mv {os.path.relpath(path, top)} "
            "requirements.txt` there), or make its folder the flow folder.",
            Path(path),
            None,
            "requirements.txt not read",
        )
        for path in sorted(files)
        if os.path.basename(path) == "requirements.txt" and os.path.dirname(path) != top
    ]
