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

from prefect_flow_deploy.commit_order import COMMIT_TAG_PREFIX, recorded_commit
from prefect_flow_deploy.engine import Engine

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


def test_a_newer_checkout_deployed_last_wins_and_time_orders_shallow_ones(
    stack: Stack, scenario: Scenario
) -> None:
    repository = Repository(scenario)
    old_sha, new_sha = repository.commit("old"), repository.commit("new")
    # Shallow clones (actions/checkout's default): neither holds the other's commit, so the
    # committer time decides.
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
    assert row.status == "skipped" and "was committed at 2026-01-02T00:00:00Z" in (row.error or "")
    assert held(scenario) == (new_image, new_sha)


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
