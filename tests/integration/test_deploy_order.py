"""Deploy order on the real stack (issue 15: a run from an older checkout that finished last
put the old image back; both exited 0). Two checkouts of one repository, at an old and a new
commit, deploy the same flow: whatever the order they run in, the deployment ends up holding
the new commit's image, and the older run says why it skipped (a notice, exit 0). Against the
pinned server and the oldest supported one (3.2.0): the record is a tag, which both keep."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from prefect_flow_deploy.deployment.commit_order import COMMIT_TAG_PREFIX, recorded_commit
from prefect_flow_deploy.run.engine import Engine

from ..conftest import PrefectServer, Scenario, Stack, write_flow
from ..helpers import deploy, options, read_deployment
from .test_cli import cli as run_cli
from .test_cli import common

pytestmark = pytest.mark.stack


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    dates = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **dates},
    )  # fmt: skip
    return done.stdout.strip()


class Repository:
    """A git repository holding the scenario's projects; each commit changes the flow's
    result (so its image) and is dated a day after the last."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario, self.root = scenario, scenario.root.parent
        self.folder = scenario.folder("p", "alpha")
        self.shas: list[str] = []
        git(self.root, "init", "-q", "-b", "main")

    def commit(self, result: str) -> str:
        write_flow(self.folder, "alpha", f"return {result!r}")
        git(self.root, "add", ".")
        day = len(self.shas) + 1
        git(self.root, "commit", "-qm", result, date=f"2026-01-{day:02d}T00:00:00Z")
        self.shas.append(git(self.root, "rev-parse", "HEAD"))
        return self.shas[-1]

    def checkout(self, sha: str, name: str, shallow: bool = False) -> Path:
        """A clone at `sha` (with the whole history, or only that commit); its projects root."""
        target = self.root.parent / name
        depth = ["--depth", "1", "--no-single-branch"] if shallow else []
        git(self.root.parent, "clone", "-q", *depth, f"file://{self.root}", str(target))
        if shallow:
            git(target, "fetch", "-q", "--depth", "1", "origin", sha)
        git(target, "checkout", "-q", sha)
        return target / "projects"


def held(scenario: Scenario, api_url: str | None = None) -> tuple[str, str]:
    """The deployment's image and the commit it records."""
    deployment = read_deployment(f"alpha/{scenario.project('p')}", api_url)
    recorded = recorded_commit(deployment.tags)
    assert recorded is not None, deployment.tags
    assert sum(t.startswith(COMMIT_TAG_PREFIX) for t in deployment.tags) == 1
    return deployment.job_variables["image"], recorded.sha


