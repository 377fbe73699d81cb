"""The write lock on the real Prefect server (issue 15: two repositories creating one
deployment name at once both succeeded, because both read "absent" before either wrote, and
Prefect has no conditional create). The lock is a global concurrency limit taken with a lease
(write_lock); these tests hold it from the test, as another run would between its read and its
write, and watch a real deploy wait for it, lapse past it, or go without it."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from prefect.client.orchestration import PrefectClient

from prefect_flow_deploy.clients import write_lock
from prefect_flow_deploy.clients.write_lock import LEASE_SECONDS, WriteLocks, lock_name
from prefect_flow_deploy.core.model import TENANT_TAG_PREFIX
from prefect_flow_deploy.deployment.ownership import REPO_TAG_PREFIX

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, read_deployment
from .test_cli import cli as run_cli
from .test_cli import common

pytestmark = pytest.mark.stack
A, B = "acme/flows-a", "acme/flows-b"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _no_github_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)  # each run names its own


@pytest.fixture(autouse=True)
def _private_locks(monkeypatch: pytest.MonkeyPatch, scenario: Scenario) -> None:
    """Locks of this test's own (the run under test is in this process): a lease these tests
    hold or leave for a minute must not delay other tests' runs, nor theirs these."""
    monkeypatch.setattr(write_lock, "LOCK_PREFIX", f"pfd-test-{scenario.suffix}-lock-")


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set when the run under test is refused a lock by the server (423 Locked): the only
    call to `backoff`. The run writes from its registrar's thread; the test, holding a lock
    as another run would, waits in the main thread when a run of another test (another
    xdist worker) writes a name of the same lock, which is not what is looked for."""
    event, real = threading.Event(), write_lock.backoff
    test_thread = threading.current_thread()

    def spy(attempt: int, retry_after: str | None) -> float:
        if threading.current_thread() is not test_thread:
            event.set()
        return real(attempt, retry_after)

    monkeypatch.setattr(write_lock, "backoff", spy)
    return event


def while_held(
    name: str, run: Callable[[], T], then: Callable[[PrefectClient], Awaitable[Any]]
) -> T:
    """Take the lock of deployment `name` as another run would, start `run` in a thread, await
    `then` while still holding it, release; return what `run` returned."""

    async def hold() -> T:
        async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
            with ThreadPoolExecutor(1) as pool:
                async with WriteLocks(client, lambda level, message: None).held(name) as held:
                    assert held, "the pinned server has leases"
                    started = asyncio.wrap_future(pool.submit(run))
                    await then(client, started)
                return await started

    return asyncio.run(hold())


def test_a_run_refused_the_lock_writes_after_the_holder_and_sees_its_deployment(
    stack: Stack, scenario: Scenario, refused: threading.Event
) -> None:
    """The race itself. A planned a create (no deployment yet); B holds the lock, as between its
    own read and create. A reaches its write and is refused; B creates; A, let in, reads B's
    deployment and fails it with the take-over message. Without the lock A would have read
    "absent" and replaced B's deployment."""
    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha", "return 'a'")
    theirs: dict[str, Any] = {}

    async def b_creates(client: PrefectClient, run: object) -> None:
        assert await asyncio.to_thread(refused.wait, 300), "A was never refused the lock"
        flow_id = await client.create_flow_from_name("alpha")
        tags = [f"{REPO_TAG_PREFIX}{B}", f"{TENANT_TAG_PREFIX}{scenario.tenant}"]
        theirs["id"] = await client.create_deployment(
            flow_id, p, tags=tags, work_pool_name=scenario.work_pool
        )

    late = while_held(f"alpha/{p}", lambda: deploy(scenario, stack, repository=A), b_creates)
    [row] = late.results
    assert row.status == "failed"
    assert f"belongs to repository {B}, and repository {A} would take it over" in (row.error or "")
    now = read_deployment(f"alpha/{p}")
    assert now.id == theirs["id"] and f"{REPO_TAG_PREFIX}{B}" in now.tags
    assert "image" not in (now.job_variables or {})  # never A's image under B's name


def test_a_lock_left_by_a_killed_run_lapses_and_the_next_run_writes(
    stack: Stack, scenario: Scenario, refused: threading.Event, capfd: pytest.CaptureFixture[str]
) -> None:
    """A run killed between taking the lock and releasing it (SIGKILL: no cleanup) leaves a
    lease that lapses after LEASE_SECONDS, when the server's repossessor revokes it: the next
    run waits for it, then writes."""
    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha")
    name = lock_name(f"alpha/{p}")

    async def killed_run() -> None:
        async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
            async with WriteLocks(client, lambda level, message: None).held(f"alpha/{p}"):
                pass  # makes the limit; then a lease nobody releases or renews
            await client.increment_concurrency_slots_with_lease(
                names=[name], slots=1, mode="concurrency", lease_duration=LEASE_SECONDS
            )

    asyncio.run(killed_run())
    result = deploy(scenario, stack, repository=A)
    assert refused.is_set(), "the left lease did not hold the run back"
    assert [(r.status, r.error) for r in result.results] == [("created", None)]
    # It said what it waited on, every 10 s (it waited about a minute without a word).
    said = [line for line in capfd.readouterr().err.splitlines() if "for the write lock" in line]
    assert len(said) >= 2, said
    assert re.match(rf"waiting 1\d s for the write lock {name} to write alpha/{p}: ", said[0])
    assert f"{REPO_TAG_PREFIX}{A}" in read_deployment(f"alpha/{p}").tags


def test_a_lock_held_past_any_lease_is_passed_with_a_warning(
    stack: Stack,
    scenario: Scenario,
    refused: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A lease renewed for longer than a live run holds one (STUCK_AFTER: a server whose
    repossessor does not run never revokes a killed run's) must not stop deploys until the
    deadline: the run writes without it and says how to free it."""
    monkeypatch.setattr(write_lock, "STUCK_AFTER", 3.0)
    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha")
    # A second deployment guarded by the same lock: not waited for again, not warned again.
    other = next(
        f"beta{i}" for i in range(1000) if lock_name(f"beta{i}/{p}") == lock_name(f"alpha/{p}")
    )
    write_flow(scenario.folder("p", "beta"), other)

    async def keep_holding(client: PrefectClient, run: asyncio.Future[object]) -> None:
        await asyncio.wait([run])  # the lock stays held until the run has finished

    result = while_held(f"alpha/{p}", lambda: deploy(scenario, stack, repository=A), keep_holding)
    assert refused.is_set()
    assert [(r.status, r.error) for r in result.results] == [("created", None)] * 2
    err = capfd.readouterr().err
    name = lock_name(f"alpha/{p}")
    assert err.count(f"prefect gcl update {name} --active-slots 0") == 1, err
    assert " is written without it, as is every later write of this run it guards" in err


def test_a_server_without_leases_is_written_unlocked_with_one_notice(
    stack: Stack, scenario: Scenario
) -> None:
    """Prefect 3.1/3.2 have no lease API (they answer 405): the run says once that it writes
    unlocked, and writes."""
    write_flow(scenario.folder("p", "alpha"), "alpha")
    write_flow(scenario.folder("p", "beta"), "beta")
    oldest = stack.env["PFD_OLDEST_PREFECT_API_URL"]
    done = run_cli(
        "deploy", *common(scenario, stack), "--prefect-api-url", oldest, "--repository", A
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("written without the write lock") == 1, done.stderr
    assert "no concurrency leases" in done.stderr
    assert set(read_deployment(f"alpha/{scenario.project('p')}", oldest).tags) >= {
        f"{REPO_TAG_PREFIX}{A}"
    }
