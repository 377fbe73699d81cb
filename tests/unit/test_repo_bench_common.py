"""bench/common.py's CPU accounting of the stand-ins (the registry, the Prefect server): what
plan_scaling.py's `floor s` is made of. Checked against a real process group whose CPU the
processes themselves report (`os.times`), not against a picture of /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from bench.common import _group_cpu_seconds, cpu_floor

# Burns CPU in itself and in a child it waits for, then prints what it used (its own user +
# system time and its waited-for children's) and stays alive until its stdin closes.
BURN = """
import json, os, subprocess, sys
def burn():
    total = 0
    for i in range(3_000_000):
        total += i * i
burn()
subprocess.run([sys.executable, "-c", "for i in range(3_000_000): i * i"], check=True)
used = os.times()
print(json.dumps(used.user + used.system + used.children_user + used.children_system), flush=True)
sys.stdin.read()
"""


def test_a_groups_cpu_is_what_its_processes_used_with_their_waited_children() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", BURN],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        reported = json.loads(process.stdout.readline())
        counted = _group_cpu_seconds(process.pid)  # its session's group: the same id
    finally:
        process.communicate("")
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert reported > 0.05  # the child did burn CPU, its own and its grandchild's
    assert abs(counted - reported) <= 2 * tick + 0.01


def test_a_group_that_is_gone_has_used_nothing() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait()
    assert _group_cpu_seconds(process.pid) == 0.0


def test_the_floor_is_all_the_cpu_over_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert cpu_floor(2.0, {"registry": 1.5, "prefect": 0.5}) == 2.0
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one core
    assert cpu_floor(1.0, {"registry": 0.25}) == 1.25
