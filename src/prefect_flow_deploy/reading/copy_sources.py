"""COPY and ADD sources a flow folder's Dockerfile names that its build context (the folder)
does not have: said before building, at the instruction's line (BuildKit says "failed to
walk … no such file or directory" after it starts), with what to write instead."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from prefect_flow_deploy.core.model import FlowFolder, Problem
from prefect_flow_deploy.reading.dockerfile import copy_sources
from prefect_flow_deploy.reading.folder_entries import display


def missing_copy_sources(folder: FlowFolder, dockerfile_text: str, root: Path) -> list[Problem]:
    """COPY and ADD sources the build context does not have, said before building (BuildKit
    says "failed to walk … no such file or directory" after it starts). The context is the
    flow folder: a Dockerfile written for the repository root as context is the usual cause."""
    assert folder.dockerfile is not None
    where = display(
        folder.path.relative_to(root) if folder.path.is_relative_to(root) else folder.path
    )
    problems = []
    for copy in copy_sources(dockerfile_text):
        # BuildKit reads a source from the context root, `/` or not, `..` going no higher.
        inside = posixpath.normpath(posixpath.join("/", copy.source)).lstrip("/")
        if not inside or os.path.lexists(folder.path / inside):
            continue
        leaves = (
            " (a path cannot leave the build context)" if ".." in copy.source.split("/") else ""
        )
        message = (
            f"`{copy.instruction} {copy.source}`: the build context, the flow folder {where}/, "
            f"has no {inside!r}{leaves}. Paths in COPY and ADD are relative to the flow folder, "
            "not the repository root"
        )
        message += _copy_hint(folder.path, inside, root)
        problems.append(Problem("error", message, folder.dockerfile, copy.line, "Dockerfile"))
    return problems


def _copy_hint(folder: Path, inside: str, root: Path) -> str:
    """What to write instead: the folder's own file named from the repository root, or
    what to do with a file of the repository outside the folder."""
    parts = inside.split("/")
    if parts[-1] == folder.name:
        return ": it names the flow folder itself, which is `.` here."
    elsewhere = root / inside  # a file of the repository there is another file, not this one
    in_repository = os.path.lexists(elsewhere)
    for i in range(1, len(parts)):
        candidate = folder.joinpath(*parts[i:])
        if os.path.lexists(candidate) and (
            not in_repository or os.path.realpath(candidate) == os.path.realpath(elsewhere)
        ):
            return f": write it as `{'/'.join(parts[i:])}`."
    if in_repository:
        return (
            f": {inside} is in the repository but outside the flow folder, and the image is "
            "built from the folder alone. Copy it into the folder, or make it a package and "
            "install it from requirements.txt."
        )
    return "."
