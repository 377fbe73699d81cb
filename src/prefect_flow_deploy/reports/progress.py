"""The live view of a deploy on a terminal: per folder its state (reading, queued, building
with the Dockerfile step, checking, pushing, registering, done, failed with its reason),
overall counts and the elapsed time. It only listens to the engine's `Progress` events; in a
pipe and on GitHub it is not used (plain lines and groups, as the logger prints them)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import Progress

ACTIVE = ("building", "pulling", "checking", "pushing", "registering")
ORDER = {"failed": 0, **{s: 1 for s in ACTIVE}, "reading": 2, "queued": 2, "skipped": 3, "done": 4}
STYLE = {
    "failed": "bold red",
    "done": "green",
    "skipped": "dim",
    "queued": "cyan",
    "reading": "dim",
}


class LiveProgress:
    """Call it with each event (from any thread); use it as a context around the deploy."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.events: dict[str, Progress] = {}
        self.since: dict[str, float] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._spinners: dict[str, Spinner] = {}
        self._live = Live(
            console=console,
            get_renderable=self.render,
            refresh_per_second=4,
            transient=True,  # the final table follows
            # Our own lines are held until the view is gone (log.hold); anything else
            # written meanwhile (a library's warning) prints above the view.
            redirect_stderr=True,
            redirect_stdout=True,
        )
        self._was_quiet = log.quiet
        self._held = log.hold()

    def __call__(self, event: Progress) -> None:
        with self._lock:
            previous = self.events.get(event.folder)
            if previous is None or previous.state != event.state:
                self.since[event.folder] = time.monotonic()
            self.events[event.folder] = event

    def __enter__(self) -> LiveProgress:
        log.quiet = True  # the view says what the info lines would
        self._held.__enter__()  # warnings and errors print after the view, at their lines
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.stop()
        log.quiet = self._was_quiet
        self._held.__exit__(kind, error, trace)

    def render(self) -> RenderableType:
        with self._lock:
            events = sorted(self.events.values(), key=lambda e: (ORDER.get(e.state, 5), e.folder))
            since = dict(self.since)
        now = time.monotonic()
        counts = Counter(e.state for e in events)
        elapsed = int(now - self.started)
        headline = Text.assemble(
            ("prefect-flow-deploy ", "bold"),
            f"{len(events)} folders: ",
            ", ".join(
                f"{n} {state}"
                for state, n in sorted(counts.items(), key=lambda x: ORDER.get(x[0], 5))
            ),
            f"  {elapsed // 60}:{elapsed % 60:02d}",
        )
        table = Table(show_edge=False, pad_edge=False, box=None, expand=True)
        table.add_column("folder", no_wrap=True)
        table.add_column("state", no_wrap=True, width=14)
        table.add_column("", no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column("", justify="right", width=6)
        room = max(self.console.size.height - 3, 3)
        for event in events[:room]:
            table.add_row(
                Text(event.folder),
                self._state(event),
                Text(event.detail, style="red" if event.state == "failed" else ""),
                f"{now - since.get(event.folder, now):.0f}s",
            )
        if len(events) > room:
            table.add_row(Text(f"… {len(events) - room} more", style="dim"), "", "", "")
        return Group(headline, table)

    def _state(self, event: Progress) -> RenderableType:
        if event.state in ACTIVE:
            spinner = self._spinners.setdefault(event.folder, Spinner("dots", style="yellow"))
            spinner.text = Text(event.state, style="yellow")
            return spinner
        return Text(event.state, style=STYLE.get(event.state, ""))
