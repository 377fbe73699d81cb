"""The deploy order (commit_order.py): a run never writes over a deployment recorded as made
from a newer commit. The rule is pure; the history it is given is read from a real git
repository made here (checkout_history.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.core.model import DeploymentPlan
from prefect_flow_deploy.deployment.commit_order import (
    Commit,
    commits_to_relate,
    order,
    recorded_commit,
    superseded,
    tags_to_write,
    without_commit_tags,
)

OLD = Commit("a" * 40, 1_767_225_600)  # 2026-01-01T00:00:00Z
NEW = Commit("b" * 40, 1_767_312_000)  # 2026-01-02T00:00:00Z


def test_the_record_is_one_tag_read_back_exactly() -> None:
    assert NEW.tag == f"commit:{'b' * 40}@2026-01-02T00:00:00Z"
    assert recorded_commit(["managed-by:prefect-flow-deploy", NEW.tag, "repo:acme/x"]) == NEW
    assert recorded_commit(["commit:nothex@2026-01-02T00:00:00Z", "repo:acme/x"]) is None
    assert recorded_commit([]) is None


def test_a_write_replaces_the_record_and_keeps_the_other_tags() -> None:
    assert tags_to_write(["a", OLD.tag, "b"], NEW) == ["a", "b", NEW.tag]
    # A run that knows no commit records none (rather than one it was not made from).
    assert tags_to_write(["a", OLD.tag], None) == ["a"]
    assert without_commit_tags([OLD.tag, "tenant:t"]) == ["tenant:t"]


@pytest.mark.parametrize(
    ("ours", "recorded", "relation", "skips"),
    [
        (OLD, NEW, "ancestor", True),  # the recorded commit descends from ours
        (NEW, OLD, "descendant", False),
        (OLD, OLD, None, False),  # the same commit: a re-run converges
        (OLD, NEW, None, True),  # no history: committer time, ours older
        (NEW, OLD, None, False),  # no history: ours newer
        (OLD, NEW, "diverged", True),  # other branches: committer time
        (NEW, OLD, "diverged", False),
        # Ancestry wins over a clock: a descendant committed "earlier" (a skewed clock, a
        # rebase keeping dates) is still newer.
        (Commit("c" * 40, OLD.time - 10), NEW, "descendant", False),
        (Commit("c" * 40, NEW.time + 10), OLD, "ancestor", True),
        (None, NEW, None, False),  # a run that knows no commit writes as before
        (NEW, None, None, False),  # no record: written, and gets one
        (Commit("c" * 40, NEW.time), NEW, "diverged", False),  # a tie: the later writer
    ],
)
def test_superseded_by_ancestry_else_committer_time(
    ours: Commit | None, recorded: Commit | None, relation: str | None, skips: bool
) -> None:
    why = superseded(ours, recorded, relation)  # type: ignore[arg-type]
    assert (why is not None) == skips
    if why:
        assert why.startswith("the server's deployment was written from a newer commit")
        assert recorded is not None and recorded.short in why


def _plan(action: str) -> DeploymentPlan:
    return DeploymentPlan(None, "f/d", "p/f", action, deployment_id="1")  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["update", "remove"])
def test_order_skips_updates_and_removals_from_an_older_commit(action: str) -> None:
    skipped = order(_plan(action), NEW, OLD, {NEW.sha: "ancestor"})
    assert skipped.action == "skipped" and "descends from this run's" in (skipped.error or "")
    kept = order(_plan(action), OLD, NEW, {OLD.sha: "descendant"})
    assert kept.action == action and kept.error is None


@pytest.mark.parametrize("action", ["create", "unchanged", "failed"])
def test_order_leaves_other_actions_alone(action: str) -> None:
    plan = _plan(action)
    assert order(plan, NEW, OLD, {NEW.sha: "ancestor"}) is plan


# -- the history, from a real repository ---------------------------------------------------


def test_only_the_writes_of_a_plan_ask_the_history() -> None:
    """A plan that writes nothing asks no history (on a shallow checkout each question is a
    fetch from origin); updates, removals and those skipped for their order ask about their
    record, once per commit, never about the checkout's own or a missing record."""
    third = Commit("c" * 40, NEW.time + 60)
    plans = [
        DeploymentPlan(None, name, "p/f", action, deployment_id="1")  # type: ignore[arg-type]
        for name, action in [
            ("f/unchanged", "unchanged"), ("f/created", "create"), ("f/updated", "update"),
            ("f/removed", "remove"), ("f/skipped", "skipped"), ("f/same", "update"),
            ("f/norecord", "update"), ("f/also", "update"),
        ]
    ]  # fmt: skip
    tags = {
        "f/unchanged": [third.tag], "f/created": [], "f/updated": [OLD.tag],
        "f/removed": [third.tag], "f/skipped": [NEW.tag], "f/same": [NEW.tag],
        "f/norecord": ["repo:acme/x"], "f/also": [OLD.tag],
    }  # fmt: skip
    ours = Commit("d" * 40, NEW.time)
    assert commits_to_relate(plans, tags, ours) == {OLD.sha, NEW.sha, third.sha}
    assert commits_to_relate(plans, tags, NEW) == {OLD.sha, third.sha}  # not our own
    assert commits_to_relate(plans[:2], tags, ours) == set()  # nothing written: nothing asked
    assert commits_to_relate(plans, tags, None) == set()  # no commit of ours: no order


