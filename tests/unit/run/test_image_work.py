"""run/image_work.py: one folder's Docker work as the plan says it (builder, check and push
faked): a build takes its cache source from the plan, an existing image is pulled, and
without a registry the engine's image id is the digest."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest

from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.clients.stored_images import REPOSITORY_LABEL
from prefect_flow_deploy.core.model import Plan, Progress
from prefect_flow_deploy.core.naming import FOLDER_LABEL
from prefect_flow_deploy.core.results import Counters
from prefect_flow_deploy.docker import builder, engine_session, image_check, push_pull
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.image_work import ImageWork
from tests.unit.rules.test_decide import OPTIONS, folder, inputs

LOCAL = replace(OPTIONS, registry=None, repository="acme/flows")


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    calls: dict[str, list[Any]] = {"build": [], "pull": []}

    def build(request: builder.BuildRequest, config_dir: str | None, on_step: Any) -> str:
        calls["build"].append(request)
        on_step("RUN pip install")
        return "built"

    monkeypatch.setattr(builder, "build", build)
    monkeypatch.setattr(push_pull, "pull", lambda ref, login: calls["pull"].append(ref))
    monkeypatch.setattr(engine_session, "local_image_id", lambda ref: "sha256:local")
    monkeypatch.setattr(
        image_check,
        "check",
        lambda folder, recipe, ref, root, installs, env: ("/opt/code", {}, {}, {}),
    )
    return calls


def work(plan: Plan, events: list[Progress]) -> ImageWork:
    return ImageWork(
        plan, LOCAL, Logins({}), cast(RegistryClient, None), None, events.append, Counters()
    )


def test_a_build_uses_the_plan_s_cache_source_and_labels(docker: dict[str, list[Any]]) -> None:
    plan = decide.plan(inputs(folder("daily")), LOCAL)
    [image] = plan.images
    image = replace(image, cache_from="r/sales/daily:old")
    events: list[Progress] = []
    outcome = work(plan, events).one(image, None)
    [request] = docker["build"]
    assert request.cache_from == ["r/sales/daily:old"]
    assert request.labels[FOLDER_LABEL] == "sales/daily"
    assert request.labels[REPOSITORY_LABEL] == "acme/flows"
    assert (outcome.status, outcome.digest, outcome.code_dir) == (
        "built",
        "sha256:local",
        "/opt/code",
    )
    assert [e.state for e in events][:2] == ["building", "building"]
    assert docker["pull"] == []


def test_an_existing_image_is_pulled_and_checked(docker: dict[str, list[Any]]) -> None:
    plan = decide.plan(inputs(folder("daily")), LOCAL)
    image = replace(plan.images[0], action="exists", check=True)
    outcome = work(plan, []).one(image, None)
    assert docker["build"] == [] and docker["pull"] == [image.reference]
    assert outcome.status == "exists"
