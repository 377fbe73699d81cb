"""Shared fixtures. Tests that need the local stack (dockerd, registry, Prefect server,
Docker worker) bring it up through `scripts/stack.sh up`, which is idempotent: a missing
service is started, never silently skipped."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before anything imports prefect (its settings are read once): the stack's server, never an
# ephemeral one.
os.environ.setdefault("PREFECT_API_URL", "http://127.0.0.1:4200/api")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "projects"


@dataclass(frozen=True)
class Stack:
    env: dict[str, str]

    @property
    def registry(self) -> str:
        return self.env["PFD_REGISTRY"]

    @property
    def base_image(self) -> str:
        return self.env["PFD_BASE_IMAGE"]

    @property
    def worker_pool(self) -> str:
        return self.env["PFD_WORK_POOL"]

    @property
    def auth_registry(self) -> str:
        return self.env["PFD_AUTH_REGISTRY"]

    @property
    def auth_user(self) -> str:
        return self.env["PFD_AUTH_USER"]

    @property
    def auth_password(self) -> str:
        return Path(self.env["PFD_AUTH_PASSWORD_FILE"]).read_text().strip()


@pytest.fixture(scope="session")
def stack() -> Stack:
    script = ROOT / "scripts" / "stack.sh"
    up = subprocess.run(["bash", str(script), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        pytest.fail(f"scripts/stack.sh up failed:\n{up.stdout}\n{up.stderr}")
    printed = subprocess.run(
        ["bash", str(script), "env"], capture_output=True, text=True, check=True
    )
    env = {}
    for line in printed.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return Stack(env)


@dataclass(frozen=True)
class RemoteBuilder:
    """The second Docker engine on loopback TCP with TLS (scripts/builder-engine.sh): the
    builder several "runners" share. Its own data root, bridge and subnet."""

    host: str  # tcp://127.0.0.1:23727, what `builder` is set to
    tls_dir: Path  # ca.pem, cert.pem, key.pem (the client's), made with openssl
    socket: str  # the same engine's unix socket, for a test's own look at it

    def tls_env(self) -> dict[str, str]:
        """The client certificate as a workflow gives it: PEM text in the environment."""
        return {
            f"PFD_BUILDER_TLS_{name.upper()}": (self.tls_dir / f"{name}.pem").read_text()
            for name in ("ca", "cert", "key")
        }

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/usr/bin/docker", "-H", self.socket, *args], capture_output=True, text=True
        )


@pytest.fixture(scope="session")
def remote_builder(stack: Stack) -> RemoteBuilder:
    """Started once (reused while it answers; `scripts/stack.sh up` starts it too)."""
    script = ROOT / "scripts" / "stack.sh"
    up = subprocess.run(["bash", str(script), "builder"], capture_output=True, text=True)
    if up.returncode != 0:
        pytest.fail(f"scripts/stack.sh builder failed:\n{up.stdout}\n{up.stderr}")
    env = stack.env
    for key in ("PFD_BUILDER_HOST", "PFD_BUILDER_TLS_DIR", "PFD_BUILDER_SOCKET"):
        if key not in env:
            pytest.fail(f"scripts/stack.sh env does not print {key}")
    return RemoteBuilder(
        env["PFD_BUILDER_HOST"], Path(env["PFD_BUILDER_TLS_DIR"]), env["PFD_BUILDER_SOCKET"]
    )


@dataclass(frozen=True)
class PrefectServer:
    """A Prefect server of the stack that deployments are written to."""

    url: str
    version: str
    # The stack's main server runs Prefect's services (the scheduler makes upcoming runs); the
    # oldest-version server answers the API only: nothing runs flows there.
    schedules_runs: bool


@pytest.fixture(params=["pinned", "oldest"])
def server(request: pytest.FixtureRequest, stack: Stack) -> PrefectServer:
    """The pinned Prefect (whose client the engine writes with) and the oldest server version
    the tool supports (server_version.OLDEST_SUPPORTED, started by scripts/stack.sh)."""
    if request.param == "oldest":
        return PrefectServer(
            stack.env["PFD_OLDEST_PREFECT_API_URL"], stack.env["PFD_OLDEST_PREFECT_VERSION"], False
        )
    return PrefectServer(stack.env["PREFECT_API_URL"], importlib.metadata.version("prefect"), True)


@dataclass
class Scenario:
    """One test's isolated world: its own tenant (so plans never see other tests'
    deployments), its own registry namespace and its own project names."""

    root: Path
    suffix: str
    registry: str
    tenant: str
    work_pool: str

    def project(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def folder(self, project: str, folder: str) -> Path:
        return self.root / self.project(project) / folder


@pytest.fixture
def scenario(stack: Stack, tmp_path: Path, request: pytest.FixtureRequest) -> Scenario:
    suffix = fresh_suffix(request)
    root = tmp_path / "repo" / "projects"
    root.mkdir(parents=True)
    return Scenario(root, suffix, f"{stack.registry}/t{suffix}", f"t{suffix}", f"pool-{suffix}")


def fresh_suffix(request: pytest.FixtureRequest) -> str:
    """A random suffix for a test's names, whose deployments are deleted once the test (or
    the module, for a module's fixture) is done."""
    suffix = uuid.uuid4().hex[:8]
    request.addfinalizer(lambda: remove_deployments_of(suffix))
    return suffix


def remove_deployments_of(suffix: str) -> None:
    """Delete, on the stack's server, the deployments a test made: those whose name or flow
    name holds its random suffix. Every plan reads all the deployments the tool manages, so
    the ~1,600 a full run used to leave behind made each later plan slower: with 3,224 on the
    server, one read took 1.7 s, and over a whole run the server used 591 CPU seconds of the
    machine's ~1,750 (2026-12-04; 11 s instead of 151 s for test_deploy and test_cli on an
    empty server). Best effort: a test whose server is gone has nothing to clean."""
    import httpx

    from .helpers import server_api  # helpers imports this module

    try:
        with server_api() as client:
            ids: set[str] = set()
            for body in (
                {"deployments": {"name": {"like_": suffix}}},
                {"flows": {"name": {"like_": suffix}}},
            ):
                while True:
                    page = (
                        client.post("deployments/filter", json={**body, "limit": 200, "offset": 0})
                        .raise_for_status()
                        .json()
                    )
                    fresh = {d["id"] for d in page} - ids
                    for deployment_id in fresh:
                        client.delete(f"deployments/{deployment_id}").raise_for_status()
                    ids |= fresh
                    if len(page) < 200 or not fresh:
                        break
    except httpx.HTTPError:
        pass


def copy_example(scenario: Scenario, project: str, folder: str) -> Path:
    target = scenario.folder(project, folder)
    shutil.copytree(EXAMPLES / project / folder, target)
    return target


def write_flow(
    folder: Path, function: str = "hello", body: str = "return 'ok'", **files: str
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flow.py").write_text(
        f"from prefect import flow\n\n\n@flow\ndef {function}(name: str = 'world') -> str:\n    {body}\n"
    )
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)
    return folder


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


@pytest.fixture(autouse=True)
def _log_secrets_per_test() -> Iterator[None]:
    """The logger is one object for the process: a secret one test masks (a one-letter
    password) must not redact the next test's output."""
    from prefect_flow_deploy.core.logger import log

    saved = list(log._secrets)
    yield
    log._secrets[:] = saved
