"""The checkout's commit and history, for the deploy order (commit_order.py).

Read with dulwich, not `git`: the action's container has no git, and the workspace it mounts
belongs to another user (which git refuses without `safe.directory`). The commit is the
checkout's HEAD, which on GitHub is GITHUB_SHA unless the checkout step chose another ref:
what is deployed is what the checkout holds.

Ancestry is trusted over time whenever it can be known. A checkout that cannot tell (a
shallow one, actions/checkout's default, or one without the recorded commit) fetches the
missing history from its `origin` remote with dulwich, into a scratch repository of the
run's temporary folder: the checkout itself is left as it was. On GitHub that is the
workflow's token actions/checkout keeps in the checkout's config (`http.<url>.extraheader`),
which dulwich sends too. A remote that cannot be reached, or that lacks the commit (a forged
record, a branch deleted since), leaves the question unanswered: commit_order.py then
decides by time, never trusting a time in the future.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.deployment.commit_order import Commit, Relation

if TYPE_CHECKING:
    from dulwich.repo import Repo


class CheckoutHistory:
    """The repository holding `start`; `commit` is None outside one (or when its HEAD cannot
    be read: an empty repository). Each question opens the repository afresh: the answers
    are asked from the planning thread and from the registration thread."""

    def __init__(self, start: Path) -> None:
        self.root: str | None = None
        self.commit: Commit | None = None
        self._answers: dict[str, Relation | None] = {}
        self._scratch: str | None = None
        self._lock = threading.Lock()
        if not _inside_a_checkout(start):
            log.debug(f"deploy order: no repository holds {start}")
            return  # dulwich (0.1 s to import) is not loaded for nothing
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
        say, even with what its origin holds."""
        if self.root is None or self.commit is None:
            return None
        with self._lock:
            if recorded_sha not in self._answers:
                found = self._local(recorded_sha)
                if found is None:
                    found = self._fetched(recorded_sha)
                self._answers[recorded_sha] = found
            return self._answers[recorded_sha]

    def _local(self, recorded_sha: str) -> Relation | None:
        from dulwich.repo import Repo

        assert self.root is not None
        try:
            with Repo(self.root) as repo:
                found = _ancestry(repo, self._ours(), recorded_sha)
                shallow = bool(repo.get_shallow())
        except Exception as exc:  # a parent missing (shallow history), an unreadable object
            log.debug(f"deploy order: no ancestry of {recorded_sha[:12]} here: {exc}")
            return None
        return None if found == "diverged" and shallow else found

    def _fetched(self, recorded_sha: str) -> Relation | None:
        """The relation in the history fetched from the checkout's origin: both commits and
        everything before them (objects only; the scratch repository is the run's)."""
        from collections.abc import Mapping

        from dulwich.client import get_transport_and_path
        from dulwich.objects import ObjectID
        from dulwich.refs import Ref
        from dulwich.repo import Repo

        from prefect_flow_deploy.core.run_files import temp_dir

        assert self.root is not None
        ours = self._ours()
        try:
            with Repo(self.root) as checkout:
                url = checkout.get_config().get((b"remote", b"origin"), b"url").decode()
                client, path = get_transport_and_path(url, config=checkout.get_config_stack())
            if self._scratch is None:
                self._scratch = temp_dir("pfd-history-")
                Repo.init_bare(self._scratch).close()
            with Repo(self._scratch) as scratch:
                both = (ObjectID(ours), ObjectID(recorded_sha.encode()))
                wanted = [sha for sha in both if sha not in scratch]

                def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
                    return wanted

                if wanted:
                    client.fetch(path, scratch, determine_wants=wants)
                    for sha in wanted:  # what is there now is offered as a have next time
                        scratch.refs[Ref(b"refs/pfd/" + sha)] = sha
                found = _ancestry(scratch, ours, recorded_sha)
        except Exception as exc:  # no origin, unreachable, the commit unknown there
            log.debug(f"deploy order: {recorded_sha[:12]} not fetched from origin: {exc}")
            return None
        log.debug(f"deploy order: fetched the history of {recorded_sha[:12]} from origin")
        return found

    def _ours(self) -> bytes:
        assert self.commit is not None
        return self.commit.sha.encode()


def _ancestry(repo: Repo, ours: bytes, recorded_sha: str) -> Relation | None:
    """Descendant, ancestor or diverged in `repo`; None when it lacks the recorded commit."""
    from dulwich.graph import can_fast_forward
    from dulwich.objects import ObjectID

    theirs = ObjectID(recorded_sha.encode())
    if theirs not in repo or ours not in repo:
        return None
    if can_fast_forward(repo, theirs, ObjectID(ours)):
        return "descendant"
    if can_fast_forward(repo, ObjectID(ours), theirs):
        return "ancestor"
    return "diverged"


def _inside_a_checkout(start: Path) -> bool:
    """Whether `start` or a folder above it holds `.git` (a folder, or a worktree's file),
    walked from its real path as dulwich's Repo.discover walks."""
    path = Path(os.path.realpath(start))
    return any((folder / ".git").exists() for folder in (path, *path.parents))
