"""The exit status of a deploy run names its cause (every push refused: 5, every write met an
unusable Prefect API: 6, the deadline: 7), else 1; and the run says what stopped it."""

from __future__ import annotations

from prefect_flow_deploy.core.exit_status import Tally, deadline_message, exit_code, explain


def test_exit_status_names_the_cause() -> None:
    assert exit_code(Tally()) == 0
    assert exit_code(Tally(push_refused=3, failed=True)) == 5  # every push refused
    assert exit_code(Tally(pushed=1, push_refused=2, failed=True)) == 1  # the registry works
    assert exit_code(Tally(write_unavailable=4, failed=True)) == 6
    assert exit_code(Tally(written=1, write_unavailable=3, failed=True)) == 1
    assert exit_code(Tally(write_unavailable=1, deadline_skipped=5, failed=True)) == 6
    assert exit_code(Tally(written=2, deadline_skipped=5, failed=True)) == 7
    assert exit_code(Tally(failed=True)) == 1


def test_the_run_says_what_stopped_it() -> None:
    registry = explain(Tally(push_refused=2, failed=True), "http://p/api", 60)
    assert registry is not None and registry[0] == "Registry error"
    assert "refused every push of this run (2" in registry[1]
    prefect = explain(Tally(write_unavailable=3, failed=True), "http://p/api", 60)
    assert prefect is not None and "http://p/api could not take any" in prefect[1]
    deadline = explain(Tally(written=1, deadline_skipped=2, failed=True), None, 0.5)
    assert deadline is not None and "timeout-minutes: 0.5) passed: 2 deployments" in deadline[1]
    assert explain(Tally(written=1, failed=True), None, 60) is None  # exit 1: the rows say why


def test_the_deadline_message_counts_the_deployments_left() -> None:
    assert "1 deployment was not built" in deadline_message(1, 30)
    assert "3 deployments were not built" in deadline_message(3, 30)
    assert "timeout-minutes: 2.5" in deadline_message(3, 2.5)
