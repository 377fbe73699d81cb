"""commands/deploy.py: deploy, or apply a reviewed plan file, with the live view open while
the engine runs and the caller told when the engine is set up; against an engine that
does nothing."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from prefect_flow_deploy.commands import deploy as command
from prefect_flow_deploy.core.model import Progress
from prefect_flow_deploy.run.plan_file import dump
from tests.unit.commands.test_plan import decided
from tests.unit.rules.test_decide import OPTIONS

CALLS: list[str] = []


class FakeEngine:
    def __init__(self, options: Any, on_progress: Any = None, pull_states: Any = None) -> None:
        CALLS.append(f"engine live={on_progress is not None}")

    def deploy(self) -> str:
        CALLS.append("deploy")
        return "result"

    def apply(self, saved: Any) -> str:
        CALLS.append(f"apply {saved.hash[:6]}")
        return "applied"


class Live:
    def __enter__(self) -> Live:
        CALLS.append("live shown")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        CALLS.append("live closed")

    def __call__(self, event: Progress) -> None: ...


@pytest.fixture(autouse=True)
def engine(monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    monkeypatch.setattr(command, "Engine", FakeEngine)


def test_deploy_runs_the_engine_inside_the_live_view_and_says_when_it_starts() -> None:
    result = command.deploy(OPTIONS, live=Live(), on_start=lambda: CALLS.append("started"))
    assert result == "result"
    assert CALLS == ["live shown", "engine live=True", "started", "deploy", "live closed"]


def test_without_a_live_view_it_only_deploys() -> None:
    assert command.deploy(OPTIONS) == "result"
    assert CALLS == ["engine live=False", "deploy"]


def test_a_plan_file_is_read_before_anything_shows_and_applied(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(dump(decided(), OPTIONS))
    assert command.deploy(OPTIONS, path, Live()) == "applied"
    assert CALLS[0] == "live shown" and CALLS[-2].startswith("apply ")


def test_an_unreadable_plan_file_stops_before_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("{}")
    with pytest.raises(Exception, match="plan"):
        command.deploy(OPTIONS, path, Live())
    assert CALLS == []
