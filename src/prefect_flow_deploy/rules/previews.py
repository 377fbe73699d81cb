"""Preview deployments for a pull request: the pure rules (decide.py applies them; execute
carries out what they decide like any other write).

A preview is a pull request's version of a flow folder's deployments: the same flows, built
from the pull request's code, named `<deployment>-pr-<n>` and tagged `preview:pr-<n>` (with
the repository, tenant and folder tags every deployment written carries), paused, every
schedule off and no triggers, so that it never runs on its own; on the tenant's
`preview-work-pool` when it names one. Only folders whose content tag differs from the image
the tenant's production deployments run (or that production does not have) get previews.

What makes it impossible for a preview to touch a production deployment: a preview writes
only names it made itself (a deployment of its name must carry its own `preview:pr-<n>` tag,
checked while planning and again just before each write) and removes only deployments that
carry a preview tag, this repository's and tenant's. Production runs, in turn, never prune
a preview nor count its image as what production runs.
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Literal

from prefect_flow_deploy.core.model import DeploymentPlan, DeploymentSpec
from prefect_flow_deploy.core.server_state import ExistingDeployment, ServerState
from prefect_flow_deploy.deployment.diff import ours
from prefect_flow_deploy.deployment.ownership import recorded_owner
from prefect_flow_deploy.settings.options import Options

PREVIEW_TAG_PREFIX = "preview:"
SWEEP_LIMIT = 10  # other pull requests whose state one run asks GitHub about
PullState = Literal["open", "closed", "merged"]
_TAG = re.compile(r"^preview:pr-([1-9][0-9]*)$")


def label(number: int) -> str:
    return f"pr-{number}"


def preview_tag(number: int) -> str:
    return f"{PREVIEW_TAG_PREFIX}{label(number)}"


def environment(number: int) -> str:
    """The GitHub environment of a pull request's previews (GitHub shows it on the PR)."""
    return f"preview/{label(number)}"


def preview_name(name: str, number: int) -> str:
    """`<deployment>-pr-<n>`: only letters, digits and `-` are added, none of the characters
    Prefect refuses in names (naming.BANNED_CHARACTERS)."""
    return f"{name}-{label(number)}"


def preview_full_name(full_name: str, number: int) -> str:
    flow, _, name = full_name.partition("/")
    return f"{flow}/{preview_name(name, number)}"


def preview_of(tags: Iterable[str]) -> int | None:
    """The pull request a deployment is a preview of (its `preview:pr-<n>` tag), else None."""
    return next((int(m[1]) for t in tags if (m := _TAG.match(t))), None)


def is_preview(existing: ExistingDeployment) -> bool:
    return preview_of(existing.tags) is not None


def run_command(full_name: str) -> str:
    """What a reviewer types to start a run of the preview."""
    return f"prefect deployment run {shlex.quote(full_name)}"


# -- which folders, which deployments ---------------------------------------------------------


def changed(reference: str, production: str | None) -> bool:
    """A folder gets previews when its image (content tag) is not the one the tenant's
    production deployments run, or production has none of it."""
    return production != reference


def as_preview(spec: DeploymentSpec, number: int, pool: str | None) -> DeploymentSpec:
    """The pull request's preview of a deployment: its name and tags, paused, schedules
    kept but switched off, no triggers (an automation would run it), and the preview pool
    when one is named (its job variables are fitted to that pool afterwards)."""
    moved = bool(pool) and pool != spec.work_pool
    return replace(
        spec,
        name=preview_name(spec.name, number),
        tags=[*spec.tags, preview_tag(number)],
        paused=True,
        schedules=[{**s, "active": False} for s in spec.schedules or []],
        triggers=[],
        work_pool=pool or spec.work_pool,
        work_queue_name=None if moved else spec.work_queue_name,
    )


def not_this_preview(full_name: str, tags: Iterable[str], number: int) -> str | None:
    """Why a preview of pull request `number` may not write over this deployment (one that
    is not that pull request's preview: production's, another pull request's, one made by
    hand), else None."""
    theirs = preview_of(tags)
    if theirs == number:
        return None
    what = f"a preview of pull request #{theirs}" if theirs else "not a preview"
    return (
        f"the deployment {full_name} exists and is {what}: the preview of pull request "
        f"#{number} never writes over it. Give the flow another name= (or its prefect.yaml "
        "entry another name:) so that the names no longer meet."
    )


def preview_in_the_way(full_name: str, tags: Iterable[str]) -> str | None:
    """Why a deployment (not a preview) may not write over a pull request's preview of the
    same name: it would inherit the preview's pause and record. None when it is no preview."""
    theirs = preview_of(tags)
    if theirs is None:
        return None
    return (
        f"the deployment {full_name} is pull request #{theirs}'s preview; a deployment never "
        "takes a preview over. It goes when that pull request closes (or delete it by hand: "
        f"`prefect deployment delete {shlex.quote(full_name)}`), then deploy again; or give "
        "the flow another name=."
    )


