"""A line every few seconds while something slow goes on."""

from __future__ import annotations

import time

from prefect_flow_deploy.core.heartbeat import while_waiting


def test_it_speaks_while_the_block_runs_and_stops_after() -> None:
    said: list[float] = []
    with while_waiting(said.append, every=0.05):
        time.sleep(0.18)
    count = len(said)
    time.sleep(0.12)
    assert 2 <= count <= 4 and len(said) == count
    assert said == sorted(said) and said[0] >= 0.05
