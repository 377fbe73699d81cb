"""The checkout's commit and how a recorded commit relates to it, read with dulwich from a real
repository: the checkout descends from an older commit, is behind a newer one, or diverged
from a sibling; outside a repository, or for a commit nobody has, there is no answer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.checkout_history import CheckoutHistory

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="no git here")


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z", "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(repo: Path, name: str) -> str:
    (repo / name).write_text(name)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def history(tmp_path: Path) -> dict[str, str]:
    git(tmp_path, "init", "-q", "-b", "main")
    first = commit(tmp_path, "first")
    git(tmp_path, "checkout", "-q", "-b", "side")
    side = commit(tmp_path, "side")
    git(tmp_path, "checkout", "-q", "main")
    second = commit(tmp_path, "second")
    git(tmp_path, "checkout", "-q", "-b", "ahead")
    ahead = commit(tmp_path, "ahead")
    git(tmp_path, "checkout", "-q", "main")
    return {"first": first, "side": side, "second": second, "ahead": ahead}


def test_how_a_recorded_commit_relates_to_the_checkout(
    tmp_path: Path, history: dict[str, str]
) -> None:
    (tmp_path / "projects").mkdir()
    checkout = CheckoutHistory(tmp_path / "projects")  # found from a folder inside it
    assert checkout.commit is not None and checkout.commit.sha == history["second"]
    assert checkout.commit.time == 1704067200
    assert checkout.relation(history["first"]) == "descendant"
    assert checkout.relation(history["ahead"]) == "ancestor"
    assert checkout.relation(history["side"]) == "diverged"
    assert checkout.relation("0" * 40) is None  # nobody has it: no origin to ask


def test_outside_a_repository_there_is_no_commit_and_no_answer(tmp_path: Path) -> None:
    checkout = CheckoutHistory(tmp_path)
    assert checkout.commit is None and checkout.root is None
    assert checkout.relation("0" * 40) is None


def test_outside_a_repository_dulwich_is_not_even_imported(tmp_path: Path) -> None:
    """Its import is 0.1 s of a run that has no repository to read (a laptop's folder)."""
    done = subprocess.run(
        [sys.executable, "-c", (
            "import sys; from pathlib import Path\n"
            "from prefect_flow_deploy.clients.checkout_history import CheckoutHistory\n"
            f"assert CheckoutHistory(Path({str(tmp_path)!r})).commit is None\n"
            "print('dulwich' in sys.modules)"
        )],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_worktree_and_a_link_into_the_checkout_are_inside_it(
    tmp_path: Path, history: dict[str, str]
) -> None:
    """`.git` is a file in a worktree, and a linked folder is walked from its real path:
    both are found as dulwich's own discovery finds them."""
    worktree = tmp_path.parent / f"{tmp_path.name}-worktree"
    git(tmp_path, "worktree", "add", "-q", str(worktree), history["first"])
    (worktree / "projects").mkdir()
    found = CheckoutHistory(worktree / "projects").commit
    assert found is not None and found.sha == history["first"]
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(worktree / "projects")
    found = CheckoutHistory(link).commit
    assert found is not None and found.sha == history["first"]
