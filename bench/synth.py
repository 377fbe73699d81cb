"""The synthetic repository every tool of the benchmark deploys: P projects × F flow folders.

Deterministic (the same arguments give byte-identical files), so every tool sees the same
repository and two benchmark runs are comparable. What a folder holds depends on its index
`j` inside its project, so that any F ≥ 10 has every kind at least once per project:

    j % 5 == 1  requirements.txt with tabulate==0.9.0
    j % 5 == 3  requirements.txt with humanize==4.12.3
    j % 10 == 4 its own Dockerfile (ARG BASE_IMAGE / FROM ${BASE_IMAGE}), with requirements
    j % 10 == 7 its own Dockerfile, without requirements
    j % 4 == 2  a prefect.yaml whose deployment has a cron schedule and default parameters
    j % 6 == 5  a helper module that the flow imports
    otherwise   a bare flow.py (the default recipe, no requirements)

Own Dockerfiles are plain (no `RUN --mount`): Prefect's `prefect_docker` build step uses the
engine's legacy builder, which rejects BuildKit-only syntax, and every tool must build the same
repository. A folder's code lives at `/opt/prefect/<folder>` in an own-Dockerfile image, which
is also where Prefect's `dockerfile: auto` puts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REQUIREMENTS = {1: "tabulate==0.9.0", 3: "humanize==4.12.3"}


@dataclass(frozen=True)
class FolderSpec:
    project: str
    name: str
    index: int
    requirement: str | None
    own_dockerfile: bool
    helper: bool
    # The folder's deployment settings (written as a `deployments:` prefect.yaml), or None.
    config: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def function(self) -> str:
        return f"run_{self.project}_{self.name}"

    @property
    def flow_name(self) -> str:
        return f"{self.project}-{self.name}"

    @property
    def entrypoint(self) -> str:
        return f"flow.py:{self.function}"

    @property
    def code_dir_own_dockerfile(self) -> str:
        return f"/opt/prefect/{self.name}"


def project_name(i: int) -> str:
    return f"team{i}"


def folder_name(j: int) -> str:
    return f"flow{j:02d}"


def specs(projects: int, folders: int) -> list[FolderSpec]:
    result = []
    for i in range(projects):
        project = project_name(i)
        for j in range(folders):
            own = j % 10 in (4, 7)
            requirement = REQUIREMENTS.get(j % 5)
            if j % 10 == 4:
                requirement = "tabulate==0.9.0"
            elif j % 10 == 7:
                requirement = None
            config = None
            if j % 4 == 2:
                config = {
                    "name": project,
                    "entrypoint": f"flow.py:run_{project}_{folder_name(j)}",
                    "description": f"Scheduled synthetic flow {project}/{folder_name(j)}",
                    "tags": ["scheduled"],
                    "parameters": {"n": 100 + j, "label": f"{project}-scheduled"},
                    "schedules": [{"cron": f"{j % 60} 6 * * *", "timezone": "UTC"}],
                }
            result.append(
                FolderSpec(project, folder_name(j), j, requirement, own, j % 6 == 5, config)
            )
    return result


def flow_source(spec: FolderSpec) -> str:
    imports = ["from prefect import flow, get_run_logger"]
    body = '    message = f"{label}: {n}"'
    if spec.requirement and spec.requirement.startswith("tabulate"):
        imports.insert(0, "from tabulate import tabulate")
        body = '    message = tabulate([[label, n]], headers=["label", "n"])'
    elif spec.requirement and spec.requirement.startswith("humanize"):
        imports.insert(0, "import humanize")
        body = '    message = f"{label}: {humanize.intcomma(n * 1000)}"'
    if spec.helper:
        imports.append("from helpers import decorate")
        body += "\n    message = decorate(message)"
    return (
        f'"""Synthetic flow {spec.key} for the prefect-flow-deploy benchmark."""\n\n'
        + "\n".join(imports)
        + "\n\n\n"
        + f'@flow(name="{spec.flow_name}")\n'
        + f'def {spec.function}(n: int = {spec.index}, label: str = "{spec.project}") -> str:\n'
        + body
        + "\n    get_run_logger().info(message)\n    return message\n"
    )


HELPER_SOURCE = '''"""A helper module of the folder, imported by the flow."""


def decorate(message: str) -> str:
    return f"** {message} **"
'''


def dockerfile_source(spec: FolderSpec) -> str:
    lines = [
        "# A folder with its own Dockerfile: the base image comes in as a build argument.",
        "ARG BASE_IMAGE=prefecthq/prefect:3-python3.12",
        "FROM ${BASE_IMAGE}",
    ]
    if spec.requirement:
        lines += [
            "COPY requirements.txt /tmp/requirements.txt",
            "RUN python -m pip install --root-user-action=ignore -r /tmp/requirements.txt",
        ]
    lines += [f"WORKDIR {spec.code_dir_own_dockerfile}", "COPY . .", ""]
    return "\n".join(lines)


def write_folder(root: Path, spec: FolderSpec) -> None:
    folder = root / spec.project / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flow.py").write_text(flow_source(spec))
    if spec.helper:
        (folder / "helpers.py").write_text(HELPER_SOURCE)
    if spec.requirement:
        (folder / "requirements.txt").write_text(spec.requirement + "\n")
    if spec.own_dockerfile:
        (folder / "Dockerfile").write_text(dockerfile_source(spec))
    if spec.config is not None:
        (folder / "prefect.yaml").write_text(
            yaml.safe_dump({"deployments": [spec.config]}, sort_keys=False)
        )


def generate(root: Path, projects: int, folders: int) -> list[FolderSpec]:
    """Write the repository under `root` (the projects root); return what was written."""
    all_specs = specs(projects, folders)
    for spec in all_specs:
        write_folder(root, spec)
    return all_specs


def change_target(all_specs: list[FolderSpec]) -> FolderSpec:
    """The folder whose flow file the one-file-change scenario edits: the first one with
    requirements and the default recipe (a code-only change, the common case)."""
    for spec in all_specs:
        if spec.requirement and not spec.own_dockerfile:
            return spec
    return all_specs[0]


def change_one_file(root: Path, spec: FolderSpec, marker: str) -> Path:
    path = root / spec.project / spec.name / "flow.py"
    with path.open("a") as handle:
        handle.write(f"# changed by the benchmark: {marker}\n")
    return path
