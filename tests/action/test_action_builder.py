"""The `builder` inputs as the runner passes them, in the action's own image (a stand-alone
docker-buildx 0.13, no docker CLI): a remote Docker engine with its TLS client certificate
given as PEM text, the plan and the summary saying where it builds, the matrix costing the
folder by the build time the image now carries; and buildx's remote driver, created with
the command line its documentation gives, refused clearly when nothing answers there."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.build_seconds import LABEL
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels
from prefect_flow_deploy.core.credentials import Credentials

from ..conftest import RemoteBuilder, Scenario, Stack
from ..integration.test_canary_secrets import shown
from .runner import DOCKER, build_action_image, make_workspace, run_action
from .test_action import inputs

pytestmark = [pytest.mark.stack, pytest.mark.action]


@pytest.fixture(scope="module")
def action_image(stack: Stack) -> str:
    return build_action_image()


def tls_inputs(remote_builder: RemoteBuilder) -> dict[str, str]:
    return {
        f"builder-tls-{name}": (remote_builder.tls_dir / f"{name}.pem").read_text()
        for name in ("ca", "cert", "key")
    }


def key_lines(remote_builder: RemoteBuilder) -> list[str]:
    key = (remote_builder.tls_dir / "key.pem").read_text()
    return [line for line in key.splitlines() if line and not line.startswith("-----")]


def workspace(scenario: Scenario, tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "source"
    folder = source / scenario.project("remote") / "built"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef built(n: int = 1) -> int:\n    return n\n"
    )
    (folder / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        f"RUN sleep 2 && echo {scenario.suffix} > /opt/dependency\nWORKDIR /opt/flow\nCOPY . .\n"
    )
    root = make_workspace(tmp_path / "workspace", source)
    return root, root / "projects" / scenario.project("remote") / "built" / "flow.py"


def test_the_action_builds_checks_and_pushes_on_the_remote_engine(
    action_image: str,
    stack: Stack,
    scenario: Scenario,
    remote_builder: RemoteBuilder,
    tmp_path: Path,
) -> None:
    root, flow = workspace(scenario, tmp_path)
    given = inputs(scenario, stack, builder=remote_builder.host, **tls_inputs(remote_builder))
    step = run_action(action_image, root, tmp_path / "runner", given)
    assert step.exit_code == 0, step.log[-4000:]
    [image] = step.json("images")  # type: ignore[misc]
    assert image["status"] == "built"
    reference = image["image"]
    assert remote_builder.docker("image", "inspect", reference).returncode == 0
    local = subprocess.run([DOCKER, "image", "inspect", reference], capture_output=True)
    assert local.returncode != 0, "built on the runner's engine, not the builder"
    assert (
        f"Builds on the Docker engine {remote_builder.host} (TLS client certificate); inline "
        "cache" in step.summary
    )
    # (`::add-mask::` commands carry them to the runner, which never echoes them)
    for text in (shown(step.stdout), step.stderr, json.dumps(step.outputs), step.summary):
        assert not any(line in text for line in key_lines(remote_builder))
    assert not any(line in step.files_written for line in key_lines(remote_builder))
    login = {stack.auth_registry: Credentials(stack.auth_user, stack.auth_password)}
    seconds = float(image_labels(RegistryClient(login), reference)[LABEL])

    # The next commit's plan: the matrix costs the folder by that build.
    flow.write_text(flow.read_text() + "# changed\n")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(root)]
    subprocess.run([*git, "commit", "-qam", "change"], check=True)
    planned = run_action(
        action_image, root, tmp_path / "runner-2", {**given, "dry-run": "true", "comment": "false"}
    )
    assert planned.exit_code == 0, planned.log[-4000:]
    [shard] = planned.json("matrix")["include"]  # type: ignore[index]
    assert shard["folders"] == f"{scenario.project('remote')}/built"
    assert shard["seconds"] == f"{seconds:.0f}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("builder", ["buildkit", "buildx:default"])
def test_a_buildkit_builder_that_cannot_serve_is_refused_before_any_build(
    action_image: str,
    stack: Stack,
    scenario: Scenario,
    remote_builder: RemoteBuilder,
    tmp_path: Path,
    builder: str,
) -> None:
    """No BuildKit daemon is available here: a `buildkit://` endpoint where nothing listens
    gets past `buildx create --driver remote --driver-opt cacert=…,cert=…,key=…,servername=…`
    (buildx 0.13 accepts the command line) and fails at `buildx inspect --bootstrap`; the
    engine's own builder (`buildx:default`, the docker driver) cannot export a registry
    cache. Both stop with the setting named, before anything is built."""
    root, _ = workspace(scenario, tmp_path)
    if builder == "buildkit":
        address = f"buildkit://127.0.0.1:{free_port()}"
        given = inputs(scenario, stack, builder=address, **tls_inputs(remote_builder))
    else:
        address = builder
        given = inputs(scenario, stack, builder=address)
    step = run_action(action_image, root, tmp_path / "runner", given, timeout=300)
    if builder == "buildkit":
        assert step.exit_code == 4, step.log[-4000:]
        assert f"cannot reach the builder {address} (from input builder): `buildx inspect`" in (
            step.log
        )
    else:
        assert step.exit_code == 3, step.log[-4000:]
        assert "uses buildx's docker driver, which cannot export a registry cache" in step.log
    assert not re.search(rf"building {re.escape(scenario.project('remote'))}/built", step.log)
    assert not any(line in shown(step.log) for line in key_lines(remote_builder))
