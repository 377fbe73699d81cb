"""A run that waits says what it waits on, every 10 s: a push through a registry that is slow
to answer printed nothing for a minute (through our proxy in front of the real registry,
which holds the manifest PUT for 25 s). The write lock's wait: tests/integration/
test_write_lock.py."""

from __future__ import annotations

import re

import pytest

from ..conftest import Scenario, Stack, write_flow
from ..fault_proxy import DELAY, Fault, fault_proxy
from .test_cli import cli, common
from .test_fault_scenarios import seed_base_layers

pytestmark = pytest.mark.stack


def test_a_slow_push_says_every_10_s_what_it_waits_on(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    host = stack.registry.split("/")[0]
    slow = Fault(DELAY, retry_after="25", method="PUT", path=r"/manifests/")
    with fault_proxy(f"http://{host}", [slow]) as (url, proxy):
        proxied = url.removeprefix("http://").rstrip("/")
        seed_base_layers(stack, [f"t{scenario.suffix}/{scenario.project('p')}/one"])
        args = [*common(scenario, stack), "--registry", f"{proxied}/t{scenario.suffix}"]
        run = cli("deploy", *args)
    assert run.returncode == 0, run.stderr
    assert proxy.faults, "the push was not slowed"
    said = [
        line for line in run.stderr.splitlines() if re.match(r"pushing \S+: \d+ s so far", line)
    ]
    assert len(said) >= 2, run.stderr
    assert re.match(rf"pushing {re.escape(proxied)}/\S+: 1\d s so far, ", said[0]), said
