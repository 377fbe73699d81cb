"""Flow names only the built image can tell (pending_names.py): reused from the server's
deployment of the same content while planning, the folder's deployments kept from removal
while a name is pending, and the computed name judged as the plan judges names."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import MANAGED_TAG, TENANT_TAG_PREFIX, pending_name
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.rules.pending_names import named, reuse_name
from tests.unit.rules.test_decide import (
    OPTIONS,
    actions,
    deployed,
    first_plan,
    folder,
    inputs,
    managed,
)

ENTRYPOINT = "flow.py:daily"


def pending_folder():  # type: ignore[no-untyped-def]
    """A folder whose one flow is named in the image (`daily = make(...)`)."""
    daily = folder("daily")
    flow = replace(daily.flows[0], name=pending_name(ENTRYPOINT), name_pending="a factory")
    return replace(daily, flows=[flow])


def test_the_plan_shows_a_placeholder_create() -> None:
    plan = first_plan(pending_folder())
    assert actions(plan) == {"<flow.py:daily>/sales": "create"}
    assert plan.images[0].action == "build"


def test_the_name_of_the_same_content_is_reused_from_the_server() -> None:
    [planned] = first_plan(pending_folder()).deployments
    assert planned.spec is not None
    server = deployed(replace(planned.spec, flow_name="daily-made"))
    [again] = decide.plan(inputs(pending_folder(), server=[server]), OPTIONS).deployments
    assert (again.full_name, again.action) == ("daily-made/sales", "unchanged")
    # Another content (version): the image must name it again.
    stale = deployed(replace(planned.spec, flow_name="daily-made", version="old"))
    assert reuse_name(planned.spec, decide_state([stale])).flow_name == pending_name(ENTRYPOINT)


def test_the_description_the_image_gave_is_reused_with_the_name() -> None:
    """Trial round 11 b 2: a factory's flow takes its description from the image (its
    docstring, as Prefect registers it), so a re-run of the same content reuses it with the
    name: `unchanged`, not an update back to "". A description the entry or source gives wins."""
    [planned] = first_plan(pending_folder()).deployments
    assert planned.spec is not None and planned.spec.description == ""
    server = deployed(replace(planned.spec, flow_name="daily-made"), description="Made daily.")
    [again] = decide.plan(inputs(pending_folder(), server=[server]), OPTIONS).deployments
    assert (again.action, again.spec and again.spec.description) == ("unchanged", "Made daily.")
    written = replace(planned.spec, description="From the entry.")
    assert reuse_name(written, decide_state([server])).description == "From the entry."


def decide_state(existing):  # type: ignore[no-untyped-def]
    from prefect_flow_deploy.core.server_state import ServerState

    return ServerState({e.full_name: e for e in existing})


def test_a_folder_with_a_pending_name_keeps_its_deployments() -> None:
    gone = managed("old-name/sales", "sales/daily", "repo:acme/flows")
    ours = replace(OPTIONS, prune=True, repository="acme/flows")
    plan = decide.plan(inputs(pending_folder(), server=[gone]), ours)
    assert "old-name/sales" not in actions(plan)  # not removed: which one is gone is unknown
    plain = decide.plan(inputs(folder("daily"), server=[gone]), ours)
    assert actions(plain)["old-name/sales"] == "remove"


def test_the_computed_name_is_judged_as_the_plan_judges_names() -> None:
    plan = first_plan(pending_folder(), folder("weekly", "made"))
    [spec] = [d.spec for d in plan.deployments if d.spec and d.spec.flow_name.startswith("<")]
    assert named(spec, "daily-made", plan, OPTIONS).flow_name == "daily-made"  # type: ignore[union-attr]
    assert "Prefect refuses" in str(named(spec, "a/b", plan, OPTIONS))
    shared = named(spec, "made", plan, OPTIONS)
    assert isinstance(shared, str) and "would share the deployment made/sales" in shared
    theirs = managed("daily-made/sales", "sales/daily", f"{TENANT_TAG_PREFIX}other", MANAGED_TAG)
    with_server = replace(plan, snapshot=decide_state([theirs]))
    refused = named(spec, "daily-made", with_server, replace(OPTIONS, tenant="prod"))
    assert isinstance(refused, str) and "belongs to tenant 'other'" in refused


def test_an_existing_image_is_checked_for_a_flow_no_deployment_runs_from_it() -> None:
    """A flow that failed the image check while the folder's other deployed (its image
    pushed for them) has no deployment of that image: the next run checks the image before
    writing it, not trusting the registry. A flow a deployment runs from that image (its
    content tag and entrypoint) is not checked again, as before."""
    from prefect_flow_deploy.rules.pending_names import never_checked

    [planned] = first_plan(folder("daily")).deployments
    assert planned.spec is not None
    assert never_checked([planned], decide_state([])) == {"sales/daily"}
    same = deployed(replace(planned.spec, name="other"))  # another deployment of that flow
    assert never_checked([planned], decide_state([same])) == set()
    older = deployed(replace(planned.spec, version="old"))
    assert never_checked([planned], decide_state([older])) == {"sales/daily"}
    unchanged = replace(planned, action="unchanged")
    assert never_checked([unchanged], decide_state([])) == set()
