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


def not_removed_problems(
    unrecorded: list[tuple[str, str]], ours: str | None, projects: set[str]
) -> list[Problem]:
    """What is said of the gone deployments no run may remove (name, folder key). Each by
    name, when the run has an identity and the deployment is of one of its projects (its
    record taken off by hand, or written before the record existed); the others in one
    line, never "gone": a run acting as no repository cannot tell another checkout's from
    its own, and a project this checkout does not have is another checkout's as likely as
    its own (trial round 10 b 2: 84 warnings in a run of a one-folder repository, each
    advising to delete another checkout's live deployment)."""
    mine = {n for n, key in unrecorded if ours is not None and key.partition("/")[0] in projects}
    others = sorted({n for n, _ in unrecorded} - mine)
    said = [not_removed(name) for name in sorted(mine)]
    if not others:
        return said
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    return [
        *said,
        Problem(
            "warning",
            f"{len(others)} deployment{'s' * (len(others) != 1)} of this tenant that this "
            f"checkout does not make record no repository ({shown}): "
            + (
                "a run acting as no repository cannot tell another checkout's from its own, "
                "so it judges none gone and removes none. Name the repository (--repository, "
                "or a git remote origin) so that each run keeps to its own."
                if ours is None
                else "they are of projects this checkout does not have, so they are "
                "another checkout's as likely as its own; none is removed. A run that "
                "records its repository (--repository, a git remote, GITHUB_REPOSITORY) "
                "writes the record on its next write."
            ),
            title="Not removed",
        ),
    ]
