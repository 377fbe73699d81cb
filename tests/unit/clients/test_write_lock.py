"""The write lock's pure parts: which limit guards a name, how long a refused run waits, what
it says when it cannot lock. Its behaviour against a real server is in
tests/integration/test_write_lock.py."""

from __future__ import annotations

import random

from prefect_flow_deploy.clients import write_lock
from prefect_flow_deploy.clients.write_lock import LOCKS, POLL_SECONDS, backoff, lock_name


def test_a_name_has_one_lock_in_every_run_and_names_spread_over_a_fixed_handful() -> None:
    names = [f"flow-{i}/project-{i % 7}" for i in range(400)]
    locks = {lock_name(n) for n in names}
    # The same in every process (a digest, not Python's per-process salted hash).
    assert lock_name("alpha/sales") == "prefect-flow-deploy-lock-15"
    assert len(locks) == LOCKS
    assert all(n.startswith("prefect-flow-deploy-lock-") and len(n) == 27 for n in locks)


def test_a_refused_run_asks_again_soon_then_no_less_often_than_every_two_seconds() -> None:
    random.seed(7)
    low, high = POLL_SECONDS
    waits = [backoff(attempt, None) for attempt in range(12)]
    assert low * 0.5 <= waits[0] <= low
    assert all(w <= high for w in waits) and max(waits) > high * 0.5
    # The server's Retry-After (its estimate of a hold) shortens the wait, never lengthens it.
    assert backoff(10, "0.2") <= 0.2
    assert high * 0.5 <= backoff(10, "30") <= high
    assert backoff(10, "soon") <= high  # a value that is not a number is ignored


def test_what_a_run_says_when_it_writes_unlocked() -> None:
    old = write_lock.unlocked_message(405, "prefect-flow-deploy-lock-03")
    assert "no concurrency leases" in old and "not kept apart" in old
    refused = write_lock.unlocked_message(403, "prefect-flow-deploy-lock-03")
    assert "prefect-flow-deploy-lock-03 (HTTP 403)" in refused
    stuck = write_lock.stuck_message("prefect-flow-deploy-lock-03", "alpha/sales")
    assert "prefect gcl update prefect-flow-deploy-lock-03 --active-slots 0" in stuck
    assert "alpha/sales is written without it, as is every later write" in stuck
