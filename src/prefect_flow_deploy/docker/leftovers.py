"""What a killed run leaves, found and removed by the next run.

SIGTERM and SIGINT are handled (cancellation.py); after SIGKILL (the OOM killer, a runner
that vanishes, `kill -9`) nothing runs. So everything a run creates carries its run id: its
temporary files (the Docker config holding the registry login, build secrets, recipes) live
in one folder named after it, `$TMPDIR/pfd-run.<pid>.<start>.<host>.<random>` (on a GitHub
runner, the command line's under `$RUNNER_TEMP`, which the runner empties per job), and its check
containers carry the label `prefect-flow-deploy.run=<run id>`; its `docker build` clients die
with it (the kernel's parent-death signal, set by util-linux's `setpriv`). Every deploy first
removes what runs that no longer live left, never what a live one uses.

A run id is the host name, the pid, the process's start time (a pid is reused; the start
time tells the new process apart) and its pid namespace: a container run with `--network host`
has the host's name but pids of its own, so its pid says nothing on the host (found when a
host run's sweep removed a live action's check container). In the action's container the host
name is the container's id, so a check container of another action run is judged by whether
that container still runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

from prefect_flow_deploy.core.run_files import (
    RUN_DIR_PREFIX,
    RunId,
    dir_owner,
    process_start,
    temp_root,
    this_run,
)

RUN_LABEL = "prefect-flow-deploy.run"
# A run older than this whose liveness cannot be checked (another machine on the same engine,
# a label of an older release that held only a pid) is gone: check containers live for at most
# a few minutes, a run's folder for the run.
STALE_SECONDS = 6 * 3600
_CONTAINER_ID = re.compile(r"^[0-9a-f]{12,64}$")


def left_over(
    owner: RunId | None,
    me: RunId,
    started: int | None,
    host_running: bool | None,
    age: float,
) -> bool:
    """Whether a thing labelled with `owner` was left by a run that is gone.
    `started`: the start time of the process with owner's pid on this host now (None: no such
    process); `host_running`: for another host that is a container on this engine, whether it
    runs (None: not one the engine knows); `age`: seconds since the thing was made."""
    if owner == me:
        return False
    if owner is not None and owner.shares_pids_with(me):
        return started != owner.started  # gone, or its pid now belongs to another process
    if owner is not None and host_running is not None:
        return not host_running
    return age > STALE_SECONDS


# -- this run --------------------------------------------------------------------------------


def run_label() -> dict[str, str]:
    return {RUN_LABEL: str(this_run())}


def build_command_prefix() -> list[str]:
    """`setpriv --pdeathsig TERM --`: a build client that outlives a killed run would keep
    building (and reading the login); BuildKit cancels a build whose client is gone."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


# -- the sweep -------------------------------------------------------------------------------


def sweep() -> str | None:
    """Remove what dead runs left; say what, or None when there was nothing."""
    folders = _sweep_folders()
    containers = _sweep_containers()
    if not (folders or containers):
        return None
    return (
        f"removed what interrupted runs left: {folders} temporary folders (with the registry "
        f"logins they held), {containers} check containers"
    )


def _sweep_folders() -> int:
    me, removed = this_run(), 0
    roots = {Path(tempfile.gettempdir()), Path(temp_root())}
    for path in (p for root in sorted(roots) for p in root.glob(f"{RUN_DIR_PREFIX}*")):
        owner = dir_owner(path.name)
        try:
            info = path.lstat()
        except OSError:
            continue
        if not path.is_dir() or path.is_symlink() or info.st_uid != os.getuid():
            continue  # someone else's: not ours to judge
        started = process_start(owner.pid) if owner and owner.shares_pids_with(me) else None
        if left_over(owner, me, started, None, time.time() - info.st_mtime):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def sweep_engine(client: object) -> int:
    """Check containers that dead runs left on a builder other runners share (a remote
    engine): another machine's run is judged by its age only, since its host name (the
    action's container on that machine's engine) is unknown to this engine."""
    return _sweep_containers(client, shared_engine=True)


def _sweep_containers(client: object = None, shared_engine: bool = False) -> int:
    if client is None and labelled_locally() is False:
        return 0  # the common case, told without importing the Docker SDK (0.2 s of a no-op)
    try:
        if client is None:
            from prefect_flow_deploy.docker.engine_session import docker_client

            client = docker_client()
        found = client.containers.list(all=True, filters={"label": RUN_LABEL})  # type: ignore[attr-defined]
    except Exception:  # no engine reachable: nothing of ours runs there either
        return 0
    me, removed = this_run(), 0
    for container in found:
        owner = RunId.parse(container.labels.get(RUN_LABEL, ""))
        shared = owner is not None and owner.shares_pids_with(me)
        started = process_start(owner.pid) if owner and shared else None
        running = (
            _host_running(client, owner.host)
            if owner and not shared and not shared_engine
            else None
        )
        if left_over(owner, me, started, running, _age(container.attrs.get("Created", ""))):
            try:
                container.remove(force=True)
                removed += 1
            except Exception:  # removed meanwhile (its own run finished with it)
                pass
    return removed


def labelled_locally(timeout: float = 5.0) -> bool | None:
    """Whether the local engine holds any container with our run label, asked with one
    request over its Unix socket (Engine API `GET /containers/json`, all=1 and a label
    filter; HTTP/1.0, so the answer is the body up to the close); None when that cannot be
    told this way (DOCKER_HOST names another transport, the engine answered something else).
    False when no engine listens there: none of our containers runs on it either."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return None
    query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"label": [RUN_LABEL]})})
    request = f"GET /containers/json?{query} HTTP/1.0\r\nHost: docker\r\n\r\n".encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as engine:
            engine.settimeout(timeout)
            engine.connect(host.removeprefix("unix://"))
            engine.sendall(request)
            answer = b"".join(iter(lambda: engine.recv(65536), b""))
    except FileNotFoundError:
        return False
    except OSError:  # refused, timed out: the SDK's own path says so (and returns 0)
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        return None
    try:
        return bool(json.loads(body))
    except ValueError:
        return None


def _host_running(client: object, host: str) -> bool | None:
    """For a host name that is a container id (the action's container; the runner removes it
    when it ends): whether that container runs on this engine. None for any other host."""
    if not _CONTAINER_ID.match(host):
        return None
    import docker.errors

    try:
        container = client.containers.get(host)  # type: ignore[attr-defined]
    except docker.errors.NotFound:
        return False
    except Exception:
        return True  # cannot tell: leave it
    return bool(container.status in ("running", "restarting", "paused"))


def _age(created: str) -> float:
    """Seconds since an engine timestamp (`2026-12-01T03:50:00.123456789Z`); 0 if unreadable."""
    try:
        when = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return 0.0
    return time.time() - when.timestamp()
