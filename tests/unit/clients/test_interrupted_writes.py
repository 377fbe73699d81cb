"""Whether a write under way when the run stopped has landed on the server (pure)."""

from __future__ import annotations

import httpx
import pytest

from prefect_flow_deploy.clients.interrupted_writes import landed, what_landed
from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.core.model import DeploymentPlan
from tests.unit.rules.test_decide import OPTIONS, first_plan, folder


def test_a_write_landed_when_the_server_holds_its_version_and_image() -> None:
    [create] = first_plan(folder("daily"), options=OPTIONS).deployments
    spec = create.spec
    assert spec is not None
    held = {"version": spec.version, "job_variables": {"image": spec.image}}
    assert landed(create, held)
    assert not landed(create, {**held, "version": "older"})
    assert not landed(create, None)
    removal = DeploymentPlan(None, "old/sales", "sales/old", "remove", deployment_id="x")
    assert landed(removal, None) and not landed(removal, held)


def test_nothing_under_way_is_nothing_to_say_and_an_unreachable_server_is_said() -> None:
    assert what_landed(ApiSettings("http://127.0.0.1:1/api"), []) == ""
    removal = DeploymentPlan(None, "old/sales", "sales/old", "remove", deployment_id="x")
    said = what_landed(ApiSettings("http://127.0.0.1:1/api"), [removal], bound=0.1)
    assert said.startswith("; 1 deployment writes under way when stopped, which the server")


def test_a_slow_answer_is_asked_again_not_taken_for_an_unreachable_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server busy with the write itself may answer the read-back after its 2 s timeout:
    the run asks again until the bound, and reports the write that landed (a likely cause
    of the signal test's one failure under load, whose output did not name the write)."""
    answers: list[object] = [httpx.ReadTimeout("slow"), httpx.Response(404)]

    def get(self: httpx.Client, url: str, **_: object) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        return answer

    monkeypatch.setattr(httpx.Client, "get", get)
    removal = DeploymentPlan(None, "old/sales", "sales/old", "remove", deployment_id="x")
    said = what_landed(ApiSettings("http://127.0.0.1:1/api"), [removal], bound=5)
    assert said.endswith("under way when stopped: old/sales removed on the server (it landed)")
    assert answers == []
