"""Shards by cost: the median for what was never measured, longest-processing-time-first,
deterministic, never worse than 4/3 of the best grouping (checked against every grouping of
small cases), and better than grouping by count where costs differ."""

from __future__ import annotations

import itertools
import random

import pytest

from prefect_flow_deploy.rules.shards import (
    NO_BUILD_SECONDS,
    UNMEASURED_SECONDS,
    Shard,
    balance,
    estimate,
    group,
)


def test_a_folder_never_measured_counts_as_the_median_of_those_measured() -> None:
    assert estimate({"a": 10.0, "b": 30.0, "c": 20.0, "new": None}) == {
        "a": 10.0, "b": 30.0, "c": 20.0, "new": 20.0,
    }  # fmt: skip
    assert estimate({"a": 10.0, "b": 40.0, "new": None})["new"] == 25.0  # even count: the mean
    assert estimate({"x": None, "y": None}) == {"x": UNMEASURED_SECONDS, "y": UNMEASURED_SECONDS}


def test_longest_first_onto_the_least_loaded_shard() -> None:
    costs = {"a": 7.0, "b": 6.0, "c": 5.0, "d": 4.0, "e": 3.0, "f": 3.0}
    shards = balance(costs, 2)
    # a→1, b→2, c→2 (6 < 7), d→1 (7 < 11), e→1 (11 = 11: the first), f→2
    assert shards == [Shard(("a", "d", "e"), 14.0), Shard(("b", "c", "f"), 14.0)]


def test_never_more_shards_than_folders_and_none_empty() -> None:
    assert [s.folders for s in balance({"a": 1.0, "b": 2.0}, 5)] == [("b",), ("a",)]
    assert balance({}, 3) == []
    assert len(balance({"a": 1.0}, 0)) == 1


def test_the_same_costs_always_give_the_same_shards() -> None:
    costs = {f"p/f{i}": float(i % 4) for i in range(20)}
    reordered = dict(reversed(list(costs.items())))
    assert balance(costs, 3) == balance(reordered, 3)


def best_makespan(costs: list[float], count: int) -> float:
    best = float("inf")
    for assignment in itertools.product(range(count), repeat=len(costs)):
        loads = [0.0] * count
        for cost, shard in zip(costs, assignment, strict=True):
            loads[shard] += cost
        best = min(best, max(loads))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_within_four_thirds_of_the_best_grouping(seed: int) -> None:
    chance = random.Random(seed)
    costs = {f"f{i}": float(chance.randint(1, 60)) for i in range(chance.randint(2, 8))}
    count = chance.randint(2, 3)
    found = max(s.seconds for s in balance(costs, count))
    assert found <= best_makespan(list(costs.values()), count) * 4 / 3 + 1e-9
    assert sorted(k for s in balance(costs, count) for k in s.folders) == sorted(costs)


def test_better_than_grouping_by_count_when_costs_differ() -> None:
    """Three shards, ten folders: two slow ones that counting by name puts together."""
    costs = {f"p/f{i}": 5.0 for i in range(10)}
    costs["p/f0"] = costs["p/f3"] = 120.0  # f0 and f3 share a shard when dealt out by count
    names = sorted(costs)
    by_count = max(sum(costs[k] for k in names[i::3]) for i in range(3))
    by_cost = max(s.seconds for s in balance(costs, 3))
    assert (by_count, by_cost) == (250.0, 120.0)


def test_writes_only_folders_cost_a_second_and_builds_their_measure() -> None:
    shards = group({"p/slow": 100.0, "p/new": None, "p/fast": 10.0}, {"p/writes"}, 2)
    assert [s.folders for s in shards] == [("p/slow",), ("p/fast", "p/new", "p/writes")]
    assert shards[1].seconds == 10.0 + 55.0 + NO_BUILD_SECONDS  # new: the median of 100 and 10