def test_an_older_checkout_deployed_last_skips_with_a_notice(
    stack: Stack, scenario: Scenario, server: PrefectServer
) -> None:
    repository = Repository(scenario)
    old_sha, new_sha = repository.commit("old"), repository.commit("new")
    old, new = repository.checkout(old_sha, "old"), repository.checkout(new_sha, "new")

    assert not deploy(scenario, stack, projects_root=new, prefect_api_url=server.url).failed
    new_image, recorded = held(scenario, server.url)
    assert recorded == new_sha

    # The plan already says why; the run exits 0 with a notice and writes nothing.
    done = run_cli(
        "deploy", *common(scenario, stack), "--projects-root", str(old),
        "--prefect-api-url", server.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "notice:" in done.stderr and "written from a newer commit" in done.stderr
    assert f"commit {new_sha[:12]} descends from this run's {old_sha[:12]}" in done.stderr
    assert "skipped" in done.stderr
    assert held(scenario, server.url) == (new_image, new_sha)
    # Nor is its image built and pushed for nothing (decide.all_superseded).
    assert "building" not in done.stderr and "built 0, pushed 0" in done.stderr, done.stderr


def test_a_newer_checkout_deployed_last_wins_and_shallow_ones_ask_their_origin(
    stack: Stack, scenario: Scenario
) -> None:
    repository = Repository(scenario)
    old_sha, new_sha = repository.commit("old"), repository.commit("new")
    # Shallow clones (actions/checkout's default): neither holds the other's commit, so the
    # history is fetched from their origin.
    old = repository.checkout(old_sha, "old", shallow=True)
    new = repository.checkout(new_sha, "new", shallow=True)

    assert not deploy(scenario, stack, projects_root=old).failed
    old_image, recorded = held(scenario)
    assert recorded == old_sha
    newer = deploy(scenario, stack, projects_root=new)
    assert [(r.flow, r.status) for r in newer.results] == [("alpha", "updated")]
    new_image, recorded = held(scenario)
    assert recorded == new_sha and new_image != old_image

    again = deploy(scenario, stack, projects_root=old)
    assert not again.failed
    [row] = again.results
    assert row.status == "skipped" and f"commit {new_sha[:12]} descends" in (row.error or "")
    assert held(scenario) == (new_image, new_sha)

    # Without its origin (unreachable), the committer time decides.
    git(old.parent, "remote", "set-url", "origin", str(old.parent / "gone"))
    cut_off = deploy(scenario, stack, projects_root=old)
    [row] = cut_off.results
    assert row.status == "skipped" and "was committed at 2026-01-02T00:00:00Z" in (row.error or "")


def test_a_run_that_writes_nothing_asks_no_history_and_a_write_asks_once(
    stack: Stack, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a shallow checkout each history question is a fetch from origin: a run whose commit
    changed nothing of the flow (a README edit) asks none; one that updates asks about the
    deployment's recorded commit, once."""
    from prefect_flow_deploy.clients.checkout_history import CheckoutHistory

    asked: list[str] = []  # the questions that reached the history (fetched from origin)
    real = CheckoutHistory._fetched

    def counted(self: CheckoutHistory, recorded_sha: str) -> object:
        asked.append(recorded_sha)
        return real(self, recorded_sha)

    monkeypatch.setattr(CheckoutHistory, "_fetched", counted)
    repository = Repository(scenario)
    first = repository.commit("first")
    assert not deploy(scenario, stack, projects_root=repository.checkout(first, "a")).failed
    (repository.root / "README.md").write_text("docs only\n")
    git(repository.root, "add", ".")
    git(repository.root, "commit", "-qm", "docs", date="2026-01-09T00:00:00Z")
    docs = git(repository.root, "rev-parse", "HEAD")
    asked.clear()
    quiet = deploy(scenario, stack, projects_root=repository.checkout(docs, "b", shallow=True))
    assert [(r.flow, r.status) for r in quiet.results] == [("alpha", "unchanged")]
    assert asked == []
    changed = repository.commit("changed")
    again = deploy(scenario, stack, projects_root=repository.checkout(changed, "c", shallow=True))
    assert [(r.flow, r.status) for r in again.results] == [("alpha", "updated")]
    assert asked == [first]  # the record the update replaces, fetched once (then known)
    assert held(scenario)[1] == changed


def test_a_newer_run_that_writes_while_an_older_one_builds_still_wins(
    stack: Stack, scenario: Scenario
) -> None:
    """The race itself: the older run planned before the newer one wrote (its plan saw an
    older record), so only the check made just before its write can stop it."""
    repository = Repository(scenario)
    first = repository.commit("first")
    old_sha, new_sha = repository.commit("old"), repository.commit("new")
    assert not deploy(scenario, stack, projects_root=repository.checkout(first, "first")).failed

    engine = Engine(options(scenario, stack, projects_root=repository.checkout(old_sha, "old")))
    planned = engine.plan()  # it would update: the record (first) is older than old_sha
    assert [d.action for d in planned.deployments] == ["update"]
    assert not deploy(scenario, stack, projects_root=repository.checkout(new_sha, "new")).failed
    new_image, _ = held(scenario)

    engine.plan = lambda: planned  # type: ignore[method-assign]  # execute the plan made before
    late = engine.deploy()
    assert not late.failed
    [row] = late.results
    assert row.status == "skipped" and f"commit {new_sha[:12]} descends" in (row.error or "")
    assert held(scenario) == (new_image, new_sha)


# -- a record that cannot be trusted, and the way out ----------------------------------------


def test_a_commit_dated_in_the_future_does_not_block_later_commits_of_a_shallow_checkout(
    stack: Stack, scenario: Scenario
) -> None:
    """A clock set to 2031 on one commit: from shallow checkouts (actions/checkout's
    default) every later commit was skipped as older, exit 0. The history, fetched from the
    checkout's origin, says the later commit descends from it."""
    repository = Repository(scenario)
    repository.commit("first")
    write_flow(repository.folder, "alpha", "return 'from the future'")
    git(repository.root, "commit", "-qam", "clock", date="2031-01-01T00:00:00Z")
    future = git(repository.root, "rev-parse", "HEAD")
    later = repository.commit("later")
    assert not deploy(scenario, stack, projects_root=repository.checkout(future, "f", True)).failed
    assert held(scenario)[1] == future

    run = deploy(scenario, stack, projects_root=repository.checkout(later, "l", shallow=True))
    assert [(r.flow, r.status) for r in run.results] == [("alpha", "updated")], run.results
    assert held(scenario)[1] == later


def test_a_forged_record_dated_in_the_future_is_not_trusted(
    stack: Stack, scenario: Scenario
) -> None:
    """A tag `commit:0000000@2099-…` added by hand blocked every deploy, full clones too."""
    from ..helpers import server_api

    repository = Repository(scenario)
    first = repository.commit("first")
    assert not deploy(scenario, stack, projects_root=repository.checkout(first, "first")).failed
    deployment = read_deployment(f"alpha/{scenario.project('p')}")
    forged = [t for t in deployment.tags if not t.startswith(COMMIT_TAG_PREFIX)]
    forged.append(f"{COMMIT_TAG_PREFIX}0000000@2099-01-01T00:00:00Z")
    with server_api() as client:
        client.patch(f"deployments/{deployment.id}", json={"tags": forged}).raise_for_status()

    second = repository.commit("second")
    run = deploy(scenario, stack, projects_root=repository.checkout(second, "second"))
    assert [(r.flow, r.status) for r in run.results] == [("alpha", "updated")], run.results
    assert held(scenario)[1] == second
    assert any("in the future" in p.message for p in run.plan.problems)


def test_two_commits_in_one_second_are_ordered_by_their_history(
    stack: Stack, scenario: Scenario
) -> None:
    """From shallow clones the older of two commits made in the same second overwrote the
    newer one (equal times said nothing)."""
    repository = Repository(scenario)
    write_flow(repository.folder, "alpha", "return 'older'")
    git(repository.root, "add", ".")
    git(repository.root, "commit", "-qm", "older", date="2026-02-01T00:00:00Z")
    older = git(repository.root, "rev-parse", "HEAD")
    write_flow(repository.folder, "alpha", "return 'newer'")
    git(repository.root, "commit", "-qam", "newer", date="2026-02-01T00:00:00Z")
    newer = git(repository.root, "rev-parse", "HEAD")

    assert not deploy(scenario, stack, projects_root=repository.checkout(newer, "n", True)).failed
    late = deploy(scenario, stack, projects_root=repository.checkout(older, "o", shallow=True))
    [row] = late.results
    assert row.status == "skipped", late.results
    assert f"commit {newer[:12]} descends from this run's {older[:12]}" in (row.error or "")
    assert held(scenario)[1] == newer


def test_force_order_deploys_an_older_commit_and_the_skip_names_it(
    stack: Stack, scenario: Scenario
) -> None:
    repository = Repository(scenario)
    old_sha, new_sha = repository.commit("old"), repository.commit("new")
    old = repository.checkout(old_sha, "old")
    assert not deploy(scenario, stack, projects_root=repository.checkout(new_sha, "new")).failed

    skipped = run_cli("deploy", *common(scenario, stack), "--projects-root", str(old))
    assert skipped.returncode == 0, skipped.stderr
    assert "--force-order" in skipped.stderr and "revert" not in skipped.stderr
    forced = run_cli("deploy", *common(scenario, stack), "--projects-root", str(old),
                     "--force-order")  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert "\tupdated" in forced.stderr
    assert held(scenario)[1] == old_sha
