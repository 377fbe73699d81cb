"""The live progress view in a real terminal: a deploy against the stack runs inside tmux (a
pseudo-terminal), and the screen is read while it runs and after it ends."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from ..conftest import Scenario, Stack, write_flow

pytestmark = pytest.mark.stack


@pytest.fixture
def tmux(scenario: Scenario) -> Iterator[list[str]]:
    """A tmux server of this test's own (its own socket), ended afterwards."""
    assert shutil.which("tmux"), "tmux is installed by scripts/stack.sh up"
    command = ["tmux", "-L", f"pfd-{scenario.suffix}"]
    yield command
    subprocess.run([*command, "kill-server"], capture_output=True, check=False)


def deploy_in_terminal(
    tmux: list[str], scenario: Scenario, stack: Stack, width: int = 150
) -> list[str]:
    """Start a deploy in a 150×40 terminal; the screen every 0.3 s until it has ended."""
    args = [
        sys.executable, "-m", "prefect_flow_deploy.cli", "deploy",
        "--projects-root", str(scenario.root), "--registry", scenario.registry,
        "--base-image", stack.base_image, "--tenant", scenario.tenant, "--work-pool", scenario.work_pool,
        "--create-work-pool",
    ]  # fmt: skip
    env = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in os.environ.items() if k.startswith(("PREFECT_", "PFD_"))
    )
    shell = f"env -u COLUMNS -u LINES {env} {shlex.join(args)}; echo EXIT=$?; sleep 600"
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "deploy", "-x", str(width), "-y", "40", shell],
        check=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    screens: list[str] = []
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        screen = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "deploy"], capture_output=True, text=True
        ).stdout
        screens.append(screen)
        if "EXIT=" in screen:
            return screens
        time.sleep(0.3)
    raise AssertionError("the deploy did not end in 400 s:\n" + screens[-1])


def test_a_deploy_on_a_terminal_shows_each_folder_live_then_the_final_table(
    tmux: list[str], scenario: Scenario, stack: Stack
) -> None:
    write_flow(scenario.folder("sales", "orders"), "orders")
    write_flow(
        scenario.folder("sales", "reports"), "reports", requirements__txt="tabulate==0.9.0\n"
    )
    write_flow(
        scenario.folder("sales", "broken"),
        "broken",
        Dockerfile=f"FROM {stack.base_image}\nRUN exit 3\nCOPY . /opt/prefect/flows/broken\n",
    )
    write_flow(
        scenario.folder("sales", "slow"),
        "slow",
        Dockerfile=f"FROM {stack.base_image}\nRUN echo {scenario.suffix} && sleep 6\n"
        "WORKDIR /opt/prefect/flows/slow\nCOPY . .\n",
    )  # still building while the others are done (the echo: not from the build cache)
    project = scenario.project("sales")

    screens = deploy_in_terminal(tmux, scenario, stack)
    during = [s for s in screens if "EXIT=" not in s]
    final = screens[-1]

    headline = re.compile(r"prefect-flow-deploy 4 folders: .+ \d+:\d\d")
    assert any(headline.search(s) for s in during), during[-1]
    step = re.compile(rf"{project}/\w+ +\S? ?building +\d+/\d+ (FROM|RUN|COPY|WORKDIR) ")
    assert any(step.search(s) for s in during), "\n=====\n".join(during[-5:])
    assert any(re.search(rf"{project}/broken +failed +docker build failed", s) for s in during)
    assert any(re.search(rf"{project}/orders +done +1 deployments written", s) for s in during)
    assert any(
        re.search(rf"{project}/slow +\S building +2/4 RUN echo \w+ && sleep 6", s) for s in during
    )
    # Then the view is gone and the final table is printed, failures first.
    assert "prefect-flow-deploy: 4 deployments in" in final
    assert re.search(r"broken .*failed: docker build failed", final), final
    assert len(re.findall(r"\bcreated\b", final)) == 3
    assert "EXIT=1" in final
    assert "reading" not in final and "building" not in final  # the view was transient


def test_in_a_pipe_the_output_stays_plain_lines(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("sales", "orders"), "orders")
    done = subprocess.run(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy",
         "--projects-root", str(scenario.root), "--registry", scenario.registry,
         "--base-image", stack.base_image, "--tenant", scenario.tenant,
         "--work-pool", scenario.work_pool, "--create-work-pool"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "building " in done.stderr and "\tcreated" in done.stderr
    assert "\x1b[" not in done.stderr  # no escape codes: no live view, no colours
    assert "folders:" not in done.stderr
