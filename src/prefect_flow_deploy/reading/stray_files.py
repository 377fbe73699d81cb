"""Files directly in a project folder, where no flow folder finds them: a flow file (not
deployed) and a flow folder's own files (a Dockerfile, requirements.txt, prefect.yaml,
.dockerignore), each said as a warning with where it belongs."""

from __future__ import annotations

import re
from pathlib import Path

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.dockerfile import DOCKERFILE_NAMES

_FLOW_DECORATOR = re.compile(r"@(?:\w+\.)?flow\b")


# Files a flow folder builds from: in a project folder, no build reads them.
_FOLDER_FILES = (*DOCKERFILE_NAMES, "requirements.txt", "prefect.yaml", ".dockerignore")


def warn_strays(project_dir: Path) -> None:
    """Files that sit where no flow folder would find them: a flow, or a build file meant to
    be shared by the project's folders (each folder builds from its own)."""
    project = project_dir.name
    for stray in _flow_files_at(project_dir):
        log.warning(
            f"{stray.name} is directly in the project folder {project}/, so it is not "
            f"deployed: move it into a flow folder, {project}/<folder>/{stray.name}.",
            file=stray,
            title="Flow outside a flow folder",
        )
    for name in _FOLDER_FILES:
        if (project_dir / name).is_file():
            log.warning(
                f"{name} is directly in the project folder {project}/, where nothing reads it: "
                f"each flow folder {_STRAY_ADVICE.get(name, _BUILD_ADVICE)}",
                file=project_dir / name,
                title="Build file outside a flow folder",
            )


_BUILD_ADVICE = (
    "builds from its own. Copy it into the folders that need it; for packages every folder "
    "shares, build a base image once and give it as base-image."
)
_STRAY_ADVICE = {  # trial round 10 a 7: a prefect.yaml got the packages' advice
    "prefect.yaml": "reads its own (<folder>/prefect.yaml), so its entries' names, schedules "
    "and parameters are not deployed. Move each entry into its folder's prefect.yaml, with "
    "the entrypoint relative to that folder (`flow.py:main`, not `<folder>/flow.py:main`).",
    ".dockerignore": "builds from its own. Copy it into the folders whose builds it should filter.",
}


def _flow_files_at(directory: Path) -> list[Path]:
    """Python files holding a flow that sit where no flow folder would find them."""
    return sorted(
        path
        for path in directory.glob("*.py")
        if path.is_file() and _FLOW_DECORATOR.search(file_reads.read_text(path, errors="replace"))
    )
