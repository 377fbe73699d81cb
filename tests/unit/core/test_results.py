"""A run's rows, a pure function of the plan and the outcomes: each planned deployment's status
(written, unchanged, failed with its image or its write, orphaned, skipped after --fail-fast),
then a row per folder that could not be planned; the dry run's rows say what would happen."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.core.results import (
    ImageOutcome,
    WriteOutcome,
    outcome_rows,
    planned_rows,
    write_key,
)


def folder(key: str, *errors: str) -> Any:
    project, _, name = key.partition("/")
    problems = [Problem("error", e) for e in errors]
    return SimpleNamespace(
        key=key, project=project, name=name, failed=bool(errors), problems=problems
    )


def image(key: str, action: str = "build") -> Any:
    return SimpleNamespace(
        folder=folder(key), reference=f"reg/{key}:t", action=action, digest="sha256:d"
    )


def deployment(key: str, full_name: str, action: str, **more: Any) -> Any:
    values = {"deployment_id": None, "changed_fields": [], "error": None, **more}
    return SimpleNamespace(
        folder_key=key, full_name=full_name, action=action, **{"spec": None, **values}
    )


def plan(images: list[Any], deployments: list[Any], folders: list[Any]) -> Any:
    return SimpleNamespace(images=images, deployments=deployments, folders=folders)


def test_each_deployment_s_row_says_what_happened_to_it() -> None:
    create = deployment("s/a", "etl/s", "create")
    update = deployment("s/a", "report/s", "update", changed_fields=["tags"])
    broken = deployment("s/a", "load/s", "update")
    same = deployment("s/a", "keep/s", "unchanged", deployment_id="d4")
    gone = deployment("s/old", "old/s", "orphan", deployment_id="d5")
    never = deployment("s/b", "b/s", "create")
    the_plan = plan(
        [image("s/a"), image("s/b")],
        [create, update, broken, same, gone, never],
        [folder("s/a"), folder("s/b"), folder("s/bad", "syntax error in flow.py")],
    )
    images = {
        "s/a": ImageOutcome("built", "sha256:a"),
        "s/b": ImageOutcome("failed", error="no pip"),
    }
    writes = {
        write_key(create): WriteOutcome(create, deployment_id="d1"),
        write_key(update): WriteOutcome(update, deployment_id="d2"),
        write_key(broken): WriteOutcome(broken, error="422 Unprocessable"),
    }
    rows = outcome_rows(the_plan, images, writes, fail_fast=False)  # type: ignore[arg-type]
    assert [(r.flow, r.deployment, r.status, r.deployment_id, r.error) for r in rows] == [
        ("etl", "s", "created", "d1", None),
        ("report", "s", "updated", "d2", None),
        ("load", "s", "failed", None, "422 Unprocessable"),
        ("keep", "s", "unchanged", "d4", None),
        ("old", "s", "orphaned", "d5", None),  # kept (decide: no --prune)
        ("b", "s", "failed", None, "no pip"),  # its image failed
        ("-", "s", "failed", None, "syntax error in flow.py"),  # never planned
    ]
    assert rows[0].image == "reg/s/a:t" and rows[0].digest == "sha256:a"
    assert (rows[-1].project, rows[-1].folder) == ("s", "bad")
    assert rows[1].changed_fields == ["tags"]


def test_after_a_failure_with_fail_fast_nothing_more_is_written() -> None:
    waiting = deployment("s/a", "etl/s", "create")
    the_plan = plan([image("s/a"), image("s/b")], [waiting], [folder("s/a"), folder("s/b")])
    images = {"s/a": ImageOutcome("built"), "s/b": ImageOutcome("failed", error="x")}
    [row] = outcome_rows(the_plan, images, {}, fail_fast=True)  # type: ignore[arg-type]
    assert row.status == "skipped"
    [row] = outcome_rows(the_plan, images, {}, fail_fast=False)  # type: ignore[arg-type]
    assert row.status == "unchanged"


def test_a_dry_run_s_rows_are_the_planned_actions() -> None:
    the_plan = plan(
        [image("s/a", "exists")],
        [deployment("s/a", "etl/s", "update", changed_fields=["paused"])],
        [folder("s/a")],
    )
    [row] = planned_rows(the_plan)  # type: ignore[arg-type]
    assert (row.project, row.folder, row.flow, row.deployment) == ("s", "a", "etl", "s")
    assert (row.image_status, row.status, row.changed_fields) == ("exists", "update", ["paused"])