def _git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """main: c1 ← c2 ← c3; branch side: c1 ← s1 (committed last)."""
    root = tmp_path / "origin"
    (root / "projects").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    shas = []
    for day in (1, 2, 3):
        (root / "projects" / "f").write_text(str(day))
        _git(root, "add", ".")
        _git(root, "commit", "-qm", f"c{day}", date=f"2026-01-0{day}T00:00:00Z")
        shas.append(_git(root, "rev-parse", "HEAD"))
    _git(root, "checkout", "-qb", "side", shas[0])
    (root / "projects" / "g").write_text("side")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "s1", date="2026-01-04T00:00:00Z")
    shas.append(_git(root, "rev-parse", "HEAD"))
    _git(root, "checkout", "-q", "main")
    return root, shas


def test_history_reads_head_and_its_committer_time(repo: tuple[Path, list[str]]) -> None:
    root, shas = repo
    history = CheckoutHistory(root / "projects")  # found from a folder inside the checkout
    assert history.commit == Commit(shas[2], 1_767_398_400)


def test_history_tells_ancestry_when_it_holds_both_commits(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, shas = repo
    old = tmp_path / "old"
    _git(tmp_path, "clone", "-q", str(root), str(old))
    _git(old, "checkout", "-q", shas[1])
    history = CheckoutHistory(old)
    assert history.relation(shas[2]) == "ancestor"  # c3 descends from c2
    assert history.relation(shas[0]) == "descendant"
    assert history.relation(shas[3]) == "diverged"  # the side branch (cloned too)
    assert history.relation("f" * 40) is None  # not in this checkout


def test_a_shallow_checkout_asks_its_origin_and_else_falls_back_to_time(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, shas = repo
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{root}", str(shallow))
    history = CheckoutHistory(shallow)
    assert history.commit is not None and history.commit.sha == shas[2]
    assert history.relation(shas[1]) == "descendant"  # fetched from origin (file://)
    assert history.relation(shas[3]) == "diverged"
    assert (shallow / ".git" / "shallow").exists()  # the checkout itself is left as it was

    _git(shallow, "remote", "set-url", "origin", str(tmp_path / "gone"))
    cut_off = CheckoutHistory(shallow)
    assert cut_off.relation(shas[1]) is None  # its history is cut: unknown, not "diverged"
    recorded = Commit(shas[3], 1_767_484_800)  # the side branch, committed later
    assert cut_off.commit is not None
    assert superseded(cut_off.commit, recorded, cut_off.relation(recorded.sha)) is not None


def test_a_record_in_the_future_orders_nothing_and_one_second_is_not_guessed() -> None:
    now = NEW.time + 60
    future = Commit("c" * 40, NEW.time + 10 * 365 * 86400)
    assert superseded(NEW, future, None, now) is None  # a wrong clock, or a forged tag
    assert superseded(NEW, future, "ancestor", now) is not None  # the history still counts
    assert superseded(NEW, future, None) is not None  # no clock given: time as it says
    twin = Commit("d" * 40, NEW.time)
    why = superseded(NEW, twin, None, now)
    assert why is not None and "in the same second" in why and "--force-order" in why
    assert superseded(NEW, twin, "descendant", now) is None
    assert superseded(OLD, NEW, "ancestor", now, forced=True) is None


def test_outside_a_repository_there_is_no_commit(tmp_path: Path) -> None:
    history = CheckoutHistory(tmp_path)
    assert history.commit is None and history.relation("a" * 40) is None
