"""What both benchmark scripts share: a private registry and Prefect server, running a tool as a
measured child process, and a description of the machine.

Isolation: the benchmark never talks to the shared stack (registry :5000, Prefect :4200) that
the test suite uses. It starts its own `docker-registry` and `prefect server` on other ports,
with their storage in a temporary folder, and wipes both for a clean state.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# PFD_BENCH_VENV: another checkout's .venv (a git worktree has none); with PYTHONPATH=<worktree>/src
# the tools run from that venv import the worktree's code (PYTHONPATH precedes the editable .pth).
VENV_BIN = Path(os.environ.get("PFD_BENCH_VENV", str(REPO / ".venv"))) / "bin"
DOCKER = "/usr/bin/docker"  # Debian's client: BuildKit built in (the first on PATH lacks buildx)
STAND_IN = "localhost:5000/stand-in/prefect:3-python3.11"  # built by scripts/stack.sh up
WORK_POOL = "bench-pool"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def wait_until(seconds: float, what: str, probe: Any) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"gave up waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 400)
    except (urllib.error.URLError, OSError):
        return False


def free_port(low: int, high: int) -> int:
    """A free loopback port in [low, high], chosen at random.

    The registry gets a new port at every reset on purpose: the Docker engine remembers, per
    registry host, which repositories it pushed each layer to, and tries to cross-mount from
    them. After a wipe those repositories are gone, every mount fails and the engine uploads
    the base layers again (hundreds of MB gzip-compressed per image); a host it has never seen
    has no such stale memory, so layers mount from the base image's repository as they
    would on a registry that was not wiped."""
    import random

    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def _kill_group(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a service this benchmark started (it runs in its own session: setsid)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class BenchStack:
    """A private registry and Prefect server. `reset()` gives a clean state: fresh registry
    storage and a fresh SQLite database (a new PREFECT_HOME)."""

    def __init__(
        self,
        directory: Path,
        registry_port: int | None = None,
        prefect_port: int = 4300,
        server_env: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.server_env = server_env or {}
        self.fixed_registry_port = registry_port
        self.registry_port = registry_port or 5100
        self.prefect_port = prefect_port
        self.hosts_used: list[str] = []
        self.api_url = f"http://127.0.0.1:{prefect_port}/api"
        self.registry_log = directory / "registry.log"
        self.client_home = directory / "client-home"
        self._registry: subprocess.Popen[bytes] | None = None
        self._prefect: subprocess.Popen[bytes] | None = None
        self.resets = 0

    @property
    def registry_host(self) -> str:
        return f"localhost:{self.registry_port}"

    # -- lifecycle ---------------------------------------------------------------------------
    def check_ports_free(self) -> None:
        if not self.fixed_registry_port:
            return self._check(f"{self.api_url}/health")
        for url in (f"http://127.0.0.1:{self.registry_port}/v2/", f"{self.api_url}/health"):
            self._check(url)

    def _check(self, url: str) -> None:
        if http_ok(url):
            raise RuntimeError(
                f"{url} already answers: another benchmark (or something else) runs on that "
                "port. Stop it or pass other ports."
            )

    def reset(self, with_prefect: bool = True) -> None:
        self.stop()
        self.resets += 1
        for name in ("registry-data", "server-home", "client-home"):
            shutil.rmtree(self.directory / name, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.client_home.mkdir(parents=True, exist_ok=True)
        if not self.fixed_registry_port:
            self.registry_port = free_port(5100, 5999)
        self.hosts_used.append(self.registry_host)
        self._start_registry()
        if with_prefect:
            self._start_prefect()

    def _start_registry(self) -> None:
        config = self.directory / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: info}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.directory / 'registry-data'}}}, "
            "delete: {enabled: true}}\n"
            f"http: {{addr: 127.0.0.1:{self.registry_port}}}\n"
        )
        handle = self.registry_log.open("ab")
        self._registry = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(
            20, "the registry", lambda: http_ok(f"http://127.0.0.1:{self.registry_port}/v2/")
        )

    def _start_prefect(self) -> None:
        home = self.directory / "server-home"
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_TELEMETRY_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            **self.server_env,
        }
        env.pop("PREFECT_API_URL", None)
        handle = (self.directory / f"prefect-server-{self.resets}.log").open("wb")
        self._prefect = subprocess.Popen(
            [
                str(VENV_BIN / "prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.prefect_port),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        wait_until(90, "the Prefect server", lambda: http_ok(f"{self.api_url}/health"))

    def stop(self) -> None:
        _kill_group(self._prefect)
        _kill_group(self._registry)
        self._prefect = self._registry = None

    # -- what tools get ------------------------------------------------------------------------
    def client_env(self) -> dict[str, str]:
        """The environment a tool runs with: this stack's Prefect, never the shared one."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "PFD_")) or key == "PFD_VERBOSE"
        }
        env.update(
            {
                "PREFECT_API_URL": self.api_url,
                "PREFECT_HOME": str(self.client_home),
                "PREFECT_CLI_PROMPT": "false",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_TELEMETRY_ENABLED": "false",
                "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
            }
        )
        return env

    def create_work_pool(self, name: str = WORK_POOL) -> None:
        subprocess.run(
            [str(VENV_BIN / "prefect"), "work-pool", "create", name, "--type", "docker"],
            env=self.client_env(),
            capture_output=True,
            check=True,
        )

    # -- what the benchmark counts -------------------------------------------------------------
    def deployments(self) -> dict[str, str]:
        """Every deployment on the server: id → `updated` timestamp."""
        found: dict[str, str] = {}
        offset = 0
        while True:
            body = json.dumps({"limit": 200, "offset": offset}).encode()
            request = urllib.request.Request(
                f"{self.api_url}/deployments/filter",
                data=body,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                page = json.load(response)
            found.update({d["id"]: d["updated"] for d in page})
            if len(page) < 200:
                return found
            offset += 200

    def stand_in_cpu(self) -> dict[str, float]:
        """CPU seconds the registry and the Prefect server have used so far (user + system of
        each one's process group, waited-for children included): they share the machine's
        cores with the tool measured, so a plan's wall time cannot be below the sum over the
        cores (`cpu_floor`)."""
        return {
            name: _group_cpu_seconds(process.pid) if process else 0.0
            for name, process in (("registry", self._registry), ("prefect", self._prefect))
        }

    def registry_log_size(self) -> int:
        return self.registry_log.stat().st_size if self.registry_log.exists() else 0

    def manifest_puts(self, since_offset: int, namespace: str) -> int:
        """Image pushes: successful manifest PUTs into `<namespace>/…`, from the registry's
        access log. A `docker push` of an image whose layers are all there still PUTs its
        manifest, so this counts every push, even a cheap one."""
        pattern = re.compile(
            rf'"PUT /v2/{re.escape(namespace)}/\S+/manifests/\S+ HTTP/[\d.]+" 201 '
        )
        with self.registry_log.open("rb") as handle:
            handle.seek(since_offset)
            text = handle.read().decode(errors="replace")
        return sum(1 for line in text.splitlines() if pattern.search(line))


class ImageTagWatcher:
    """Images built: distinct references tagged under `prefix`, from the engine's live event
    stream (`docker events`), watched while the tool runs.

    Both BuildKit (`docker build`, our tool, the old workflow) and the legacy builder (the
    Docker SDK, Prefect's `prefect_docker` step) emit an image `tag` event per build, even
    when every layer came from the cache, so this counts build invocations, not new layers.
    Live rather than `--since … --until …` afterwards: the engine keeps only its last 256
    events for replay, and a busy engine (legacy builds, the test suite) overflows that."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: set[str] = set()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> ImageTagWatcher:
        self._process = subprocess.Popen(
            [
                DOCKER,
                "events",
                "--since",
                f"{time.time():.3f}",
                "--filter",
                "type=image",
                "--filter",
                "event=tag",
                "--format",
                "{{json .}}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        time.sleep(0.5)  # connected before the tool starts
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            name = (event.get("Actor") or {}).get("Attributes", {}).get("name", "")
            if name.startswith(self.prefix):
                self.names.add(name)

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)  # let the last events arrive
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Each live process's id and its /proc stat fields from the state on (Linux): fields[0]
    is proc(5)'s field 3, fields[i] its field i + 3. Split after the name's last `)`, so a
    name holding spaces or parentheses shifts nothing; a process gone meanwhile is skipped."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(stat.parent.name), fields


def _group_cpu_seconds(group: int) -> float:
    """User + system CPU of every process in a process group, with the children each has
    waited for (`cutime`, `cstime`): proc(5)'s fields 5, 14-17."""
    ticks = sum(
        sum(int(f) for f in fields[11:15])
        for _, fields in process_stats()
        if int(fields[2]) == group
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_floor(cpu_seconds: float, stand_ins: dict[str, float]) -> float:
    """The least wall time the measured CPU fits in, on all of this machine's cores."""
    return (cpu_seconds + sum(stand_ins.values())) / (os.cpu_count() or 1)


@dataclass
class Measured:
    seconds: float
    exit_code: int
    peak_rss_mb: float
    cpu_seconds: float  # user + system of the tool and its children (not dockerd's)
    stdout: str
    stderr: str
    started: float  # time.time() at start, for the engine's event stream
    ended: float
    extra: dict[str, Any] = field(default_factory=dict)


def run_measured(command: list[str], env: dict[str, str], cwd: Path | None, logs: Path) -> Measured:
    """Run one tool as a child process; wall time, and from wait4's rusage its peak resident
    memory (Linux reports the largest of the process and its waited-for descendants) and CPU."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.time()
        clock = time.monotonic()
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group: stopped as a whole if we stop
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            raise
        seconds = time.monotonic() - clock
        ended = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        seconds=seconds,
        exit_code=process.returncode,
        peak_rss_mb=usage.ru_maxrss / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        started=started,
        ended=ended,
    )


def calibrate() -> float:
    """Seconds for a fixed piece of the work a plan does (parse, walk, dump), best of 3: the
    machine's speed at the time, beside each benchmark's figures (bench/README). The source
    is the standard library's (argparse), so the yardstick does not move when our code
    does."""
    import ast

    source = Path(argparse.__file__).read_text()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(8):
            tree = ast.parse(source)
            sum(1 for _ in ast.walk(tree))
            json.dumps(ast.dump(tree))
        best = min(best, time.perf_counter() - started)
    return best


def machine_info() -> dict[str, Any]:
    def first(path: str, prefix: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version(*command: str) -> str:
        try:
            return subprocess.run(
                list(command), capture_output=True, text=True, check=False, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    try:
        commit = version("git", "-C", str(REPO), "rev-parse", "HEAD")
        dirty = bool(version("git", "-C", str(REPO), "status", "--porcelain", "--", "src"))
    except OSError:
        commit, dirty = "?", False
    return {
        "nproc": os.cpu_count(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "memory": first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "os": _os_release(),
        "python": sys.version.split()[0],
        "docker_client": version(DOCKER, "version", "--format", "{{.Client.Version}}"),
        "docker_server": version(DOCKER, "version", "--format", "{{.Server.Version}}"),
        "docker_storage_driver": version(DOCKER, "info", "--format", "{{.Driver}}"),
        "prefect": version(
            str(VENV_BIN / "python"), "-c", "import prefect;print(prefect.__version__)"
        ),
        "prefect_docker": version(
            str(VENV_BIN / "python"),
            "-c",
            "from importlib.metadata import version;print(version('prefect-docker'))",
        ),
        "tool_commit": commit,
        "tool_src_dirty": dirty,
        "loadavg_at_start": list(os.getloadavg()),
    }


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()
