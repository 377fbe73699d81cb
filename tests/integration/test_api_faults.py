"""Reads of the Prefect API while planning survive 503, 429 with Retry-After, 504 and a reset
connection (issue 15: one of them was exit 6 "cannot reach the Prefect API"), and exit 6 only
when the server really cannot be reached. Faults come from our own proxy on loopback in
front of the real Prefect server (tests/fault_proxy.py)."""

from __future__ import annotations

import json
import time

import pytest

from ..conftest import Scenario, Stack, write_flow
from ..fault_proxy import RESET, fault_proxy
from .test_cli import cli, common

pytestmark = pytest.mark.stack


def test_plan_survives_transient_faults_of_the_prefect_api(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    assert cli("deploy", *common(scenario, stack)).returncode == 0
    # Five faults in a row: the first read's every retry but its last (MAX_RETRIES = 5).
    script = [(503, None), (429, "1"), (RESET, None), (504, "0"), (502, "0")]
    with fault_proxy(stack.env["PREFECT_API_URL"], script) as (url, proxy):
        started = time.monotonic()
        planned = cli("plan", "--json", *common(scenario, stack), "--prefect-api-url", url)
        seconds = time.monotonic() - started
    assert planned.returncode == 0, planned.stderr
    assert [status for _, status in proxy.faults] == [503, 429, RESET, 504, 502]
    assert proxy.passed
    summary = json.loads(planned.stdout)["summary"]
    assert summary["deployments"]["unchanged"] == 1 and summary["builds"] == 0
    assert seconds >= 1.0  # the 429's Retry-After: 1 was waited for


def test_exit_6_only_when_the_api_never_answers(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    with fault_proxy(stack.env["PREFECT_API_URL"], [(503, "0")], repeat=True) as (url, proxy):
        planned = cli("plan", *common(scenario, stack), "--prefect-api-url", url)
    assert planned.returncode == 6, planned.stderr
    assert "cannot reach the Prefect API" in planned.stderr and "503" in planned.stderr
    assert len(proxy.faults) == 6  # the first answer and 5 retries, then it gives up
