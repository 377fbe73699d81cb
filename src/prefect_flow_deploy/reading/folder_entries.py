"""What of a flow folder cannot go into its image, entry by entry (links not followed): a name
that is not UTF-8, a symlink loop, a symlink out of the repository or to a folder, where the
build receives it; the repository root the links are judged against, and a path as
printable text."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.reading.build_context import received_by_build
from prefect_flow_deploy.reading.folder_listing import FolderListing, list_folder
from prefect_flow_deploy.reading.linked_files import folder_link_problem, link_action


def checkout_of(path: Path) -> Path | None:
    """The top of the checkout `path` is in: the nearest folder with `.git`, else None."""
    resolved = path.resolve()
    return next((p for p in (resolved, *resolved.parents) if (p / ".git").exists()), None)


def repository_root(projects_root: Path) -> Path:
    """The checkout the projects root is in (the nearest folder with `.git`), else the
    projects root's parent (where prefect-flow-deploy.yaml lives)."""
    return checkout_of(projects_root) or projects_root.resolve().parent


def display(path: Path | str) -> str:
    """A path as text that can be printed, whatever bytes its name holds."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def entry_problem(path: Path, root: Path, folder: Path | None = None) -> Problem | None:
    """Why a file or folder of the repository cannot go into an image, at the entry: a name
    that is not UTF-8 (no tag, no log line can hold it), a symlink loop, a symlink out of
    the repository (its target would be built into the image, or be missing from it)."""
    shown = display(path.relative_to(root) if path.is_relative_to(root) else path)
    if not _is_utf8(path):
        return Problem(
            "error",
            f"the name {shown} is not valid UTF-8 (shown escaped): rename it, or delete it.",
            path.parent,
            title="File name",
        )
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except (RuntimeError, OSError) as exc:  # RuntimeError: pathlib's own loop detection
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            return None  # a dangling link: copied as a link, as Docker does
        return Problem(
            "error",
            f"{shown} is a symlink loop (-> {display(os.readlink(path))}): remove the link, "
            "or point it at a real file or folder.",
            path,
            title="Symlink loop",
        )
    if not target.is_relative_to(root):
        return Problem(
            "error",
            f"{shown} is a symlink to {display(target)}, outside the repository ({display(root)}): "
            "nothing outside the repository goes into an image. Copy what it needs into the "
            "repository, install it from a package index, or leave it out of the build "
            "(.dockerignore).",
            path,
            title="Symlink out of the repository",
        )
    if folder is not None and link_action(target, target.is_file(), folder, root) == "folder":
        shown_target = display(target.relative_to(root))
        return Problem(
            "error", folder_link_problem(shown, shown_target), path, title="Symlink to a folder"
        )
    return None


def _is_utf8(path: Path | str) -> bool:
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def entry_problems(folder: Path, root: Path, listing: FolderListing | None = None) -> list[Problem]:
    """Every entry of a flow folder that cannot go into its image (see `entry_problem`) and
    that its build receives: a laptop's `.venv` links its interpreter out of the repository,
    and the default recipe leaves it out (build_context.RECIPE_IGNORES), as a .dockerignore
    does what it names. Links are not followed. `listing`: the folder's, when the caller has
    it (one walk)."""
    listing = listing or list_folder(folder)
    problems: list[Problem] = []
    resolved = Path(listing.resolved)
    received = _received(listing.folder, received_by_build(folder))
    for directory in listing.directories:
        if directory.error is not None:
            exc = directory.error
            where = Path(exc.filename) if exc.filename else folder
            if received(str(where)):
                problems.append(
                    Problem("error", f"cannot read {display(where)}: {exc.strerror}", where)
                )
            continue
        for entry in (*directory.dirs, *directory.files):
            problem = listed_entry_problem(entry.path, entry.is_symlink, root, resolved)
            if problem is not None and received(entry.path):
                problems.append(problem)
    return problems


def _received(given: str, by_build: Callable[[str], bool]) -> Callable[[str], bool]:
    """`by_build` for a path under the folder as listed (`given`)."""
    return lambda path: path == given or by_build(os.path.relpath(path, given))


def listed_entry_problem(
    path: str, is_symlink: bool, root: Path, folder: Path | None = None
) -> Problem | None:
    """`entry_problem` of an entry whose listing said whether it is a link: a plain entry
    with a UTF-8 name has nothing to say (no Path made, no stat)."""
    if not is_symlink and _is_utf8(path):
        return None
    return entry_problem(Path(path), root, folder)
