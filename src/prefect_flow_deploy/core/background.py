"""One call in a thread of its own, its outcome a Future: for work that must not queue behind
a pool's (the threads that wait for it may be that pool's) and must not hold the process
open at its end (a daemon thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def in_own_thread(name: str, function: Callable[[], T]) -> Future[T]:
    """Start `function` now; its result or its exception (any, BaseException included)
    reaches whoever waits on the Future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to whoever waits for it
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
