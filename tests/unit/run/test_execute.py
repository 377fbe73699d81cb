"""run/execute.py on a plan made by decide, with a fake image work (no Docker) and a fake
registrar (no server): what is built, when each folder's deployments are registered, what
a failed build fails, and that only the plan's removals are carried out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast

import pytest

from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.model import DeploymentPlan, ImageAnswer, ImagePlan, Plan
from prefect_flow_deploy.core.results import Counters, ImageOutcome, RunResult
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.execute import Executor, has_work
from prefect_flow_deploy.run.image_work import ImageWork
from tests.unit.rules.test_decide import OPTIONS, folder, inputs, managed

OURS = replace(OPTIONS, repository="acme/flows", prune=True, max_parallel=2)
API = ApiSettings("http://prefect.test/api")


class FakeWork:
    """The images' Docker work: records what it is asked; `fail` folders raise, `wait`
    folders block until their event is set (or give up after a few seconds)."""

    def __init__(self, fail: set[str] = set(), wait: dict[str, threading.Event] | None = None):  # noqa: B006
        self.fail, self.wait = fail, wait or {}
        self.asked: list[tuple[str, str, str | None]] = []  # folder, action, cache source
        self.sites: list[bool] = []
        self.counters = Counters()

    @contextmanager
    def site(self, building: bool) -> Iterator[str | None]:
        self.sites.append(building)
        yield None

    def one(self, image: ImagePlan, config_dir: str | None) -> ImageOutcome:
        key = image.folder.key
        self.asked.append((key, image.action, image.cache_from))
        if key in self.wait:
            self.wait[key].wait(timeout=10)
        if key in self.fail:
            raise FolderError(f"{key}: the build failed at step 3")
        code_dir = f"/opt/prefect/flows/{key}"
        self.counters.built += image.action == "build"
        return ImageOutcome("built" if image.action == "build" else "exists", "sha256:1", code_dir)


class FakeRegistrar:
    """The server's writes: each deployment submitted gets an id at once."""

    def __init__(self, on_submit: Any = None) -> None:
        self.submitted: list[DeploymentPlan] = []
        self.made: list[dict[str, Any] | None] = []
        self.on_submit = on_submit or (lambda _d: None)

    def __call__(self, executor: Executor, provenance: dict[str, Any] | None) -> FakeRegistrar:
        self.made.append(provenance)
        return self

    def __enter__(self) -> FakeRegistrar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, deployment: DeploymentPlan) -> Future[str]:
        self.submitted.append(deployment)
        self.on_submit(deployment)
        future: Future[str] = Future()
        future.set_result(f"id-{deployment.full_name}")
        return future


def run(plan: Plan, work: FakeWork, registrar: FakeRegistrar, options=OURS) -> RunResult:  # type: ignore[no-untyped-def]
    executor = Executor(
        plan, options, Logins({}), cast(RegistryClient, None), API,
        work=cast(ImageWork, work), registrar=registrar,  # type: ignore[arg-type]
    )  # fmt: skip
    return executor.run()


def world_plan(options=OURS) -> Plan:  # type: ignore[no-untyped-def]
    """daily (two flows) and weekly to build, monthly's image already there; a gone
    folder's deployment (removed with --prune) and, added by hand, an orphan."""
    daily, weekly, monthly = folder("daily", "etl", "report"), folder("weekly"), folder("monthly")
    there = {
        monthly.key: ImageAnswer("r/sales/monthly", "tag1", {"f": "a"}, digest="sha256:0"),
    }
    gone = managed("old/sales", "sales/gone", "repo:acme/flows", id="gone-id")
    plan = decide.plan(inputs(daily, weekly, monthly, server=[gone], answers=there), options)
    orphan = DeploymentPlan(None, "kept/sales", "sales/kept", "orphan", deployment_id="kept-id")
    return replace(plan, deployments=[*plan.deployments, orphan])


def status(result: RunResult) -> dict[str, str]:
    return {f"{r.flow}/{r.deployment}": r.status for r in result.results}


