"""Shards by cost: the fan-out matrix's folders grouped so that each shard takes about as
long, by each folder's last measured build time (the `io.prefect-flow-deploy.build-seconds`
label of the image its deployments run now: build_seconds.py), not by count.

A folder never measured (new, or its image older than the label) counts as the median of
those measured; a folder with only deployment writes (its image exists) as a second. The
grouping is greedy longest-processing-time-first: the costliest folder goes to the least
loaded shard, and so on down; its largest shard is within 4/3 of the best possible. Pure.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

NO_BUILD_SECONDS = 1.0  # a folder whose image exists: a check at most, and its writes
UNMEASURED_SECONDS = 60.0  # when no folder has been measured yet: every folder alike


@dataclass(frozen=True)
class Shard:
    folders: tuple[str, ...]  # sorted
    seconds: float  # the estimated build time of its folders, together


def estimate(measured: Mapping[str, float | None]) -> dict[str, float]:
    """Each folder's expected build seconds: its measure, else the median of the measured."""
    known = [s for s in measured.values() if s is not None and s >= 0]
    middle = statistics.median(known) if known else UNMEASURED_SECONDS
    return {key: s if s is not None and s >= 0 else middle for key, s in measured.items()}


def balance(costs: Mapping[str, float], count: int) -> list[Shard]:
    """At most `count` shards (none empty), costliest first; ties broken by name so that
    the same costs always give the same shards."""
    if not costs:
        return []
    count = max(1, min(count, len(costs)))
    loads = [0.0] * count
    groups: list[list[str]] = [[] for _ in range(count)]
    for key in sorted(costs, key=lambda k: (-costs[k], k)):
        lightest = min(range(count), key=lambda n: (loads[n], n))
        groups[lightest].append(key)
        loads[lightest] += costs[key]
    shards = [Shard(tuple(sorted(g)), load) for g, load in zip(groups, loads, strict=True)]
    return sorted(shards, key=lambda s: (-s.seconds, s.folders))


def group(builds: Mapping[str, float | None], writes_only: set[str], count: int) -> list[Shard]:
    """`builds`: folders to build, with their last measured seconds (None: never measured);
    `writes_only`: folders whose image exists, with deployments to write."""
    costs = {**dict.fromkeys(writes_only, NO_BUILD_SECONDS), **estimate(builds)}
    return balance(costs, count)
