"""Deploy order: a run never replaces a deployment with what an older commit built.

Two runs of one repository can overlap (a re-run of an old workflow run, a manual dispatch
from an old branch, `concurrency` not set): without an order, the one that finishes last wins,
and that may be the older commit. So every deployment write records the commit it was made
from, as the tag `commit:<sha>@<committer time>` (tags are what a self-hosted server keeps on
a deployment and lets an update change: `labels` are create-only up to Prefect 3.9, and
`version_info` is kept by Prefect Cloud alone; prefect/server/schemas/actions.py,
DeploymentCreate/DeploymentUpdate). A run whose commit is older than the one recorded skips
that deployment with a notice; a deployment without a record is written as before and gets one.

"Older": by ancestry when the history holds both commits (the recorded commit descends from
ours; checkout_history.py fetches what a shallow checkout lacks from its origin), else by
committer time (commits on diverged branches, a remote that cannot be reached). A time in the
future is never trusted (a wrong clock, or a tag written by hand: `commit:0000000@2099-…`
would block every deploy), and two commits of one second that the history cannot order are
not guessed at: the later run skips. A run may always deploy its commit anyway with
`--force-order` (input `force-order`), which the skip names. The record is never compared as
a field: a new commit alone changes no deployment.

Pure: the history is read by checkout_history.py; the verdict is `superseded`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Literal

from prefect_flow_deploy.core.model import DeploymentPlan, Problem

COMMIT_TAG_PREFIX = "commit:"
_TAG = re.compile(r"^commit:(?P<sha>[0-9a-f]{7,64})@(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# A recorded time this far past the run's clock is in the future: not trusted (clocks of
# runners and laptops differ by seconds, not by this).
FUTURE_SLACK = 600
WAY_OUT = (
    "To deploy this commit anyway, run again with --force-order (the action's input "
    "force-order: true)."
)

# How the recorded commit relates to ours in the checkout's history: ours descends from it
# ("descendant"), it descends from ours ("ancestor"), or neither ("diverged"). None: the
# history cannot tell (the recorded commit is not in the checkout, or it is shallow).
Relation = Literal["descendant", "ancestor", "diverged"]


class Superseded(Exception):
    """A run from a newer commit wrote the deployment after this run planned: not written."""


@dataclass(frozen=True)
class Commit:
    sha: str  # full hex, lower case
    time: int  # committer time, seconds since the epoch

    @property
    def tag(self) -> str:
        return f"{COMMIT_TAG_PREFIX}{self.sha}@{self.when}"

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.time, timezone.utc).strftime(_TIME_FORMAT)

    @property
    def short(self) -> str:
        return self.sha[:12]


def is_commit_tag(tag: str) -> bool:
    return tag.startswith(COMMIT_TAG_PREFIX)


def recorded_commit(tags: Iterable[str]) -> Commit | None:
    """The commit a deployment records, or None (none recorded, or not one of ours)."""
    for tag in tags:
        match = _TAG.match(tag)
        if match:
            when = datetime.strptime(match["time"], _TIME_FORMAT).replace(tzinfo=timezone.utc)
            return Commit(match["sha"], int(when.timestamp()))
    return None


def without_commit_tags(tags: Iterable[str]) -> list[str]:
    return [t for t in tags if not is_commit_tag(t)]


def tags_to_write(tags: Iterable[str], ours: Commit | None) -> list[str]:
    """A write's tags: the wanted ones and this run's record (none when the run's commit is
    unknown: the deployment then records nothing rather than a commit it was not made from)."""
    return [*without_commit_tags(tags), *([ours.tag] if ours else [])]


def superseded(
    ours: Commit | None,
    recorded: Commit | None,
    relation: Relation | None,
    now: int | None = None,
    forced: bool = False,
) -> str | None:
    """Why this run must not write over a deployment recorded as made from `recorded`, or
    None when it may (a newer or the same commit, no record, a run that knows no commit, a
    record dated in the future, `forced`). `now`: the run's clock, seconds since the epoch."""
    if forced or ours is None or recorded is None or ours.sha == recorded.sha:
        return None
    if relation == "descendant":
        return None
    if relation == "ancestor":
        why = f"commit {recorded.short} descends from this run's {ours.short}"
    elif in_the_future(recorded, now):
        return None
    elif ours.time < recorded.time:
        why = (
            f"commit {recorded.short} was committed at {recorded.when}, after this run's "
            f"{ours.short} ({ours.when})"
        )
    elif ours.time == recorded.time and relation is None:
        why = (
            f"commit {recorded.short} was committed in the same second as this run's "
            f"{ours.short} ({ours.when}), and their history cannot tell which is newer"
        )
    else:
        return None
    return (
        f"the server's deployment was written from a newer commit ({why}); this run "
        f"would put an older version back. {WAY_OUT}"
    )


def in_the_future(recorded: Commit, now: int | None) -> bool:
    return now is not None and recorded.time > now + FUTURE_SLACK


def untrusted(full_name: str, recorded: Commit) -> str:
    """The warning for a record dated in the future, which orders nothing."""
    return (
        f"{full_name} records commit {recorded.short} dated {recorded.when}, in the future: "
        "a wrong clock or a tag written by hand. The date is not trusted to order runs, and "
        "this run's write replaces the record."
    )


def order(
    plan: DeploymentPlan,
    recorded: Commit | None,
    ours: Commit | None,
    relations: dict[str, Relation | None],
    now: int | None = None,
    forced: bool = False,
) -> DeploymentPlan:
    """The plan, or, for an update or removal the record forbids, the same plan skipped with
    the reason (`error`)."""
    if plan.action not in ("update", "remove") or recorded is None:
        return plan
    why = superseded(ours, recorded, relations.get(recorded.sha), now, forced)
    return replace(plan, action="skipped", error=why) if why else plan


def commits_to_relate(
    deployments: Iterable[DeploymentPlan], tags: Mapping[str, Iterable[str]], ours: Commit | None
) -> set[str]:
    """The recorded commits this plan's order depends on: those of the deployments it would
    update or remove (or skipped for their order), other than the checkout's. A plan that
    writes nothing needs no history (on a shallow checkout, each is a fetch from origin)."""
    if ours is None:
        return set()
    found = set()
    for deployment in deployments:
        if deployment.action not in ("update", "remove", "skipped"):
            continue
        recorded = recorded_commit(tags.get(deployment.full_name, ()))
        if recorded is not None and recorded.sha != ours.sha:
            found.add(recorded.sha)
    return found


def in_order(
    deployments: list[DeploymentPlan],
    tags: Mapping[str, Iterable[str]],
    ours: Commit | None,
    relations: Mapping[str, Relation | None],
    now: int | None = None,
    forced: bool = False,
) -> tuple[list[DeploymentPlan], list[Problem]]:
    """Updates and removals the server's commit records (`tags` by deployment name) forbid
    become skipped, with the reason; a record dated in the future is a warning, and orders
    nothing."""
    records = {name: recorded_commit(held) for name, held in tags.items()}
    ordered = [
        order(d, records.get(d.full_name), ours, dict(relations), now, forced) for d in deployments
    ]
    warnings = [
        Problem("warning", untrusted(d.full_name, recorded), title="Deploy order")
        for d in deployments
        if d.action in ("update", "remove")
        and (recorded := records.get(d.full_name)) is not None
        and in_the_future(recorded, now)
        and relations.get(recorded.sha) is None
    ]
    return ordered, warnings
