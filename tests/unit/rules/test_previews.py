"""Preview deployments for a pull request: the rules of previews.py as decide.plan applies
them, on plain data (no Docker, server or registry). The same on the real stack:
tests/integration/test_previews.py."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import MANAGED_TAG, DeploymentConfig, ImageAnswer, Plan
from prefect_flow_deploy.core.server_state import ExistingDeployment, Pool
from prefect_flow_deploy.deployment.diff import existing_from_json
from prefect_flow_deploy.rules import decide, previews
from prefect_flow_deploy.settings.options import Options
from tests.unit.rules.test_decide import OPTIONS, deployed, first_plan, folder, inputs

REPO = "acme/flows"
BASE = replace(OPTIONS, repository=REPO, tenant="dev")
PR = replace(BASE, previews=True, pull_request=7)


def production(*folders_: object) -> list[ExistingDeployment]:
    """What the tenant's production deploy of these folders left on the server."""
    plan = first_plan(*folders_, options=BASE)  # type: ignore[arg-type]
    return [deployed(d.spec, id=f"prod-{n}") for n, d in enumerate(plan.deployments) if d.spec]


def preview(
    full_name: str, key: str, number: int, updated: str = "2026-01-01T00:00:00Z", **kw: str
) -> ExistingDeployment:
    flow, _, name = full_name.partition("/")
    tags = [MANAGED_TAG, f"folder:{key}", "tenant:dev", f"repo:{kw.get('repo', REPO)}"]
    data = {
        "id": f"id-{name}", "name": name, "updated": updated,
        "tags": [*tags, previews.preview_tag(number)],
    }  # fmt: skip
    return existing_from_json(data, flow)


def by_name(plan: Plan) -> dict[str, str]:
    return {d.full_name: d.action for d in plan.deployments}


def test_only_folders_that_differ_from_production_get_paused_previews() -> None:
    daily, weekly = folder("daily", "etl", "report"), folder("weekly")
    server = production(daily, weekly)
    changed = ImageAnswer("r/sales/weekly", "tag2", {"file:flow.py": "b" * 64})
    plan = decide.plan(inputs(daily, weekly, server=server, answers={weekly.key: changed}), PR)
    [image] = plan.images
    assert (image.folder.key, image.reference, image.action) == (
        "sales/weekly",
        "r/sales/weekly:tag2",
        "build",
    )
    [d] = plan.deployments  # production's three deployments: not in the plan at all
    assert (d.full_name, d.action, d.preview) == ("weekly/sales-pr-7", "create", 7)
    assert d.spec is not None
    assert d.spec.paused is True and d.spec.triggers == () and d.spec.schedules == ()
    assert {"preview:pr-7", f"repo:{REPO}", "tenant:dev", MANAGED_TAG} <= set(d.spec.tags)
    assert d.spec.image == "r/sales/weekly:tag2"


def test_a_new_folder_gets_previews_and_schedules_are_kept_but_off() -> None:
    daily = folder(
        "daily",
        deployment_configs=[
            DeploymentConfig(
                flow_name="daily", name="nightly", line=2,
                schedules=({"cron": "0 1 * * *", "active": True},),
            )
        ],
    )  # fmt: skip
    plan = decide.plan(inputs(daily), PR)
    [d] = plan.deployments
    assert d.full_name == "daily/nightly-pr-7" and d.spec is not None
    assert d.spec.schedules == ({"cron": "0 1 * * *", "active": False},)


def test_previews_go_to_the_preview_pool_with_job_variables_fitted_to_it() -> None:
    weekly = folder("weekly")
    pool = Pool("previews", "docker", {"variables": {"properties": {"image": {}, "env": {}}}})
    options = replace(PR, preview_work_pool="previews")
    plan = decide.plan(replace(inputs(weekly), pools={"previews": pool}), options)
    [d] = plan.deployments
    assert d.spec is not None and d.spec.work_pool == "previews"
    assert d.spec.job_variables["image"] == "r/sales/weekly:tag1"


