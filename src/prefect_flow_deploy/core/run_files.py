"""The run's temporary files: one private folder per run (named after the run, so that a
later run can tell whose a folder left by a killed run is: leftovers.py), under RUNNER_TEMP on
a GitHub runner; the run's identity (host, pid, start time, pid namespace)."""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

RUN_DIR_PREFIX = "pfd-run."


@dataclass(frozen=True)
class RunId:
    host: str
    pid: int
    started: int  # the process's start time (clock ticks since boot); 0 where /proc is absent
    namespace: int = 0  # the pid namespace's inode; 0 where /proc is absent

    def __str__(self) -> str:
        space = f"ns{self.namespace}." if self.namespace else ""
        return f"{self.pid}.{self.started}.{space}{self.host}"

    @classmethod
    def parse(cls, text: str) -> RunId | None:
        pid, _, rest = text.partition(".")
        started, _, host = rest.partition(".")
        if not (pid.isdigit() and started.isdigit() and host):
            return None
        space = _NAMESPACE.match(host)
        namespace = int(space[1]) if space else 0
        return cls(host[space.end() :] if space else host, int(pid), int(started), namespace)

    def shares_pids_with(self, other: RunId) -> bool:
        """Whether this run's pid means the same process as on `other`'s machine: one host
        and one pid namespace (unknown, 0, counts as the same: no /proc)."""
        return self.host == other.host and (
            not self.namespace or not other.namespace or self.namespace == other.namespace
        )


def process_start(pid: int) -> int | None:
    """The start time of process `pid` (field 22 of /proc/<pid>/stat), 0 where there is no
    /proc but the process exists, None when it does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rpartition(")")[2].split()[19])
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
    except (OSError, ValueError, IndexError):
        return None
    try:  # no /proc (macOS): whether the pid exists at all
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        pass  # it exists, owned by another user
    return 0


def this_run() -> RunId:
    return _run_of(os.getpid())  # a forked child is another run


@functools.cache
def _run_of(pid: int) -> RunId:
    return RunId(socket.gethostname(), pid, process_start(pid) or 0, pid_namespace())


def pid_namespace() -> int:
    """The inode of this process's pid namespace (a container has its own), 0 if unknown."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def use_runner_temp(env: dict[str, str] | os._Environ[str]) -> str | None:
    """On a GitHub runner (the command line in a `run:` step), keep this run's folder under
    RUNNER_TEMP, which the runner empties at the end of every job: after a SIGKILL the login
    it holds is gone with the job, not left until the next deploy on that machine (a
    self-hosted runner keeps /tmp). Not for the action, whose /tmp is its container's, gone
    with it. Return the folder used, or None (not on a runner, or not writable)."""
    folder = env.get("RUNNER_TEMP") if env.get("GITHUB_ACTIONS") == "true" else None
    if not folder or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        return None
    _root[:] = [folder]
    return folder


def temp_root() -> str:
    return _root[0] if _root else tempfile.gettempdir()


def run_dir() -> str:
    """This run's own temporary folder (made on first use, private to the user)."""
    with _run_dir_lock:
        if not _run_dir or not os.path.isdir(_run_dir[0]):
            prefix = f"{RUN_DIR_PREFIX}{this_run()}."
            _run_dir[:] = [tempfile.mkdtemp(prefix=prefix, dir=temp_root())]
            atexit.register(remove_run_dir)
        return _run_dir[0]


def remove_run_dir() -> None:
    if _run_dir:
        shutil.rmtree(_run_dir.pop(), ignore_errors=True)


def temp_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=run_dir())


def dir_owner(name: str) -> RunId | None:
    """The run of a `pfd-run.<run id>.<random>` folder name."""
    if not name.startswith(RUN_DIR_PREFIX):
        return None
    body, dot, _random = name[len(RUN_DIR_PREFIX) :].rpartition(".")
    return RunId.parse(body) if dot else None


_NAMESPACE = re.compile(r"^ns(\d+)\.")

_run_dir: list[str] = []

_root: list[str] = []  # where run folders go; empty: the machine's temporary folder

# Builds ask for it from several threads at once: without the lock two made a folder each and
# one was left behind at exit (found by make reliability, two tenants deploying at once).
_run_dir_lock = threading.Lock()
