"""SIGTERM and SIGINT (what `timeout`, a cancelled GitHub job and Ctrl-C send): stop, clean
up what this run made, say what was and was not done, exit.

The action's entrypoint is PID 1 in its container, where a signal without a handler is
ignored; and Python's default SIGINT handling waits for every build thread. So the handler
does the cleanup itself, in this order: the temporary Docker config holding the registry
login, the builds (their `docker build` clients; BuildKit cancels a build whose client is
gone), the check containers (labelled with this process's id), then exits at once (128 +
the signal). A deployment write is one API call: it has happened or it has not. After SIGKILL
no handler runs: the next run removes what this one left (leftovers.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from types import FrameType

from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import leftovers

_lock = threading.Lock()
_dirs: list[str] = []
_processes: set[subprocess.Popen[str]] = set()
_progress: list[Callable[[], str]] = []


def track_dir(path: str) -> None:
    with _lock:
        _dirs.append(path)


def untrack_dir(path: str) -> None:
    with _lock:
        if path in _dirs:
            _dirs.remove(path)


def track_process(process: subprocess.Popen[str]) -> None:
    with _lock:
        _processes.add(process)


def untrack_process(process: subprocess.Popen[str]) -> None:
    with _lock:
        _processes.discard(process)


def report_progress(describe: Callable[[], str]) -> None:
    """What the run has done so far, said when it is interrupted."""
    _progress[:] = [describe]


def install() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one cleanup, even if signalled again
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    done = cleanup()
    so_far = _progress[0]() if _progress else "nothing written yet"
    log.error(
        f"interrupted by {name}: stopped. Done before it: {so_far}. Cleaned up: "
        f"{done}. Not done: every build, push and deployment write not finished; what is "
        "deployed is complete (each write is whole), and the next run converges.",
        title="Interrupted",
    )
    os._exit(128 + signum)


def cleanup() -> str:
    with _lock:
        dirs = [d for d in _dirs if os.path.isdir(d)]
        processes = list(_processes)
    for path in dirs:  # the registry login first
        shutil.rmtree(path, ignore_errors=True)
    run_files.remove_run_dir()  # and whatever else this run had in its temporary folder
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
    containers = _remove_check_containers()
    return (
        f"{len(dirs)} temporary folders (the Docker config with the registry login among "
        f"them), {len(processes)} builds stopped, {containers} check containers removed"
    )


def _remove_check_containers() -> int:
    try:
        from prefect_flow_deploy.docker.engine_session import docker_client

        client = docker_client()
        mine = f"{leftovers.RUN_LABEL}={run_files.this_run()}"
        found = client.containers.list(all=True, filters={"label": mine})
        for container in found:
            container.remove(force=True)
        return len(found)
    except Exception:  # no engine reachable: nothing of ours runs there either
        return 0
