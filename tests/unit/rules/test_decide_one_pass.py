"""decide says every refusal of a run in one pass: each deployment whose schedule the server
would refuse (not only the first of a folder), and the schedule of a flow that fails for
another reason too (a name collision); the outcome is as before (the folder, or the flow,
fails)."""

from __future__ import annotations

from prefect_flow_deploy.core.model import DeploymentConfig
from prefect_flow_deploy.rules import decide
from tests.unit.rules.test_decide import OPTIONS, folder, inputs

BAD = ({"cron": "61 * * * *"},)


def entry(name: str, line: int, schedules: tuple[dict[str, str], ...] = ()) -> DeploymentConfig:
    return DeploymentConfig(
        entrypoint="flow.py:daily", name=name, schedules=schedules or None, line=line,
        lines={"schedules": line + 2} if schedules else {},
    )  # fmt: skip


def test_every_refused_schedule_of_a_folder_is_said_and_the_folder_fails() -> None:
    daily = folder("daily", deployment_configs=[entry("a", 2, BAD), entry("b", 6, BAD)])
    plan = decide.plan(inputs(daily), OPTIONS)
    (judged,) = plan.folders
    lines = [p.line for p in judged.problems if p.title == "prefect.yaml schedules"]
    assert lines == [4, 8]
    assert [d.full_name for d in plan.deployments] == ["daily/a", "daily/b"]  # each its own
    # The plan's rows name them (tig0826/prefect-workflow: one row "-", "image failed").
    from prefect_flow_deploy.reports.terminal import plan_rows

    assert [r["deployment"] for r in plan_rows(plan)] == ["daily/a", "daily/b"]
    assert plan.deployments and all(d.action == "failed" and d.error for d in plan.deployments)
    assert plan.images[0].action == "failed"  # each deployment by its name, not written


def test_a_flow_failing_on_a_collision_still_has_its_schedule_judged() -> None:
    twice = [entry("same", 2, BAD), entry("same", 6)]
    daily = folder("daily", deployment_configs=twice)
    plan = decide.plan(inputs(daily), OPTIONS)
    (judged,) = plan.folders
    titles = sorted(p.title or "" for p in judged.problems if p.severity == "error")
    assert titles == ["Name collision", "Name collision", "prefect.yaml schedules"]
    (schedule,) = [p for p in judged.problems if p.title == "prefect.yaml schedules"]
    assert schedule.line == 4 and schedule.flow == "flow.py:daily"  # the flow's, as before
    assert {d.action for d in plan.deployments} == {"failed"}


def test_a_clean_folder_is_unchanged_by_the_one_pass() -> None:
    daily = folder("daily", deployment_configs=[entry("a", 2, ({"cron": "0 6 * * *"},))])
    plan = decide.plan(inputs(daily), OPTIONS)
    assert plan.folders[0].problems == () and [d.action for d in plan.deployments] == ["create"]
