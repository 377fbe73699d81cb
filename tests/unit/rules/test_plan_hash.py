"""The plan's hash: what matters of a plan and nothing of the machine that made it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect_flow_deploy.rules.plan_hash import differences, essence, plan_hash
from tests.unit.run.test_plan_file import planned

SHAPING = {"registry": "r", "tenant": None}


def test_the_hash_ignores_paths_and_messages_but_not_decisions() -> None:
    _, plan = planned()
    before = plan_hash(plan, SHAPING)
    assert len(before) == 64 and before == plan_hash(plan, dict(SHAPING))
    elsewhere = [
        replace(d, spec=replace(d.spec, source_file=Path("/elsewhere/prefect.yaml"), source_line=9))
        if d.spec
        else d
        for d in plan.deployments
    ]
    assert plan_hash(replace(plan, deployments=elsewhere), SHAPING) == before
    removal = next(d for d in plan.deployments if d.action == "orphan")
    other_id = [replace(d, deployment_id="x") if d is removal else d for d in plan.deployments]
    changed = replace(plan, deployments=other_id)
    assert plan_hash(changed, SHAPING) != before
    assert differences(essence(plan, SHAPING), essence(changed, SHAPING)) == [
        f"deployments: {removal.full_name} differs from the plan made from the world now"
    ]
    assert plan_hash(plan, {**SHAPING, "tenant": "dev"}) != before


def test_a_login_in_the_api_url_is_not_part_of_the_hash() -> None:
    _, plan = planned()
    plain = replace(plan, api_url="https://prefect.example.com/api")
    login = replace(plan, api_url="https://user:pw@prefect.example.com/api")
    assert plan_hash(plain, SHAPING) == plan_hash(login, SHAPING)
    assert "pw" not in str(essence(login, SHAPING)["api_url"])