def test_only_build_images_are_built_and_each_folder_s_deployments_are_written() -> None:
    plan = world_plan()
    assert {i.folder.key: (i.action, i.check) for i in plan.images} == {
        "sales/daily": ("build", False),
        "sales/weekly": ("build", False),
        # Exists, but no deployment runs its flow from it yet: checked before it is written
        # (pending_names.never_checked), not trusted for being in the registry.
        "sales/monthly": ("exists", True),
    }
    work, registrar = FakeWork(), FakeRegistrar()
    result = run(plan, work, registrar)
    assert sorted(k for k, _, _ in work.asked) == ["sales/daily", "sales/monthly", "sales/weekly"]
    assert {a for _, a, _ in work.asked} == {"build", "exists"} and work.sites == [True]
    written = sorted(d.full_name for d in registrar.submitted)
    assert written == ["etl/sales", "monthly/sales", "old/sales", "report/sales", "weekly/sales"]
    assert status(result) == {
        "etl/sales": "created", "report/sales": "created", "weekly/sales": "created",
        "monthly/sales": "created", "old/sales": "removed", "kept/sales": "orphaned",
    }  # fmt: skip
    assert result.images["sales/daily"].status == "built"
    assert result.counters.built == 2  # the image work's counts are the run's
    # A self-hosted server: the plan says version_info is not sent (the registrar gets None).
    assert plan.version_info is False and registrar.made == [None]


def test_a_failed_build_fails_only_its_folder_s_deployments() -> None:
    work, registrar = FakeWork(fail={"sales/daily"}), FakeRegistrar()
    result = run(world_plan(), work, registrar)
    assert "etl/sales" not in {d.full_name for d in registrar.submitted}
    rows = status(result)
    assert (rows["etl/sales"], rows["report/sales"]) == ("failed", "failed")
    assert (rows["weekly/sales"], rows["monthly/sales"]) == ("created", "created")
    assert rows["old/sales"] == "removed" and rows["kept/sales"] == "orphaned"
    assert "the build failed at step 3" in (result.images["sales/daily"].error or "")


def test_fail_fast_writes_nothing_once_a_build_failed() -> None:
    work, registrar = FakeWork(fail={"sales/daily"}), FakeRegistrar()
    options = replace(OURS, fail_fast=True, max_parallel=1)
    run(world_plan(options), work, registrar, options)
    assert registrar.submitted == []


def test_a_folder_s_deployments_are_registered_as_soon_as_its_image_is_ready() -> None:
    """weekly's build waits until daily's deployments reach the registrar: registration
    does not wait for every image."""
    released = threading.Event()
    work = FakeWork(wait={"sales/weekly": released})
    registrar = FakeRegistrar(lambda d: released.set() if d.folder_key == "sales/daily" else None)
    run(world_plan(), work, registrar)
    assert released.is_set()
    order = [d.full_name for d in registrar.submitted]
    assert order.index("etl/sales") < order.index("weekly/sales")


def test_only_removals_are_carried_out_never_orphans() -> None:
    plan = world_plan(replace(OURS, prune=False))
    assert {d.full_name: d.action for d in plan.deployments if d.spec is None} == {
        "old/sales": "orphan", "kept/sales": "orphan",
    }  # fmt: skip
    registrar = FakeRegistrar()
    result = run(plan, FakeWork(), registrar, replace(OURS, prune=False))
    assert not {"old/sales", "kept/sales"} & {d.full_name for d in registrar.submitted}
    assert status(result)["old/sales"] == "orphaned"


def test_nothing_to_do_opens_neither_the_builder_nor_the_registrar() -> None:
    only_orphans = Plan([], [], [DeploymentPlan(None, "kept/sales", "sales/kept", "orphan")])
    assert not has_work(only_orphans)
    work, registrar = FakeWork(), FakeRegistrar()
    result = run(only_orphans, work, registrar)
    assert (work.sites, registrar.made) == ([], [])
    assert status(result) == {"kept/sales": "orphaned"}


def test_an_existing_image_the_plan_says_to_check_is_pulled_not_built() -> None:
    plan = world_plan()
    plan = replace(plan, images=[replace(i, check=i.action == "exists") for i in plan.images])
    work = FakeWork()
    run(plan, work, FakeRegistrar())
    assert ("sales/monthly", "exists", None) in work.asked


@pytest.mark.parametrize("cache", [None, "r/sales/daily:old"])
def test_a_build_gets_the_plan_s_cache_source(cache: str | None) -> None:
    plan = world_plan()
    plan = replace(plan, images=[replace(i, cache_from=cache) for i in plan.images])
    work = FakeWork()
    run(plan, work, FakeRegistrar())
    assert {c for _, a, c in work.asked if a == "build"} == {cache}
