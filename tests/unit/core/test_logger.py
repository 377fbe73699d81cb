"""The logger on GitHub (logger.py): every annotation is a workflow command, and a step that
makes more of a kind than the runner keeps says so."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.core.logger import ANNOTATIONS_PER_KIND, Logger


def test_a_step_with_more_annotations_than_github_keeps_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """actions/runner (src/Runner.Worker/ExecutionContext.cs at 258d6c8, AddIssue) keeps
    `_maxCountPerIssueType = 10` issues of each type per step and writes every one to the log:
    so each is still printed as a command, and the count beyond the limit is said."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    log = Logger()
    for n in range(ANNOTATIONS_PER_KIND):
        log.error(f"folder {n} failed", file="projects/p/f/flow.py", line=n + 1)
    log.warning("one warning")
    assert log.annotations_not_shown() is None  # exactly the limit: all shown
    log.error("the eleventh", file="projects/p/f/flow.py", line=11)
    log.error("the twelfth")
    out = capsys.readouterr().out
    assert out.count("::error ") + out.count("::error::") == 12
    assert "::error file=projects/p/f/flow.py,line=11::the eleventh" in out
    assert log.annotations_not_shown() == (
        "This step made 12 errors; GitHub shows the first 10 of each kind as annotations; the "
        "others are lines of the step's log."
    )


def test_no_count_off_github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    log = Logger()
    for _ in range(ANNOTATIONS_PER_KIND + 5):
        log.error("failed")
    assert log.annotations_not_shown() is None