def rule(full_name: str, tags: Iterable[str], preview: int | None) -> str | None:
    """Why a run may not write over the deployment of this name (None: it may): a preview
    writes only its own preview, and a deployment never takes a preview over."""
    if preview is None:
        return preview_in_the_way(full_name, tags)
    return not_this_preview(full_name, tags, preview)


# -- removals ---------------------------------------------------------------------------------


def removals(
    snapshot: ServerState,
    options: Options,
    wanted: set[str],
    kept_folders: set[str],
    pull_states: Mapping[int, PullState],
) -> list[DeploymentPlan]:
    """Previews (this repository's and tenant's, and only previews) to remove:
    - this pull request's that it no longer wants (its folder is back to production's
      content, or gone), or all of them once it is closed; a folder that failed to read or
      build keeps its previews, as a failed folder keeps its deployments;
    - every preview of a pull request GitHub says is closed or merged (the sweep);
    - beyond `max-previews` pull requests with previews, the least recently updated ones'.
    """
    number, closing = options.preview, options.preview_closed
    pattern = re.compile(options.flows) if options.flows else None
    groups: dict[int, list[ExistingDeployment]] = defaultdict(list)
    for existing in snapshot.deployments.values():
        pr = preview_of(existing.tags)
        if pr is not None and ours(existing, options.tenant, options.repository):
            groups[pr].append(existing)
    found: list[DeploymentPlan] = []
    for pr, group in sorted(groups.items()):
        state = pull_states.get(pr)
        if pr == number and closing:
            state = "merged" if options.preview_merged else "closed"
            found += [_removal(e, pr, f"pull request #{pr} is {state}") for e in group]
        elif pr == number:
            found += [
                _removal(e, pr, f"pull request #{pr} no longer changes its folder, or it is gone")
                for e in group
                if e.full_name not in wanted
                and (e.folder_key() or "") not in kept_folders
                and not (pattern and not pattern.search(e.folder_key() or ""))
            ]
        elif state in ("closed", "merged"):
            found += [_removal(e, pr, f"pull request #{pr} is {state}") for e in group]
    closed = {pr for pr, state in pull_states.items() if state in ("closed", "merged")}
    live = {pr for pr in groups if pr not in closed and pr != number}
    if number is not None and not closing and wanted:
        live.add(number)
    if len(live) > options.max_previews:
        oldest = sorted(
            (pr for pr in live if pr != number),
            key=lambda pr: (max(e.updated for e in groups[pr]), pr),
        )
        reason = (
            f"more than max-previews ({options.max_previews}) pull requests have previews: "
            "the least recently updated go first"
        )
        for pr in oldest[: len(live) - options.max_previews]:
            found += [_removal(e, pr, reason) for e in groups[pr]]
    return found


def _removal(existing: ExistingDeployment, number: int, reason: str) -> DeploymentPlan:
    return DeploymentPlan(
        None, existing.full_name, existing.folder_key() or "", "remove",
        deployment_id=existing.id, owner=recorded_owner(existing.tags),
        preview=number, reason=reason,
    )  # fmt: skip


def to_ask(snapshot: ServerState, options: Options) -> list[int]:
    """Other pull requests with previews of this repository and tenant, whose state GitHub
    is asked (the sweep): the least recently updated first, at most SWEEP_LIMIT a run, so a
    run asks a bounded number of questions however many previews there are."""
    latest: dict[int, str] = {}
    for existing in snapshot.deployments.values():
        pr = preview_of(existing.tags)
        if pr is None or pr == options.preview:
            continue
        if ours(existing, options.tenant, options.repository):
            latest[pr] = max(latest.get(pr, ""), existing.updated)
    return sorted(latest, key=lambda pr: (latest[pr], pr))[:SWEEP_LIMIT]


def environments_done(plan_deployments: Iterable[DeploymentPlan]) -> list[int]:
    """Pull requests whose previews this plan removes because they are closed: their GitHub
    environments (`preview/pr-<n>`) are marked inactive."""
    return sorted(
        {
            d.preview
            for d in plan_deployments
            if d.action == "remove"
            and d.preview is not None
            and (d.reason or "").endswith(("is closed", "is merged"))
        }
    )


def images_only_previews_used(
    written: Iterable[DeploymentPlan], snapshot: ServerState | None
) -> set[str]:
    """keep-images: the images previews held before these writes that only a preview used:
    those of a pull request closed without merging (a merged one's may be what production
    deploys next: the usual keep-images rule trims them later), and a preview's image
    replaced by the next push. Deleted even among the newest N, unless a deployment on the
    server still uses them (retention.py judges that after the run)."""
    found: set[str] = set()
    for d in written:
        existing = snapshot.deployments.get(d.full_name) if snapshot else None
        if d.preview is None or existing is None or not existing.image:
            continue
        if (d.action == "remove" and d.reason == f"pull request #{d.preview} is closed") or (
            d.action == "update" and d.spec is not None and d.spec.image != existing.image
        ):
            found.add(existing.image)
    return found
