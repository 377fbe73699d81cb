"""rules/keep_images.py: keep-images decided with the plan (Plan.retention): the folders'
repositories, the image each deployment holds once applied, what is built, the images of
removed deployments and those only previews used; narrowed after the run to what was
written."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import ImageAnswer
from prefect_flow_deploy.rules import decide
from tests.unit.rules.test_decide import OPTIONS, folder, inputs, managed

OURS = replace(OPTIONS, repository="acme/flows", keep_images=2)


def _gone_with_image() -> object:
    gone = managed("old/sales", "sales/gone", "repo:acme/flows", id="g")
    return replace(gone, image="r/sales/gone:abc")


def test_no_retention_without_keep_images_or_a_registry() -> None:
    daily = folder("daily")
    assert decide.plan(inputs(daily), replace(OURS, keep_images=None)).retention is None
    assert decide.plan(inputs(daily), replace(OURS, registry=None)).retention is None


def test_the_plan_says_what_keep_images_trims() -> None:
    daily, weekly = folder("daily"), folder("weekly")
    answers = {weekly.key: ImageAnswer("r/sales/weekly", "tag1", {"f": "a"}, digest="sha256:1")}
    world = inputs(daily, weekly, server=[_gone_with_image()], answers=answers)  # type: ignore[list-item]
    plan = decide.plan(world, replace(OURS, prune=True))
    policy = plan.retention
    assert policy is not None and policy.keep == 2
    assert policy.repositories == ("r/sales/daily", "r/sales/weekly")
    assert policy.to_build == {"r/sales/daily": "tag1"}  # weekly's image exists
    assert policy.planned == {
        "daily/sales": "r/sales/daily:tag1",
        "weekly/sales": "r/sales/weekly:tag1",
        "old/sales": None,
    }
    assert policy.removed == {"old/sales": "r/sales/gone:abc"}
    # After the run, only what was written counts (a write that failed removed nothing).
    after = policy.after({"daily/sales"})
    assert (after.planned, after.to_build, after.removed) == ({}, {}, {})
    assert after.repositories == policy.repositories
    assert policy.after({"old/sales"}).removed == {"old/sales": "r/sales/gone:abc"}


def test_an_orphan_s_image_is_not_trimmed_as_removed() -> None:
    world = inputs(folder("daily"), server=[_gone_with_image()])  # type: ignore[list-item]
    policy = decide.plan(world, OURS).retention  # no --prune: kept
    assert policy is not None
    assert "old/sales" not in policy.planned and policy.removed == {}
