"""One call in a thread of its own (core/background.py): its result, or any exception it
raises, reaches the Future; it runs beside a pool whose every thread waits for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from prefect_flow_deploy.core.background import in_own_thread


def test_the_result_and_the_thread_it_ran_in() -> None:
    future = in_own_thread("pfd-test", lambda: threading.current_thread())
    thread = future.result(timeout=5)
    assert thread.name == "pfd-test" and thread.daemon
    assert thread is not threading.current_thread()


def test_any_exception_reaches_whoever_waits() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt  # a BaseException, not only an Exception

    with pytest.raises(KeyboardInterrupt):
        in_own_thread("pfd-test", interrupted).result(timeout=5)


def test_a_full_pool_waiting_for_it_does_not_deadlock() -> None:
    release = threading.Event()
    answer = in_own_thread("pfd-test", lambda: release.wait(5) and "catalog")
    with ThreadPoolExecutor(max_workers=2) as pool:
        waiting = [pool.submit(answer.result, 5) for _ in range(4)]
        release.set()
        assert [w.result(timeout=5) for w in waiting] == ["catalog"] * 4
