"""Symlinks in a flow folder, and what the image gets for each.

A build context holds a symlink as a link: one pointing out of the flow folder would be
dangling in the image (it deploys, and fails at run time). So (`link_action`, pure):

- a link to a regular file of the repository outside the flow folder is **copied**: the
  target's content goes into the build context in the link's place, and into the content
  tag (a change of the target rebuilds);
- a link inside the flow folder stays a link (it resolves in the image too), as does a
  dangling one (as Docker copies it);
- a link to a folder outside the flow folder is an error at the link (discovery.py): copy
  the folder in, or link its files one by one;
- a link out of the repository is an error at the link already (discovery.py).

`staged_context` (I/O) makes the context a build of such a folder receives: a copy of the
folder in the run's temporary folder, each linked file replaced by its target's content.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

LinkAction = Literal["keep", "copy", "folder", "outside"]


def link_action(target: Path | None, target_is_file: bool, folder: Path, root: Path) -> LinkAction:
    """What a link of the flow folder `folder` to `target` (resolved; None: dangling)
    becomes in its image; `root` is the repository. Paths resolved."""
    if target is None or target.is_relative_to(folder):
        return "keep"
    if not target.is_relative_to(root):
        return "outside"
    return "copy" if target_is_file else "folder"


def resolved_target(link: Path) -> tuple[Path | None, bool]:
    """The link's final target and whether it is a regular file; (None, False) when it
    dangles or loops."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, False
    return target, target.is_file()


def folder_link_problem(shown: str, target: str) -> str:
    return (
        f"{shown} is a symlink to a folder outside the flow folder ({target}): a build "
        "receives the link, not the folder, so it would dangle in the image. Copy the folder "
        "into the flow folder, or link the files it needs one by one (a linked file is "
        "copied into the image)."
    )


def staged_context(context: Path, linked: tuple[str, ...], into: str) -> Path:
    """A copy of the folder `context` under `into`, each path of `linked` (relative, POSIX)
    replaced by its target's content (mode kept)."""
    staged = Path(into) / "context"
    shutil.copytree(context, staged, symlinks=True)
    for relative in linked:
        place = staged / relative
        place.unlink()
        shutil.copy2(context / relative, place)  # follows the link: the target's content
        os.utime(place, None)
    return staged
