"""The checkout's commit and history, for the deploy order (commit_order.py).

Read with dulwich, not `git`: the action's container has no git, and the workspace it mounts
belongs to another user (which git refuses without `safe.directory`). The commit is the
checkout's HEAD, which on GitHub is GITHUB_SHA unless the checkout step chose another ref:
what is deployed is what the checkout holds.
"""

from __future__ import annotations

from pathlib import Path

from .commit_order import Commit, Relation
from .logger import log


class CheckoutHistory:
    """The repository holding `start`; `commit` is None outside one (or when its HEAD cannot
    be read: an empty repository). Each question opens the repository afresh: the answers
    are asked from the planning thread and from the registration thread."""

    def __init__(self, start: Path) -> None:
        self.root: str | None = None
        self.commit: Commit | None = None
        try:
            from dulwich.repo import Repo

            with Repo.discover(str(start)) as repo:
                head = repo.head()
                self.commit = Commit(head.decode(), repo[head].commit_time)  # type: ignore[attr-defined]
                self.root = repo.path
        except Exception as exc:  # no repository, no HEAD, unreadable objects: no order
            log.debug(f"deploy order: no commit read from {start}: {type(exc).__name__}: {exc}")

    def relation(self, recorded_sha: str) -> Relation | None:
        """How `recorded_sha` relates to the checkout's commit; None when the history cannot
        say (the commit is not in the checkout; in a shallow one, "neither" is unproven)."""
        if self.root is None or self.commit is None:
            return None
        from dulwich.graph import can_fast_forward
        from dulwich.objects import ObjectID
        from dulwich.repo import Repo

        ours, theirs = ObjectID(self.commit.sha.encode()), ObjectID(recorded_sha.encode())
        try:
            with Repo(self.root) as repo:
                if theirs not in repo:
                    return None
                if can_fast_forward(repo, theirs, ours):
                    return "descendant"
                if can_fast_forward(repo, ours, theirs):
                    return "ancestor"
                shallow = bool(repo.get_shallow())
        except Exception as exc:  # a parent missing (shallow history), an unreadable object
            log.debug(f"deploy order: no ancestry of {recorded_sha[:12]}: {exc}")
            return None
        return None if shallow else "diverged"
