"""What stays at the repository root when `adopt` moves the folders of Prefect's layout into
projects/: the modules the folders import and the build files (Dockerfile, pyproject.toml)
their images were built with. Each folder's image is built from the folder alone, so each is
said (reading only: `adopt` decides and moves)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prefect_flow_deploy.reading.dockerfile import folder_dockerfile

if TYPE_CHECKING:
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.reading.prefect_layout import Group


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def modules_left(
    group: Group, everything: FlowFolder | None, root: Path, target: Path
) -> list[str]:
    """The repository's own modules at its top that the folder's files import: they stay
    there, and the folder's image holds the folder alone (9xxxxxx/meprefect's `utils`, said
    only by the build before)."""
    if everything is None:
        return []
    top = root.resolve()
    found: dict[str, str] = {}
    for imported in everything.imports:
        module = imported.module
        for candidate in (top / module, top / f"{module}.py"):
            if candidate.exists() and not candidate.is_relative_to(group.path):
                found.setdefault(module, f"{imported.file}:{imported.line}")
    return [
        f"{_relative(target, root)}: {where} imports `{module}`, which stays at the repository "
        "root: the folder's image holds the folder alone, so its runs would fail to import "
        f"it. Move or copy {module} into the folder, or install it as a package from "
        "requirements.txt."
        for module, where in sorted(found.items())
    ]


def build_files_left(root: Path, moves: dict[Path, Path]) -> list[str]:
    """A Dockerfile or pyproject.toml at the top that the moved folders (source → target) do
    not have: each folder's image is built from the folder alone, so what it installs is not
    in it, and the warning `validate` gave about it before the move is gone after
    (tekumara/prefect-demo's root Dockerfile installing `.[dask]`)."""
    top = root.resolve()
    found = [f for f in (folder_dockerfile(top), top / "pyproject.toml") if f and f.is_file()]
    said = []
    for file in found:  # flow files at the top move alone: their folder lacks it too
        lacking = [
            _relative(t, root)
            for s, t in moves.items()
            if s == top or not (s / file.name).is_file()
        ]
        if lacking:
            said.append(
                f"{file.name} stays at the repository root: each folder's image is built from "
                f"the folder alone, so what it installs is not in {', '.join(lacking)}. Copy it "
                "into each folder that needs it, or list its packages in the folder's "
                "requirements.txt."
            )
    return said
