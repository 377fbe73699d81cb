"""One logger for the whole tool: GitHub workflow commands on a runner, colour on a terminal,
plain lines otherwise (a pipe, a CI log that is not GitHub's).

Secrets are masked before anything else is printed (`mask`); on a terminal they are also
replaced in every line we print, so a secret never reaches a log from our own output.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import github_action_utils as gha
from rich.console import Console

Level = Literal["error", "warning", "notice"]
# GitHub keeps the first 10 annotations of each kind a step makes; the others are only lines
# of its log (actions/runner src/Runner.Worker/ExecutionContext.cs: _maxCountPerIssueType).
ANNOTATIONS_PER_KIND = 10


def running_on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


class Logger:
    def __init__(self) -> None:
        self.github = running_on_github()
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        self.workspace = Path(os.environ.get("GITHUB_WORKSPACE", os.getcwd()))
        self.quiet = False
        # stdout carries data (`--json`): workflow commands and build logs go to stderr.
        self.stdout_is_data = False
        # While a live view owns the terminal, terminal lines wait here (see `hold`).
        self._held: list[tuple[str, str | None]] | None = None
        self.said: Counter[str] = Counter()  # every error, warning and notice, by kind

    def _commands(self) -> contextlib.AbstractContextManager[object]:
        """Where workflow commands (and build logs) go: stdout, as the toolkit writes them,
        or stderr when stdout carries data. The runner reads commands on both streams
        (actions/runner src/Runner.Worker/Handlers/*Handler.cs: `StepHost.ErrorDataReceived
        += stderrManager.OnDataReceived`, the same ActionCommandManager as stdout). Callers
        hold the lock, and nothing else of ours writes stdout while a run goes on."""
        if self.stdout_is_data:
            return contextlib.redirect_stdout(sys.stderr)
        return contextlib.nullcontext()

    # -- secrets -----------------------------------------------------------------------
    def mask(self, secret: str | None) -> None:
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        if self.github:
            for line in secret.splitlines() or [secret]:
                if line.strip():
                    with self._commands():
                        gha.add_mask(line)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- plain output ------------------------------------------------------------------
    def info(self, message: str) -> None:
        if self.quiet:
            return
        self._print(message)

    def debug(self, message: str) -> None:
        """Timings and internals: with PFD_VERBOSE=1, or a GitHub re-run with debug logging."""
        if os.environ.get("PFD_VERBOSE") == "1" or os.environ.get("RUNNER_DEBUG") == "1":
            self._print(message)

    def step(self, message: str) -> None:
        """A headline: bold on a terminal."""
        if self.quiet:
            return
        self._print(message, style="bold")

    def _print(self, message: str, style: str | None = None) -> None:
        message = self.redact(message)
        with self._lock:
            self._terminal_line(message, style)

    def _terminal_line(self, text: str, style: str | None) -> None:
        """Held while a live view runs; coloured on a terminal; plain otherwise."""
        if self._held is not None:
            self._held.append((text, style))
        elif self.github or not self.console.is_terminal:
            print(text, file=sys.stderr, flush=True)
        else:
            self.console.print(text, style=style, markup=False)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep terminal lines (warnings and errors at their file and line) until the live
        view is gone, then print them in order: printed under a live region, they would
        leave stale frames of it on the screen."""
        with self._lock:
            self._held = []
        try:
            yield
        finally:
            with self._lock:
                held, self._held = self._held or [], None
                for text, style in held:
                    self._terminal_line(text, style)

    # -- annotations -------------------------------------------------------------------
    def annotate(
        self,
        level: Level,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        message = printable(self.redact(message))
        location = self._relative(file)
        with self._lock:
            self.said[level] += 1
            if self.github:
                emit = {"error": gha.error, "warning": gha.warning, "notice": gha.notice}[level]
                with self._commands():
                    emit(message, title=title, file=location, line=line)
                return
            where = (
                f"{location}:{line}: " if location and line else f"{location}: " if location else ""
            )
            colour = {"error": "red", "warning": "yellow", "notice": "cyan"}[level]
            text = f"{level}: {where}{message}"
            self._terminal_line(text, colour)

    def annotations_not_shown(self) -> str | None:
        """What to say when GitHub will not show every annotation the run made (it keeps
        the first of each kind per step), else None."""
        if not self.github:  # each said is an annotation on GitHub alone
            return None
        over = {k: n for k, n in self.said.items() if n > ANNOTATIONS_PER_KIND}
        if not over:
            return None
        made = ", ".join(f"{n} {kind}s" for kind, n in sorted(over.items()))
        return (
            f"This step made {made}; GitHub shows the first {ANNOTATIONS_PER_KIND} of each "
            "kind as annotations; the others are lines of the step's log."
        )

    def say_annotations_not_shown(self) -> str | None:
        """The notice that ends a step making more annotations than GitHub shows; its text
        (for the job summary), or None."""
        not_shown = self.annotations_not_shown()
        if not_shown:
            self.annotate("notice", not_shown, title="More annotations than GitHub shows")
        return not_shown

    def error(self, message: str, **where: object) -> None:
        self.annotate("error", message, **where)  # type: ignore[arg-type]

    def warning(self, message: str, **where: object) -> None:
        self.annotate("warning", message, **where)  # type: ignore[arg-type]

    def shown(self, file: str | Path) -> str:
        """A path as annotations show it (from the workspace, the checkout's top), for a
        message that names a file: not `<project>/<folder>`, which in Prefect's layout is no
        path at all (`src/etl-daily` for src/etl/daily/)."""
        return self._relative(file) or str(file)

    def _relative(self, file: str | Path | None) -> str | None:
        if file is None:
            return None
        path = Path(file)
        # The parent resolved, not the entry: a symlink is reported where it is.
        with contextlib.suppress(ValueError, OSError, RuntimeError):
            path = (path.parent.resolve() / path.name).relative_to(self.workspace.resolve())
        return printable(path.as_posix())

    # -- groups ------------------------------------------------------------------------
    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A foldable section on GitHub; a headline elsewhere. Not nested."""
        with self._lock:
            if self.github:
                with self._commands():
                    gha.start_group(self.redact(title))
            elif not self.quiet:
                self._print_unlocked(f"── {title}")
        try:
            yield
        finally:
            if self.github:
                with self._lock, self._commands():
                    gha.end_group()

    def block(self, title: str, text: str) -> None:
        """A multi-line text (a build log) as one unit: a foldable group on GitHub; elsewhere
        only with PFD_VERBOSE=1 (a failure's tail is in its error message anyway)."""
        if not self.github and (self.quiet or os.environ.get("PFD_VERBOSE") != "1"):
            return
        text = self.redact(text)
        with self._lock:
            if self.github:
                with self._commands():
                    gha.start_group(self.redact(title))
                    print(text.rstrip(), flush=True)
                    gha.end_group()
            else:
                self._print_unlocked(f"── {title}")
                print(text.rstrip(), file=sys.stderr, flush=True)

    def _print_unlocked(self, message: str) -> None:
        message = self.redact(message)
        self._terminal_line(message, "bold")


log = Logger()


def printable(text: str) -> str:
    """Text any stream can print: a file name's undecodable bytes (surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