def test_a_preview_never_writes_over_a_production_deployment_of_its_name() -> None:
    """A flow literally deployed under the preview's name: `etl/sales-pr-7` is production's
    (no preview tag), so the preview of `etl/sales` fails alone and nothing is written."""
    daily = folder("daily", "etl")
    literal = replace(production(daily)[0], name="sales-pr-7", id="prod-literal")
    answers = {daily.key: ImageAnswer("r/sales/daily", "tag2", {})}  # the pull request's
    plan = decide.plan(inputs(daily, server=[literal], answers=answers), PR)
    [d] = plan.deployments
    assert (d.full_name, d.action) == ("etl/sales-pr-7", "failed")
    assert "is not a preview" in (d.error or "") and "never writes over it" in (d.error or "")
    other = preview("etl/sales-pr-7", "sales/daily", 8)  # and not another pull request's
    [d] = decide.plan(inputs(daily, server=[other], answers=answers), PR).deployments
    assert d.action == "failed" and "a preview of pull request #8" in (d.error or "")
    # Nor is production ever removed by a preview run, closing or not.
    closing = decide.plan(
        inputs(daily, server=[literal], answers=answers), replace(PR, preview_closed=True)
    )
    assert closing.deployments == () and closing.images == ()


def test_the_next_push_updates_the_same_previews_and_drops_a_folder_back_to_production() -> None:
    daily, weekly = folder("daily"), folder("weekly")
    server = production(daily, weekly)
    answers = {
        k: ImageAnswer(f"r/sales/{n}", "tag2", {})
        for k, n in (("sales/daily", "daily"), ("sales/weekly", "weekly"))
    }
    first = decide.plan(inputs(daily, weekly, server=server, answers=answers), PR)
    assert by_name(first) == {"daily/sales-pr-7": "create", "weekly/sales-pr-7": "create"}
    written = [deployed(d.spec, id=f"p{n}") for n, d in enumerate(first.deployments) if d.spec]
    # The next push: daily changes again, weekly is back to what production runs.
    answers = {"sales/daily": ImageAnswer("r/sales/daily", "tag3", {})}
    second = decide.plan(inputs(daily, weekly, server=server + written, answers=answers), PR)
    assert by_name(second) == {"daily/sales-pr-7": "update", "weekly/sales-pr-7": "remove"}
    [removal] = [d for d in second.deployments if d.action == "remove"]
    assert removal.preview == 7 and "no longer changes its folder" in (removal.reason or "")


def test_closing_removes_every_preview_of_the_pull_request_and_builds_nothing() -> None:
    daily = folder("daily")
    server = [
        *production(daily),
        preview("daily/sales-pr-7", "sales/daily", 7),
        preview("daily/sales-pr-9", "sales/daily", 9),
        preview("daily/sales-pr-7x", "sales/daily", 7, repo="other/repo"),
    ]
    answers = {"sales/daily": ImageAnswer("r/sales/daily", "tag9", {})}
    plan = decide.plan(
        inputs(daily, server=server, answers=answers), replace(PR, preview_closed=True)
    )
    assert plan.images == ()
    assert by_name(plan) == {"daily/sales-pr-7": "remove"}  # not #9's, not another repository's
    assert plan.deployments[0].reason == "pull request #7 is closed"
    assert previews.environments_done(plan.deployments) == [7]


def test_the_sweep_removes_previews_of_pull_requests_github_says_are_closed() -> None:
    daily = folder("daily")
    server = [
        *production(daily),
        preview("daily/sales-pr-3", "sales/daily", 3),
        preview("daily/sales-pr-4", "sales/daily", 4),
        preview("daily/sales-pr-5", "sales/daily", 5),
    ]
    states: dict[int, previews.PullState] = {3: "closed", 4: "merged", 5: "open"}
    world = replace(inputs(daily, server=server), pull_states=states)
    swept = decide.plan(world, BASE)  # any run can sweep: a production deploy here
    assert by_name(swept)["daily/sales-pr-3"] == "remove"
    assert by_name(swept)["daily/sales-pr-4"] == "remove"
    assert "daily/sales-pr-5" not in by_name(swept)
    assert previews.environments_done(swept.deployments) == [3, 4]
    assert previews.to_ask(world.snapshot, PR) == [3, 4, 5]


def test_the_sweep_asks_about_a_bounded_number_of_pull_requests_oldest_first() -> None:
    server = [
        preview(f"daily/sales-pr-{n}", "sales/daily", n, updated=f"2026-01-{n:02d}T00:00:00Z")
        for n in range(1, 26)
    ]
    world = inputs(folder("daily"), server=list(reversed(server)))
    asked = previews.to_ask(world.snapshot, PR)
    assert asked == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11]  # not #7: this run's own
    assert len(asked) == previews.SWEEP_LIMIT
    # Another tenant's or repository's previews are never asked about (nor removed).
    assert previews.to_ask(world.snapshot, replace(PR, tenant="prod")) == []


