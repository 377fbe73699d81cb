"""A builder that outlives the runners (issue 27), on the real stack: the second Docker engine
of scripts/builder-engine.sh, on loopback TCP with TLS (its own data root, bridge and
subnet), is the `builder` of two "runners".

A runner here is what a fresh GitHub runner is: its own checkout (work folder), its own
TMPDIR, and no Docker engine of its own at all (DOCKER_HOST names a socket nobody listens
on), so whatever it builds, checks and pushes goes through the builder, with the TLS client
certificate given as PEM text in the environment, as a workflow passes a secret.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.build_seconds import LABEL
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels

from ..conftest import RemoteBuilder, Stack, fresh_suffix
from .test_cli import CLI

pytestmark = [pytest.mark.stack]
DOCKER = "/usr/bin/docker"
SLOW_STEP = 6  # seconds of the dependency step a cache hit skips


@dataclass
class Runner:
    """One runner's world: a checkout, a temp folder, no local engine."""

    root: Path  # the checkout
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=self.env, timeout=600, cwd=self.root
        )

    def leftovers(self) -> list[Path]:
        return sorted(Path(self.env["TMPDIR"]).iterdir())


def runner(base: Path, checkout: Path, remote_builder: RemoteBuilder, **extra: str) -> Runner:
    base.mkdir(parents=True)
    root = base / "checkout"
    shutil.copytree(checkout, root)
    (base / "tmp").mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "PFD_BUILDER", "DOCKER_"))
    }
    env.update(
        TMPDIR=str(base / "tmp"),
        DOCKER_HOST=f"unix://{base}/no-engine-here.sock",  # a runner without an engine
        PFD_VERBOSE="1",  # the build logs, on stderr
        **remote_builder.tls_env(),
        **extra,
    )
    return Runner(root, env)


def checkout(root: Path, project: str, salt: str) -> Path:
    """One folder whose Dockerfile has a slow dependency step (unique to this test: the
    shared engine keeps every earlier test's cache), then the code."""
    folder = root / "projects" / project / "shared"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef shared(n: int = 1) -> int:\n    return n\n"
    )
    (folder / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        f"RUN sleep {SLOW_STEP} && echo {salt} > /opt/dependency\n"
        "WORKDIR /opt/flow\nCOPY . .\n"
    )
    return root


def args(stack: Stack, remote_builder: RemoteBuilder, name: str) -> list[str]:
    return [
        "--projects-root", "projects", "--registry", f"{stack.registry}/{name}",
        "--base-image", stack.base_image, "--tenant", name, "--work-pool", f"pool-{name}", "--create-work-pool",
        "--repository", f"acme/{name}", "--builder", remote_builder.host,
    ]  # fmt: skip


def slow_step_cached(log: str) -> bool:
    """BuildKit's plain progress: `#7 [2/4] RUN sleep …`, then `#7 CACHED` on a hit."""
    step = re.search(r"^#(\d+) \[[^\]]*\] RUN sleep", log, re.MULTILINE)
    assert step, log[-3000:]
    return re.search(rf"^#{step.group(1)} CACHED$", log, re.MULTILINE) is not None


def build_seconds(log: str) -> float:
    found = re.search(r"built and pushed \S+ \([0-9.]+s: build ([0-9.]+)s", log)
    assert found, log[-3000:]
    return float(found.group(1))


