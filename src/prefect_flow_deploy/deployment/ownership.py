"""Which repository a managed deployment belongs to.

Each deployment this tool writes carries the tag `repo:<owner/name>` of the repository that
made it, so that two repositories deploying to one Prefect server (same tenant, same project
and flow names) never prune or take over each other's deployments. A deployment without the
tag (written before the record existed, or by hand) is matched as it always was and gets the
tag on its next write.

The repository is `--repository` if given, else GITHUB_REPOSITORY (on GitHub), else the
path of the checkout's `origin` remote (`git@github.com:acme/flows.git` → `acme/flows`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from prefect_flow_deploy.core.model import Problem

REPO_TAG_PREFIX = "repo:"


def repository_tag(repository: str) -> str:
    return f"{REPO_TAG_PREFIX}{repository}"


def recorded_owner(tags: Iterable[str]) -> str | None:
    """The repository recorded in a deployment's tags, or None when none is."""
    return next(
        (t.removeprefix(REPO_TAG_PREFIX) for t in tags if t.startswith(REPO_TAG_PREFIX)), None
    )


def foreign_owner(tags: Iterable[str], ours: str | None) -> str | None:
    """The other repository a deployment belongs to, or None when it is ours to write (ours,
    or recorded by no repository)."""
    owner = recorded_owner(tags)
    return owner if owner is not None and owner != ours else None


def takeover_message(full_name: str, owner: str, ours: str | None) -> str:
    runner = f"repository {ours}" if ours else "a run that names no repository"
    return (
        f"the deployment {full_name} on this Prefect server belongs to repository {owner}, "
        f"and {runner} would take it over. Give the flow another name= (or its prefect.yaml "
        "entry another name:), deploy the two repositories with different tenants or Prefect "
        f"workspaces, or delete it from {owner} first."
        + ("" if ours else f" (Run with --repository {owner} if this is that repository.)")
    )


def identity_line(repository: str | None, source: str, tenant: str | None) -> str:
    """The one line every run says about whose it is."""
    where = f"tenant {tenant}" if tenant else "no tenant"
    if repository:
        return f"acting as repository {repository} ({source}), {where}"
    return (
        f"acting as no repository (no --repository, GITHUB_REPOSITORY or git remote origin), "
        f"{where}: it takes over no deployment a repository recorded, and cannot prune"
    )


def removable(tags: Iterable[str], ours: str | None) -> bool:
    """Whether a run of repository `ours` may delete a deployment with these tags: only one
    that records this very repository (one whose record is gone, taken off by hand or never
    written, is nobody's to delete)."""
    return ours is not None and recorded_owner(tags) == ours


def not_removed(full_name: str) -> Problem:
    """The warning for a gone deployment that records no repository (not `removable`)."""
    return Problem(
        "warning",
        f"{full_name}: its folder or flow is gone, but it records no repository (the repo: "
        "tag was taken off by hand, or it was written before the record existed), so no run "
        f"removes it: delete it by hand (`prefect deployment delete {shlex.quote(full_name)}`) if it is "
        "yours.",
        title="Not removed",
    )


def not_removed_problems(names: list[str], ours: str | None) -> list[Problem]:
    """What is said of the gone deployments no run may remove. A run acting as no
    repository cannot tell another checkout's (written as no repository too) from its own:
    one line for all, never "gone" (wasit7/papapipeline after ua-snap/prefect on one server:
    40 such warnings, each advising to delete another checkout's live deployment; trial
    round 10 b 2)."""
    if ours is not None:
        return [not_removed(name) for name in sorted(names)]
    if not names:
        return []
    shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return [
        Problem(
            "warning",
            f"{len(names)} deployment{'s' * (len(names) != 1)} of this tenant that this "
            f"checkout does not make record no repository ({shown}): a run acting as no "
            "repository cannot tell another checkout's from its own, so it judges none gone "
            "and removes none. Name the repository (--repository, or a git remote origin) so "
            "that each run keeps to its own.",
            title="Not removed",
        )
    ]