def test_max_previews_removes_the_least_recently_updated_pull_requests_first() -> None:
    weekly = folder("weekly")
    server = [
        preview("weekly/sales-pr-1", "sales/weekly", 1, updated="2026-03-01T00:00:00Z"),
        preview("weekly/sales-pr-2", "sales/weekly", 2, updated="2026-01-01T00:00:00Z"),
        preview("weekly/sales-pr-3", "sales/weekly", 3, updated="2026-02-01T00:00:00Z"),
    ]
    plan = decide.plan(inputs(weekly, server=server), replace(PR, max_previews=2))
    removed = sorted(d.full_name for d in plan.deployments if d.action == "remove")
    assert removed == ["weekly/sales-pr-2", "weekly/sales-pr-3"]  # #7 is new, #1 the newest
    [reason] = {d.reason for d in plan.deployments if d.action == "remove"}
    assert reason is not None and "max-previews (2)" in reason
    assert by_name(plan)["weekly/sales-pr-7"] == "create"


def test_production_never_prunes_a_preview_nor_takes_its_image_for_what_it_runs() -> None:
    daily = folder("daily")
    server = [*production(daily), preview("daily/sales-pr-7", "sales/daily", 7)]
    server[-1] = replace(server[-1], image="r/sales/daily:tag9")
    plan = decide.plan(inputs(daily, server=server), replace(BASE, prune=True))
    assert by_name(plan) == {"daily/sales": "unchanged"}
    answers = {"sales/daily": ImageAnswer("r/sales/daily", "tag9", {})}
    [image] = decide.plan(inputs(daily, server=server, answers=answers), BASE).images
    assert image.reason == "content changed since tag1"  # production's image, not the preview's


def test_names_tags_and_commands() -> None:
    assert previews.preview_full_name("daily-orders/sales", 12) == "daily-orders/sales-pr-12"
    assert previews.preview_of(["x", "preview:pr-12"]) == 12
    assert previews.preview_of(["preview:pr-0", "preview:12", "preview:pr-x"]) is None
    assert previews.environment(12) == "preview/pr-12"
    assert (
        previews.run_command("daily-orders/sales-pr-12")
        == "prefect deployment run daily-orders/sales-pr-12"
    )
    assert previews.run_command("my flow/x-pr-1") == "prefect deployment run 'my flow/x-pr-1'"
    options = Options(previews=True)
    assert options.preview is None  # preview on, but no pull request: a normal run


def test_images_only_previews_used_a_closed_one_s_and_a_replaced_one_s_not_a_merged_one_s() -> None:
    daily = folder("daily")
    held = replace(preview("daily/sales-pr-7", "sales/daily", 7), image="r/sales/daily:pr7")
    server = [*production(daily), held]
    answers = {daily.key: ImageAnswer("r/sales/daily", "t9", {})}
    world = inputs(daily, server=server, answers=answers)
    closed = decide.plan(world, replace(PR, preview_closed=True))
    assert previews.images_only_previews_used(closed.deployments, closed.snapshot) == {
        "r/sales/daily:pr7"
    }
    merged = decide.plan(world, replace(PR, preview_closed=True, preview_merged=True))
    assert merged.deployments[0].reason == "pull request #7 is merged"
    assert previews.images_only_previews_used(merged.deployments, merged.snapshot) == set()
    pushed = decide.plan(world, PR)  # the next push replaces the preview's image
    assert by_name(pushed) == {"daily/sales-pr-7": "update"}
    assert previews.images_only_previews_used(pushed.deployments, pushed.snapshot) == {
        "r/sales/daily:pr7"
    }
    # Production's own image is never among them.
    assert (
        previews.images_only_previews_used(first_plan(daily).deployments, world.snapshot) == set()
    )


def test_a_deployment_never_takes_a_preview_of_its_name_over() -> None:
    """The other way round: production's `etl/sales-pr-7` (a flow literally named so) meets
    pull request #7's preview of `etl/sales`; it fails alone, saying how to get past it."""
    daily = folder(
        "daily", "etl",
        deployment_configs=[DeploymentConfig(flow_name="etl", name="sales-pr-7", line=2)],
    )  # fmt: skip
    server = [preview("etl/sales-pr-7", "sales/other", 7)]
    [d] = decide.plan(inputs(daily, server=server), BASE).deployments
    assert (d.full_name, d.action) == ("etl/sales-pr-7", "failed")
    assert "is pull request #7's preview" in (d.error or "")
