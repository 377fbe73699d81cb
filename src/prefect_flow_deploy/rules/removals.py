"""Removals: the server's managed deployments whose folder or flow is gone, in this run's
scope, and whether this run deletes them (--prune: "remove") or keeps them ("orphan"). A
preview's removal is the preview rules' (previews.py), carried out without --prune."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from prefect_flow_deploy.core.model import DeploymentPlan, FlowFolder
from prefect_flow_deploy.core.naming import UNREADABLE_PROJECT
from prefect_flow_deploy.deployment.diff import ours
from prefect_flow_deploy.deployment.ownership import recorded_owner, removable
from prefect_flow_deploy.rules import previews
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.settings.options import Options

GONE = "its folder or flow is gone"
KEPT = f"{GONE}; kept (`prune` is off)"


def removals(
    inputs: Inputs,
    options: Options,
    desired: list[DeploymentPlan],
    failed: Callable[[FlowFolder], bool],
    unnamed: set[str] = frozenset(),  # type: ignore[assignment]
    unrecorded: list[tuple[str, str]] | None = None,
) -> list[DeploymentPlan]:
    """Managed deployments of this tenant and repository whose folder or flow is gone, in
    this run's scope. Folders that failed to read keep theirs: nothing deployed is lost
    because of a broken commit; nor are those of a project that could not be listed. Only
    a deployment that records this very repository is removed: those that record none go to
    `unrecorded` (name, folder key: nobody's to delete)."""
    unrecorded = [] if unrecorded is None else unrecorded
    wanted = {d.full_name for d in desired}
    present = {f.key: f for f in inputs.folders}
    pattern = re.compile(options.flows) if options.flows else None
    found = []
    for existing in inputs.snapshot.deployments.values():
        key = existing.folder_key()
        if existing.full_name in wanted or not key:
            continue
        if not ours(existing, options.tenant, options.repository):
            continue  # another tenant's or repository's: never removed, not orphaned
        if previews.is_preview(existing):
            continue  # a pull request's: removed by the preview rules only
        if pattern and not pattern.search(key):
            continue  # outside this run's scope (a shard, a dispatch pattern)
        folder = present.get(key)
        if folder is not None and (failed(folder) or key not in inputs.recipes):
            continue
        if key in unnamed:
            continue  # a flow's name is computed after the build: which one is gone is unknown
        if f"{key.partition('/')[0]}/{UNREADABLE_PROJECT}" in present:
            continue  # its project could not be listed: its folders are unknown
        if not removable(existing.tags, options.repository):
            unrecorded.append((existing.full_name, key))
            continue
        found.append(
            DeploymentPlan(
                None, existing.full_name, key, "remove", deployment_id=existing.id,
                owner=recorded_owner(existing.tags), reason=GONE,
            )
        )  # fmt: skip
    return found


SUPERSEDED_BUILD = "not built: every deployment of this folder records a newer commit"


def all_superseded(deployments: list[DeploymentPlan]) -> set[str]:
    """Folders each of whose deployments the deploy order skips: their image would be built
    and pushed for nothing (a run from an older checkout)."""
    by_folder: dict[str, set[str]] = defaultdict(set)
    for deployment in deployments:
        by_folder[deployment.folder_key].add(deployment.action)
    return {key for key, actions in by_folder.items() if actions == {"skipped"}}


def orphaned(deployments: list[DeploymentPlan], options: Options) -> list[DeploymentPlan]:
    """Without --prune a gone folder's deployments are kept: "orphan", and why. (A
    preview's removal is decided by the preview rules, and carried out all the same.)"""
    if options.prune:
        return deployments
    return [
        replace(d, action="orphan", reason=KEPT)
        if d.action == "remove" and d.preview is None
        else d
        for d in deployments
    ]
