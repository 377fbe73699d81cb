"""SIGTERM and SIGINT to a deploy in the middle of a build (issue 15: SIGTERM exited at once
with builds running and the registry login left on disk; SIGINT waited for every build): the
run stops the build, removes the temporary Docker config holding the login, says what was
and was not done, and exits within 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack, write_flow
from .test_cli import common

pytestmark = pytest.mark.stack


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.add(int(status.parent.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_build_stops_cleans_and_says_so(
    stack: Stack, scenario: Scenario, tmp_path: Path, signum: signal.Signals
) -> None:
    slow = write_flow(scenario.folder("p", "slow"), "slow")
    (slow / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nRUN sleep 120\nCOPY . /opt/prefect/flows/slow\n"
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    # A login for the run: written to a temporary Docker config for the build.
    login = ["--registry-username", "someone", "--registry-password", "pw-canary-123"]
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy", *common(scenario, stack), *login],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    deadline = time.monotonic() + 120
    while not any("building" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the build is under way: `RUN sleep 120`
    assert list(temp.glob("pfd-run.*/pfd-docker-config-*")), "the login's config exists mid-build"
    builds = _children(process.pid)
    assert builds, "a docker build runs"

    sent = time.monotonic()
    process.send_signal(signum)
    code = process.wait(timeout=15)
    seconds = time.monotonic() - sent
    reader.join(timeout=5)
    output = "".join(lines)
    assert code == 128 + signum, output
    assert seconds < 10, seconds
    assert f"interrupted by {signal.Signals(signum).name}" in output
    assert "1 builds stopped" in output and "Not done" in output
    assert not list(temp.glob("pfd-run.*"))  # the run's folder with the login is gone from disk
    assert not any(Path(f"/proc/{pid}").exists() for pid in builds)  # the build client too
    assert "pw-canary-123" not in output


def test_a_signal_during_a_write_reports_what_the_server_holds(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    """SIGTERM while a deployment write is under way (the Prefect API, behind our proxy,
    answers the create 3 s late; the server carries it out anyway): the run said "deployment
    writes 0" while the write landed. It reads the deployment back (a few seconds at most)
    and says it landed."""
    from ..fault_proxy import DELAY, Fault, fault_proxy

    write_flow(scenario.folder("p", "one"), "one")
    slow = Fault(DELAY, retry_after="3", method="POST", path=r"/deployments/$")
    with fault_proxy(stack.env["PREFECT_API_URL"], [slow]) as (url, proxy):
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy", *common(scenario, stack),
             "--prefect-api-url", url],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert process.stderr is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
        reader.start()
        deadline = time.monotonic() + 180
        while not proxy.faults and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proxy.faults, "the create never reached the server"
        time.sleep(0.5)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        seconds = time.monotonic() - sent
        reader.join(timeout=5)
    output = "".join(lines)
    assert code == 128 + signal.SIGTERM, output
    assert seconds < 10, seconds
    name = f"one/{scenario.project('p')}"
    assert f"1 deployment writes under way when stopped: {name} created on the server" in output
    from ..helpers import read_deployment

    assert read_deployment(name).id  # it did land
