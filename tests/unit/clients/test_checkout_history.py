"""The checkout's commit and how a recorded commit relates to it, read with dulwich from a real
repository: the checkout descends from an older commit, is behind a newer one, or diverged
from a sibling; outside a repository, or for a commit nobody has, there is no answer."""

from __future__ import annotations

import shutil
import subprocess
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
