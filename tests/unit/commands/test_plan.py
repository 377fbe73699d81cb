"""commands/plan.py: the order of a plan run (plan → its problems reported → keep-images'
deletions → the file for review), against an engine that reads nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from prefect_flow_deploy.commands import plan as command
from prefect_flow_deploy.core.model import Plan, Problem
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.plan_file import hash_of, load
from tests.unit.rules.test_decide import OPTIONS, folder, inputs


def decided() -> Plan:
    made = decide.plan(inputs(folder("daily")), OPTIONS)
    return replace(made, problems=[Problem("warning", "the plan's own", None, None, "Plan")])


class FakeEngine:
    """Engine's surface, recording what was asked in order."""

    calls: ClassVar[list[str]] = []

    def __init__(self, options: Any, on_progress: Any = None, pull_states: Any = None) -> None:
        self.calls.append(f"engine pull_states={pull_states is not None}")

    def plan(self) -> Plan:
        self.calls.append("plan")
        return decided()

    def preview_retention(self, plan: Plan) -> Plan:
        self.calls.append("retention")
        return replace(plan, image_deletions=[])


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    FakeEngine.calls = []
    monkeypatch.setattr(command, "Engine", FakeEngine)
    monkeypatch.setattr(command, "report_problems", lambda p: FakeEngine.calls.append("report"))
    return FakeEngine.calls


def test_a_plan_is_made_its_problems_reported_then_retention_previewed(
    engine: list[str],
) -> None:
    made = command.plan(OPTIONS, pull_states=lambda numbers: {})
    assert engine == ["engine pull_states=True", "plan", "report", "retention"]
    assert [d.action for d in made.deployments] == ["create"]


def test_out_writes_the_plan_that_deploy_plan_applies(
    engine: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    made = command.plan(OPTIONS, out)
    saved = load(out)
    assert saved.hash == hash_of(made, OPTIONS)
    err = capsys.readouterr().err
    assert f"wrote the plan to {out}" in err and f"plan sha256:{saved.hash}" in err


def test_the_problems_are_reported_as_annotations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeEngine.calls = []
    monkeypatch.setattr(command, "Engine", FakeEngine)
    command.plan(OPTIONS)
    assert "the plan's own" in "".join(capsys.readouterr())
