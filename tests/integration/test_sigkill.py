"""SIGKILL, where no handler runs (issue 15: "after SIGKILL the next run converges and cleans
what the last one left"). A real deploy is killed in the middle of a build, of an image check
and of registration; the next run exits 0 with the deployment as wanted, and leaves nothing of
the killed run: not its temporary folder with the registry login, not its check containers, not
its build client."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from prefect_flow_deploy.core.run_files import RunId, pid_namespace, process_start
from prefect_flow_deploy.docker.leftovers import RUN_LABEL

from ..conftest import Scenario, Stack, write_flow
from ..fault_proxy import HOP_BY_HOP
from ..helpers import read_deployment
from ..loopback_server import LoopbackServer
from .test_cli import common
from .test_signals import _children

pytestmark = pytest.mark.stack
CANARY = "pw-canary-kill-9"
LOGIN = ["--registry-username", "someone", "--registry-password", CANARY]
SECRET = base64.b64encode(f"someone:{CANARY}".encode()).decode()  # the Docker config's `auth`


class Stall:
    """A pass-through proxy to the real Prefect server that holds the first deployment write
    (POST /deployments/) until released: the run is then, for sure, mid-registration."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=60)
        self.writing, self.release = threading.Event(), threading.Event()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        stall = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and self.path.rstrip("/").endswith("/deployments"):
                    stall.writing.set()
                    stall.release.wait(120)
                    self.close_connection = True  # its client was killed meanwhile
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = stall.upstream.request(
                    self.command, self.path, content=body, headers=headers
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_any

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def stalled(upstream: str) -> Iterator[tuple[str, Stall]]:
    url = httpx.URL(upstream)
    stall = Stall(f"{url.scheme}://{url.netloc.decode()}")
    server = LoopbackServer(stall.handler()).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{url.path}", stall
    finally:
        stall.release.set()
        server.stop()
        stall.upstream.close()


def labelled(run: RunId) -> list[str]:
    """Containers on the engine carrying the run's label."""
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}={run}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return listed.stdout.split()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.2)


@pytest.mark.parametrize("phase", ["build", "check", "registration"])
def test_the_run_after_a_sigkill_converges_and_removes_what_it_left(
    stack: Stack, scenario: Scenario, tmp_path: Path, phase: str
) -> None:
    folder = write_flow(scenario.folder("p", "slow"), "slow")
    slow = {
        "build": "RUN sleep 25\n",  # a build step under way
        # The check runs the image through its ENTRYPOINT, which waits before passing on.
        "check": 'ENTRYPOINT ["sh", "-c", "sleep 15; exec \\"$@\\"", "--"]\n',
        "registration": "",
    }[phase]
    # This test's own layers: a build cached by an earlier test would not be "under way".
    (folder / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nRUN echo {scenario.suffix}\nCOPY . /opt/prefect/flows/slow\n{slow}"
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    args = ["deploy", *common(scenario, stack), *LOGIN]
    cli = [sys.executable, "-m", "prefect_flow_deploy.cli"]

    with stalled(stack.env["PREFECT_API_URL"]) as (api, stall):
        api_url = api if phase == "registration" else stack.env["PREFECT_API_URL"]
        victim = subprocess.Popen(
            [*cli, *args, "--prefect-api-url", api_url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            run = RunId(
                socket.gethostname(), victim.pid, process_start(victim.pid) or 0, pid_namespace()
            )
            folders = lambda: list(temp.glob(f"pfd-run.{run}.*"))  # noqa: E731
            logins = lambda: list(temp.glob(f"pfd-run.{run}.*/pfd-docker-config-*/config.json"))  # noqa: E731
            wait_for(lambda: bool(logins()), "wrote its login")
            if phase == "build":
                wait_for(lambda: bool(_children(victim.pid)), "started a build")
                time.sleep(3)  # inside `RUN sleep 25`
            elif phase == "check":
                wait_for(lambda: bool(labelled(run)), "started a check container")
            else:
                wait_for(stall.writing.is_set, "wrote a deployment")
            builds = _children(victim.pid)
            left = {"folders": folders(), "logins": logins(), "containers": labelled(run)}
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        finally:
            if victim.poll() is None:
                victim.kill()

    # What SIGKILL leaves: its temporary folder, with the login in it while images are built
    # (by registration, the last image is done and its login removed), and mid-check the
    # check container.
    assert left["folders"] and all(p.exists() for p in left["folders"])
    if phase != "registration":
        assert left["logins"] and all(SECRET in p.read_text() for p in left["logins"])
    if phase == "check":
        # Left behind; a deploy of another test may sweep it from now on (its run is dead).
        assert left["containers"]
        assert set(labelled(run)) <= set(left["containers"])
    # Its build client does not outlive it (the parent-death signal): BuildKit cancels the build.
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in builds), "ended", 15)

    again = subprocess.run([*cli, *args], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "removed what interrupted runs left: 1 temporary folders" in again.stderr
    assert CANARY not in again.stderr
    deployment = read_deployment(f"slow/{scenario.project('p')}")
    assert deployment.job_variables["image"].startswith(f"{scenario.registry}/")
    assert not list(temp.glob(f"pfd-run.{run}.*"))  # the killed run's folder, login and all
    assert not any(SECRET in p.read_text(errors="ignore") for p in temp.rglob("*") if p.is_file())
    assert labelled(run) == []


def test_on_a_runner_a_killed_run_leaves_its_login_where_the_job_s_end_removes_it(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    """The command line in a workflow's `run:` step: after SIGKILL its registry login stayed
    in the machine's temporary folder until the next deploy on that machine (a self-hosted
    runner keeps /tmp across jobs). It is kept under RUNNER_TEMP, which the runner empties at
    the end of every job. (The action's own /tmp goes with its container, `docker run --rm`.)"""
    folder = write_flow(scenario.folder("p", "slow"), "slow")
    (folder / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nRUN echo {scenario.suffix}\nRUN sleep 25\n"
        "COPY . /opt/prefect/flows/slow\n"
    )
    temp, runner_temp = tmp_path / "tmp", tmp_path / "runner_temp"
    temp.mkdir()
    runner_temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "GITHUB_ACTIONS": "true",
           "RUNNER_TEMP": str(runner_temp)}  # fmt: skip
    victim = subprocess.Popen(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy", *common(scenario, stack), *LOGIN],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        logins = lambda where: list(where.glob("pfd-run.*/pfd-docker-config-*/config.json"))  # noqa: E731
        wait_for(lambda: bool(logins(temp) or logins(runner_temp)), "wrote its login")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert logins(runner_temp) and not logins(temp), (logins(temp), logins(runner_temp))
    assert not any(SECRET in p.read_text(errors="ignore") for p in temp.rglob("*") if p.is_file())
