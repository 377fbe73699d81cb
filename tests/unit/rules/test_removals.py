"""rules/removals.py: a gone folder's deployments are removed with --prune and kept as
orphans without it, each with its reason; a preview's removal is the preview rules' and
stays a removal whatever --prune says."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import DeploymentPlan
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.rules.removals import GONE, KEPT, orphaned
from tests.unit.rules.test_decide import OPTIONS, actions, folder, inputs, managed

OURS = replace(OPTIONS, repository="acme/flows")


def test_without_prune_a_removal_is_an_orphan_with_its_reason() -> None:
    gone = DeploymentPlan(None, "old/sales", "sales/gone", "remove", deployment_id="x", reason=GONE)
    preview = DeploymentPlan(
        None,
        "etl/sales-pr-7",
        "sales/daily",
        "remove",
        preview=7,
        reason="pull request #7 is closed",
    )
    [orphan, kept] = orphaned([gone, preview], OURS)
    assert (orphan.action, orphan.reason, orphan.deployment_id) == ("orphan", KEPT, "x")
    assert kept is preview  # the preview rules decided it: carried out without --prune
    assert orphaned([gone, preview], replace(OURS, prune=True)) == [gone, preview]


def test_the_plan_says_remove_or_orphan_and_the_folder_s_others_are_untouched() -> None:
    daily = folder("daily")
    server = [managed("old/sales", "sales/gone", "repo:acme/flows")]
    kept = decide.plan(inputs(daily, server=server), OURS)
    pruned = decide.plan(inputs(daily, server=server), replace(OURS, prune=True))
    assert actions(kept) == {"daily/sales": "create", "old/sales": "orphan"}
    assert actions(pruned) == {"daily/sales": "create", "old/sales": "remove"}
    # An orphan uses no pool and is no work: it does not make a pool to create.
    assert kept.pools_to_create == pruned.pools_to_create == ()
