"""The live view's frame (rendered off-screen) and when it is used at all."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from prefect_flow_deploy import cli
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import Progress
from prefect_flow_deploy.reports.progress import LiveProgress


def frame(view: LiveProgress, console: Console) -> str:
    console.print(view.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text)


def test_a_frame_shows_counts_then_failures_first_then_active_folders() -> None:
    console = Console(file=io.StringIO(), width=120, height=30)
    view = LiveProgress(console)
    for event in (
        Progress("sales/done", "reading"),
        Progress("sales/done", "done", "2 deployments written"),
        Progress("sales/busy", "building", "3/5 RUN pip install -r requirements.txt"),
        Progress("sales/bad", "failed", "docker build failed: [/bin/sh -c exit 3]"),
        Progress("sales/next", "queued", "new: no deployed image for this folder yet"),
    ):
        view(event)
    text = frame(view, console)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0].startswith(
        "prefect-flow-deploy 4 folders: 1 failed, 1 building, 1 queued, 1 done"
    )
    rows = [line.split()[0] for line in lines[2:]]
    assert rows == ["sales/bad", "sales/busy", "sales/next", "sales/done"]
    assert "docker build failed: [/bin/sh -c exit 3]" in text  # brackets are text, not markup
    assert "3/5 RUN pip install -r requirements.txt" in text


def test_more_folders_than_the_terminal_has_lines_are_counted() -> None:
    console = Console(file=io.StringIO(), width=100, height=8)
    view = LiveProgress(console)
    for number in range(20):
        view(Progress(f"p/f{number:02d}", "done"))
    text = frame(view, console)
    assert "… 15 more" in text
    assert len([line for line in text.splitlines() if line.strip()]) == 8


def test_the_logger_holds_its_lines_while_the_view_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with log.hold():
        log.warning("a warning at its line", file="flow.py", line=3)
        assert capsys.readouterr().err == ""
    assert "warning: flow.py:3: a warning at its line" in capsys.readouterr().err


def test_no_live_view_in_a_pipe_on_github_or_for_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert isinstance(cli.live_view(json_output=False), LiveProgress)
    assert cli.live_view(json_output=True) is None
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.live_view(json_output=False) is None
    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli.live_view(json_output=False) is None
