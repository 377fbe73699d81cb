"""What decide tells the executor about each image, so that execute derives nothing: which
existing images it pulls and checks (`ImagePlan.check`), the build's cache source
(`ImagePlan.cache_from`), and whether the deployments' version_info is sent."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import ImageAnswer
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.rules.server_version import SELF_HOSTED_VERSION_INFO
from tests.unit.rules.test_decide import OPTIONS, deployed, first_plan, folder, inputs, recipe

THERE = {"sales/daily": ImageAnswer("r/sales/daily", "tag1", {"f": "a"}, digest="sha256:1")}


def test_an_existing_image_is_checked_only_when_the_run_needs_what_it_tells() -> None:
    daily = folder("daily")
    [spec] = [d.spec for d in first_plan(daily).deployments]
    assert spec is not None
    held = deployed(spec)
    # Where it holds its code is known (the default recipe) and nothing waits: not checked.
    [image] = decide.plan(inputs(daily, server=[held], answers=THERE), OPTIONS).images
    assert (image.action, image.check) == ("exists", False)
    # An own Dockerfile: where the code is only the image tells (and no deployment says).
    own = replace(
        inputs(daily, answers=THERE),
        recipes={daily.key: replace(recipe(daily), expected_code_dir=None)},
    )
    [image] = decide.plan(own, OPTIONS).images
    assert (image.action, image.code_dir, image.check) == ("exists", None, True)


def test_an_existing_image_is_checked_when_a_write_waits_for_its_schema() -> None:
    daily = folder("daily")
    daily = replace(daily, flows=[replace(daily.flows[0], parameter_schema=None)])
    plan = decide.plan(inputs(daily, answers=THERE), OPTIONS)
    [image], [create] = plan.images, plan.deployments
    assert create.action == "create" and (image.action, image.check) == ("exists", True)
    # The server's deployment of this very content holds the schema: nothing to check.
    computed = {"properties": {}, "type": "object"}
    assert create.spec is not None
    held = deployed(replace(create.spec, parameter_schema=computed))
    [image] = decide.plan(inputs(daily, server=[held], answers=THERE), OPTIONS).images
    assert (image.action, image.check) == ("exists", False)


def test_a_build_s_cache_source_is_the_image_the_folder_runs_now() -> None:
    daily = folder("daily")
    [image] = first_plan(daily).images
    assert (image.action, image.cache_from) == ("build", None)  # nothing deployed yet
    [spec] = [d.spec for d in first_plan(daily).deployments]
    assert spec is not None
    held = replace(deployed(spec), image="r/sales/daily:old")
    [image] = decide.plan(inputs(daily, server=[held]), OPTIONS).images
    assert (image.action, image.cache_from) == ("build", "r/sales/daily:old")
    [there] = decide.plan(inputs(daily, server=[held], answers=THERE), OPTIONS).images
    assert (there.action, there.cache_from) == ("exists", None)  # nothing built


def test_version_info_is_sent_to_prefect_cloud_only_and_the_plan_says_why() -> None:
    daily = folder("daily")
    server = decide.plan(inputs(daily), OPTIONS)
    assert (server.version_info, server.version_info_reason) == (False, SELF_HOSTED_VERSION_INFO)
    cloud = decide.plan(replace(inputs(daily), api_is_cloud=True), OPTIONS)
    assert (cloud.version_info, cloud.version_info_reason) == (True, "")
