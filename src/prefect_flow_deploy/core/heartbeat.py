"""A line every few seconds while something slow goes on (a push through a slow registry):
a run that waits says what it waits on, instead of printing nothing for a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EVERY = 10.0  # seconds between two lines


@contextmanager
def while_waiting(say: Callable[[float], None], every: float = EVERY) -> Iterator[None]:
    """Call `say(seconds so far)` every `every` seconds until the block ends."""
    stop = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not stop.wait(every):
            say(time.monotonic() - started)

    thread = threading.Thread(target=beat, daemon=True, name="heartbeat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