def test_two_runners_share_the_builder_and_the_second_cold_build_is_a_cache_hit(
    stack: Stack, remote_builder: RemoteBuilder, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    salt = fresh_suffix(request)
    project = f"p{salt}"
    source = checkout(tmp_path / "source", project, salt)
    first = runner(tmp_path / "runner-1", source, remote_builder)
    second = runner(tmp_path / "runner-2", source, remote_builder)
    # The second runner's repository has the folder under another project (another
    # deployment), its code changed (another content tag), deployed to another registry
    # path: it has no deployed image to take an inline cache from, so only the shared
    # builder can make its cold build a hit.
    (second.root / "projects" / project).rename(second.root / "projects" / f"q{salt}")
    flow = second.root / "projects" / f"q{salt}" / "shared" / "flow.py"
    flow.write_text(flow.read_text() + "# a change of code, not of dependencies\n")

    deployed = first.cli("deploy", "--json", *args(stack, remote_builder, f"a{salt}"))
    assert deployed.returncode == 0, deployed.stderr[-4000:]
    assert not slow_step_cached(deployed.stderr)  # cold on the builder too: a new step
    assert build_seconds(deployed.stderr) >= SLOW_STEP

    planned = second.cli("plan", "--json", *args(stack, remote_builder, f"b{salt}"))
    assert planned.returncode == 0, planned.stderr[-4000:]
    build = json.loads(planned.stdout)["summary"]["build"]
    assert (build["kind"], build["address"], build["tls"], build["cache"]) == (
        "docker", remote_builder.host, True, "inline"
    )  # fmt: skip
    again = second.cli("deploy", "--json", *args(stack, remote_builder, f"b{salt}"))
    assert again.returncode == 0, again.stderr[-4000:]
    assert slow_step_cached(again.stderr), again.stderr[-4000:]
    assert build_seconds(again.stderr) < SLOW_STEP

    images = [json.loads(run.stdout)[0]["image"] for run in (deployed, again)]
    registry = RegistryClient()
    for image, run in zip(images, (deployed, again), strict=True):
        assert remote_builder.docker("image", "inspect", image).returncode == 0
        local = subprocess.run([DOCKER, "image", "inspect", image], capture_output=True)
        assert local.returncode != 0, f"{image} was built on the runner's own engine"
        # The build time, as a label of the image the registry holds (the matrix's cost).
        assert float(image_labels(registry, image)[LABEL]) == pytest.approx(
            build_seconds(run.stderr), abs=0.1
        )
    for one in (first, second):  # the Docker config with the TLS key: gone with the run
        assert one.leftovers() == []

    # The next plan of the first runner reads the label back: that folder's cost.
    flow = first.root / "projects" / project / "shared" / "flow.py"
    flow.write_text(flow.read_text() + "# another change\n")
    replanned = first.cli("plan", "--json", *args(stack, remote_builder, f"a{salt}"))
    assert replanned.returncode == 0, replanned.stderr[-4000:]
    [row] = json.loads(replanned.stdout)["items"]
    assert row["image_action"] == "build"
    assert row["image_build_seconds"] == pytest.approx(build_seconds(deployed.stderr), abs=0.1)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA the builder does not trust, and a client certificate it signed."""
    folder = tmp_path_factory.mktemp("other-ca")
    for key in ("ca-key", "key"):
        openssl(
            "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", f"{key}.pem", cwd=folder
        )
    openssl("req", "-new", "-x509", "-days", "2", "-key", "ca-key.pem", "-subj", "/CN=other CA",
            "-out", "ca.pem", cwd=folder)  # fmt: skip
    openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=intruder", "-out", "c.csr", cwd=folder)
    (folder / "c.ext").write_text("extendedKeyUsage = clientAuth\n")
    openssl("x509", "-req", "-days", "2", "-in", "c.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-extfile", "c.ext", "-out", "cert.pem", cwd=folder)  # fmt: skip
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("case", "exit_code", "names"),
    [
        ("a client certificate of another CA", 4, "builder-tls-cert (from environment PFD_BUILDER_TLS_CERT)"),
        ("the engine's CA is not the one given", 4, "builder-tls-ca (from environment PFD_BUILDER_TLS_CA)"),
        ("a key of another certificate", 3, "builder-tls-key (from environment PFD_BUILDER_TLS_KEY)"),
        ("no TLS for an engine that wants it", 4, "builder-tls-ca, builder-tls-cert and builder-tls-key"),
        ("nothing listens there", 4, "builder (from --builder)"),
    ],
)  # fmt: skip
def test_a_wrong_certificate_or_an_unreachable_builder_stops_before_any_build(
    stack: Stack,
    remote_builder: RemoteBuilder,
    other_ca: Path,
    tmp_path: Path,
    case: str,
    exit_code: int,
    names: str,
    request: pytest.FixtureRequest,
) -> None:
    salt = fresh_suffix(request)
    source = checkout(tmp_path / "source", f"p{salt}", salt)
    one = runner(tmp_path / "runner", source, remote_builder)
    options = args(stack, remote_builder, f"w{salt}")
    if case == "a client certificate of another CA":
        one.env.update(
            PFD_BUILDER_TLS_CERT=(other_ca / "cert.pem").read_text(),
            PFD_BUILDER_TLS_KEY=(other_ca / "key.pem").read_text(),
        )
    elif case == "the engine's CA is not the one given":
        one.env["PFD_BUILDER_TLS_CA"] = (other_ca / "ca.pem").read_text()
    elif case == "a key of another certificate":
        one.env["PFD_BUILDER_TLS_KEY"] = (other_ca / "key.pem").read_text()
    elif case == "no TLS for an engine that wants it":
        for name in ("CA", "CERT", "KEY"):
            del one.env[f"PFD_BUILDER_TLS_{name}"]
    else:
        options[-1] = f"tcp://127.0.0.1:{free_port()}"
    done = one.cli("deploy", *options)
    assert done.returncode == exit_code, done.stderr[-3000:]
    assert names in done.stderr
    assert f"building p{salt}/shared" not in done.stderr  # nothing was built
    assert f"p{salt}/shared" not in remote_builder.docker("images").stdout
    assert one.leftovers() == []
    key = (remote_builder.tls_dir / "key.pem").read_text().splitlines()[1]
    assert key not in done.stdout + done.stderr


def test_a_builder_setting_of_no_known_form_is_refused_at_once(
    stack: Stack, remote_builder: RemoteBuilder, tmp_path: Path
) -> None:
    source = checkout(tmp_path / "source", "pbad", "bad")
    one = runner(tmp_path / "runner", source, remote_builder)
    options = args(stack, remote_builder, "bad")
    options[-1] = "127.0.0.1:23727"  # no scheme
    done = one.cli("plan", *options)
    assert done.returncode == 3, done.stderr
    assert "builder '127.0.0.1:23727' (from --builder) is not a builder address" in done.stderr


def test_the_builders_bridge_is_made_idempotently_even_by_several_ups_at_once() -> None:
    """A CI run of `make test` stopped in `stack.sh up` at "Error: ipv4: Address already
    assigned." from the bridge step: a look (`ip addr show | grep -q`) then `ip addr add` is a
    race, and under pipefail a grep that stops reading early fails the look. Six at once, on a
    bridge of this test's own, three times (the first round on no bridge, the next two on one
    that has its address): each exits 0 and the bridge has its one address."""
    script = Path(__file__).parents[2] / "scripts" / "builder-engine.sh"
    bridge, subnet = f"pfd-t{os.getpid() % 1000}", f"172.29.{100 + os.getpid() % 100}.1/24"
    env = {**os.environ, "PFD_BUILDER_BRIDGE": bridge, "PFD_BUILDER_SUBNET": subnet}
    try:
        for _ in range(3):
            ups = [
                subprocess.Popen(["bash", str(script), "bridge"], env=env, stderr=subprocess.PIPE)
                for _ in range(6)
            ]
            errors = [up.communicate(timeout=30)[1].decode() for up in ups]
            assert [up.returncode for up in ups] == [0] * 6, errors
        shown = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "dev", bridge], capture_output=True, text=True
        )
        assert re.findall(r"inet (\S+)", shown.stdout) == [subnet]
    finally:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def test_a_stale_pid_file_whose_pid_is_another_program_s_does_not_stop_the_builder() -> None:
    """A machine restored from its disk but not its processes (CI's, after its first red
    run) may give the pid of the builder's pid file to another program: `up` took that for a
    dockerd, started another anyway, and that one refused ("pid file found, ensure docker is
    not running"), a minute's wait and a failed stack. An engine of this test's own (folder,
    port, bridge), the pid file holding a `sleep`'s pid: it starts, then is removed."""
    import tempfile

    script = Path(__file__).parents[2] / "scripts" / "builder-engine.sh"
    tag = os.getpid() % 100
    # A short folder: containerd's sockets live under it, and a unix socket's path has at
    # most 104 bytes (pytest's tmp_path made containerd fail to start).
    builder = Path(tempfile.mkdtemp(prefix="pfdb", dir="/tmp"))
    env = {
        **os.environ,
        "PFD_BUILDER_DIR": str(builder),
        "PFD_BUILDER_PORT": str(23800 + tag),
        "PFD_BUILDER_BRIDGE": f"pfd-s{tag}",
        "PFD_BUILDER_SUBNET": f"172.29.{200 + tag % 50}.1/24",
    }
    other = subprocess.Popen(["sleep", "300"])
    try:
        (builder / "docker.pid").write_text(f"{other.pid}\n")
        up = subprocess.run(
            ["bash", str(script), "up"], env=env, capture_output=True, text=True, timeout=120
        )
        assert up.returncode == 0, up.stderr + (builder / "dockerd.log").read_text()[-2000:]
        assert other.poll() is None  # the other program is left alone
    finally:
        other.kill()
        subprocess.run(["bash", str(script), "reset"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(builder, ignore_errors=True)
