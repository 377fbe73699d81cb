"""Canary secrets (issue 15): a distinct value in every secret input and environment variable,
then one test per place a secret could leak to. Two real runs feed them: the command line
(`deploy --json`, build logs on), and the action as the runner runs it (tests/action), both
through the registry that wants a login (:5001) against the stack's Prefect server.

Each canary is used for real: the registry password logs the push in, the build secrets are
mounted by a RUN that prints them (so the log must mask them), the API key goes out with
every Prefect request (the local server ignores it, as `test_action.API_KEY` notes), the
GitHub token with every GitHub call (to a closed port here: an outage's warning must not
show it). A build arg named like a credential is warned about and masked; it is kept in the
image's history by Docker's design (the README points to build-secrets), so the image tests
leave that one out.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..action.runner import StepResult, build_action_image, make_workspace, run_action
from ..conftest import RemoteBuilder, Stack, fresh_suffix
from ..helpers import server_api
from .test_build_secrets import DOCKER, layer_digests, registry_blobs, streams_contain
from .test_cli import CLI

pytestmark = [pytest.mark.stack]


@dataclass(frozen=True)
class Canaries:
    """One distinct value per secret input and environment variable."""

    registry_user: str
    registry_password: str  # the :5001 registry's real password: it must log in
    prefect_api_key: str
    github_token: str
    build_secret: str  # --build-secret / the build-secrets input
    build_secrets_env: str  # PFD_BUILD_SECRETS
    build_arg: str  # a build arg named like a credential, from the config file

    def all(self) -> dict[str, str]:
        """Each value, and the login as a Docker config holds it (base64 of user:password)."""
        values = {k: v for k, v in vars(self).items() if k != "registry_user"}
        login = f"{self.registry_user}:{self.registry_password}".encode()
        return {**values, "registry_login_base64": base64.b64encode(login).decode()}

    def kept_out_of_images(self) -> dict[str, str]:
        """Every canary but the build arg, which Docker records in the image by design."""
        return {k: v for k, v in self.all().items() if k != "build_arg"}


def found(canaries: dict[str, str], text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return sorted(name for name, value in canaries.items() if value.encode() in data)


def shown(log: str) -> str:
    """What the runner shows of a log: `::add-mask::` commands are never echoed."""
    return "\n".join(line for line in log.splitlines() if not re.match(r"\s*::add-mask ?::", line))


def own_dockerfile(salt: str, extra: str = "") -> str:
    """Mounts both build secrets and prints them: the build log must mask them. (`salt`:
    BuildKit's cache key ignores a secret's value, and a cached RUN prints nothing.)"""
    return (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        "RUN --mount=type=secret,id=canary --mount=type=secret,id=envsecret "
        f"sh -c 'echo {salt}; cat /run/secrets/canary /run/secrets/envsecret; echo; "
        "test -s /run/secrets/canary && test -s /run/secrets/envsecret'\n"
        f"{extra}WORKDIR /opt/flow\nCOPY . .\n"
    )


def write_repository(root: Path, project: str, tenant: str, canaries: Canaries) -> Path:
    """A checkout: an own-Dockerfile folder using the secrets, a default-recipe folder, and
    the config file giving the tenant a build arg named like a credential."""
    for folder, dockerfile in (("secretive", own_dockerfile(project)), ("plain", None)):
        path = root / "projects" / project / folder
        path.mkdir(parents=True)
        (path / "flow.py").write_text(
            f"from prefect import flow\n\n\n@flow\ndef {folder}(n: int = 1) -> int:\n    return n\n"
        )
        if dockerfile:
            (path / "Dockerfile").write_text(dockerfile)
    config = {"tenants": {tenant: {"build-args": {"API_TOKEN": canaries.build_arg}}}}
    (root / "prefect-flow-deploy.yaml").write_text(json.dumps(config))
    return root


@dataclass
class CliRun:
    deploy: subprocess.CompletedProcess[str]  # deploy --json
    plan: subprocess.CompletedProcess[str]  # plan, plain lines
    images: list[str]
    deployments: list[str]


@dataclass
class ActionRun:
    step: StepResult
    images: list[str]
    deployments: list[str]


@pytest.fixture(scope="module")
def canaries(stack: Stack) -> Canaries:
    tag = uuid.uuid4().hex
    return Canaries(
        registry_user=stack.auth_user,
        registry_password=stack.auth_password,
        prefect_api_key=f"pnu_canary_key_{tag}",
        github_token=f"ghs_canary_token_{tag}",
        build_secret=f"canary-build-secret-{tag}",
        build_secrets_env=f"canary-env-secret-{tag}",
        build_arg=f"canary-build-arg-{tag}",
    )


def cli_env(stack: Stack, canaries: Canaries, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    return {
        **env,
        "PFD_REGISTRY_USERNAME": stack.auth_user,
        "PFD_REGISTRY_PASSWORD": canaries.registry_password,
        "PREFECT_API_KEY": canaries.prefect_api_key,
        "PFD_BUILD_SECRETS": f"envsecret={canaries.build_secrets_env}\n",
        "GITHUB_TOKEN": canaries.github_token,
        "PFD_VERBOSE": "1",  # every build log on stderr: the secrets printed there are masked
        **extra,
    }


def cli_args(stack: Stack, root: Path, suffix: str, canaries: Canaries) -> list[str]:
    return [
        "--projects-root", str(root / "projects"), "--registry", f"{stack.auth_registry}/c{suffix}",
        "--base-image", stack.base_image, "--tenant", f"c{suffix}", "--work-pool", f"pool-{suffix}",
        "--create-work-pool", "--repository", f"acme/canary-{suffix}", "--build-secret", f"canary={canaries.build_secret}",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def cli_run(
    stack: Stack,
    canaries: Canaries,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> CliRun:
    suffix = fresh_suffix(request)
    root = write_repository(tmp_path_factory.mktemp("cli"), f"c{suffix}", f"c{suffix}", canaries)
    env = cli_env(stack, canaries)
    args = cli_args(stack, root, suffix, canaries)
    deploy = subprocess.run(
        [*CLI, "deploy", "--json", *args], capture_output=True, text=True, env=env, timeout=600,
        cwd=root,  # the config file is at the repository root
    )  # fmt: skip
    assert deploy.returncode == 0, deploy.stderr
    plan = subprocess.run(
        [*CLI, "plan", *args], capture_output=True, text=True, env=env, timeout=600, cwd=root
    )
    rows = json.loads(deploy.stdout)
    return CliRun(
        deploy,
        plan,
        sorted({r["image"] for r in rows}),
        sorted(f"{r['flow']}/{r['deployment']}" for r in rows),
    )


@pytest.fixture(scope="module")
def action_run(
    stack: Stack,
    canaries: Canaries,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> ActionRun:
    image = build_action_image()
    suffix = fresh_suffix(request)
    temp = tmp_path_factory.mktemp("action")
    source = write_repository(temp / "source", f"a{suffix}", f"a{suffix}", canaries)
    workspace = make_workspace(temp / "workspace", source / "projects")
    (workspace / "prefect-flow-deploy.yaml").write_text(
        (source / "prefect-flow-deploy.yaml").read_text()
    )
    inputs = {
        "registry": f"{stack.auth_registry}/a{suffix}",
        "registry-username": stack.auth_user,
        "registry-password": canaries.registry_password,
        "prefect-api-url": stack.env["PREFECT_API_URL"],
        "prefect-api-key": canaries.prefect_api_key,
        "github-token": canaries.github_token,
        "build-secrets": f"canary={canaries.build_secret}\n",
        "base-image": stack.base_image,
        "tenant": f"a{suffix}",
        "work-pool": f"pool-{suffix}",
        "create-work-pool": "true",
    }
    env = {
        "PREFECT_API_KEY": canaries.prefect_api_key,
        "PFD_BUILD_SECRETS": f"envsecret={canaries.build_secrets_env}\n",
    }
    step = run_action(image, workspace, temp / "runner", inputs, env=env, debug=True)
    assert step.exit_code == 0, step.log
    rows = step.json("deployments")
    assert isinstance(rows, list)
    return ActionRun(
        step,
        sorted({r["image"] for r in rows}),
        sorted(r["deployment"] for r in rows),
    )


def test_no_canary_in_stdout(cli_run: CliRun, action_run: ActionRun, canaries: Canaries) -> None:
    """The command line's stdout (the --json run's and a plain plan's) and the action's
    stdout as the runner shows it (workflow commands are read from there)."""
    assert "secretive" in cli_run.deploy.stdout and action_run.step.stdout  # something to search
    for text in (cli_run.deploy.stdout, cli_run.plan.stdout, shown(action_run.step.stdout)):
        assert not found(canaries.all(), text)


def test_no_canary_in_stderr(cli_run: CliRun, action_run: ActionRun, canaries: Canaries) -> None:
    """stderr with every build log (the RUN printed both build secrets: masked as ***)."""
    for log in (cli_run.deploy.stderr, action_run.step.log):
        assert "***" in log  # the printed secrets were there, and masked
    assert "API_TOKEN" in cli_run.deploy.stderr  # the build arg's warning names it
    for text in (cli_run.deploy.stderr, cli_run.plan.stderr, shown(action_run.step.stderr)):
        assert not found(canaries.all(), text)


def test_no_canary_in_json(cli_run: CliRun, canaries: Canaries) -> None:
    rows = json.loads(cli_run.deploy.stdout)
    assert {r["status"] for r in rows} == {"created"}
    assert not found(canaries.all(), json.dumps(rows))


def test_no_canary_in_github_output(action_run: ActionRun, canaries: Canaries) -> None:
    outputs = action_run.step.outputs
    assert {"deployments", "images", "built", "changed", "failed", "matrix"} <= set(outputs)
    assert not found(canaries.all(), json.dumps(outputs))


def test_no_canary_in_step_summary(action_run: ActionRun, canaries: Canaries) -> None:
    assert "secretive" in action_run.step.summary
    assert not found(canaries.all(), action_run.step.summary)
    # Nor in any other file command the step wrote (GITHUB_ENV, GITHUB_PATH, GITHUB_STATE).
    assert not found(canaries.all(), action_run.step.files_written)


def all_images(cli_run: CliRun, action_run: ActionRun) -> list[str]:
    images = [*cli_run.images, *action_run.images]
    assert len(images) == 4
    return images


def test_no_canary_in_image_layers(
    cli_run: CliRun, action_run: ActionRun, canaries: Canaries
) -> None:
    """Every layer and file of every image built (`docker save`)."""
    needles = [v.encode() for v in canaries.kept_out_of_images().values()]
    for image in all_images(cli_run, action_run):
        assert not streams_contain([DOCKER, "save", image], needles), image


def test_no_canary_in_image_history(
    cli_run: CliRun, action_run: ActionRun, canaries: Canaries
) -> None:
    """The history (each RUN's command line) and the image config."""
    recorded = b""
    for image in all_images(cli_run, action_run):
        for command in (["history", "--no-trunc", image], ["image", "inspect", image]):
            text = subprocess.run([DOCKER, *command], capture_output=True, check=True).stdout
            recorded += text
            assert not found(canaries.kept_out_of_images(), text), (image, command)
    assert b"cat /run/secrets/canary" in recorded  # the RUN that read the secrets is there


def test_no_canary_in_build_cache(
    stack: Stack, cli_run: CliRun, action_run: ActionRun, canaries: Canaries
) -> None:
    """Every blob pushed (manifest, config with BuildKit's inline cache, layers), read back
    from the registry the next build takes its cache from."""
    base_layers = layer_digests(stack.base_image)
    auth = (stack.auth_user, stack.auth_password)
    for image in all_images(cli_run, action_run):
        pushed = registry_blobs(image, base_layers, auth)
        config = pushed[json.loads(pushed["manifest"])["config"]["digest"]]
        assert b"moby.buildkit.cache.v0" in config  # the inline cache is in there
        for name, data in pushed.items():
            assert not found(canaries.kept_out_of_images(), data), (image, name)


def test_no_canary_in_deployments(
    cli_run: CliRun, action_run: ActionRun, canaries: Canaries
) -> None:
    """Each deployment as the server holds it (job variables, pull steps, parameters…)."""
    names = [*cli_run.deployments, *action_run.deployments]
    assert len(names) == 4
    with server_api() as client:
        for name in names:
            flow, _, deployment = name.partition("/")
            answer = client.get(f"deployments/name/{flow}/{deployment}")
            answer.raise_for_status()
            assert answer.json()["job_variables"]["image"]
            assert not found(canaries.all(), answer.text), name


@pytest.fixture
def interrupted_checkout(
    stack: Stack, canaries: Canaries, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Path, dict[str, str], list[str]]]:
    suffix = fresh_suffix(request)
    root = write_repository(tmp_path / "repo", f"c{suffix}", f"c{suffix}", canaries)
    slow = root / "projects" / f"c{suffix}" / "secretive" / "Dockerfile"
    slow.write_text(own_dockerfile(suffix, extra="RUN sleep 120\n"))
    temp, docker_config = tmp_path / "tmp", tmp_path / "docker-config"
    temp.mkdir()
    docker_config.mkdir()
    # The user's own Docker config (a login to another registry): read, never written.
    (docker_config / "config.json").write_text('{"auths": {"other.example": {"auth": "eDp5"}}}')
    env = cli_env(stack, canaries, TMPDIR=str(temp), DOCKER_CONFIG=str(docker_config))
    yield tmp_path, env, cli_args(stack, root, suffix, canaries)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_no_canary_on_disk_after_a_signal(
    interrupted_checkout: tuple[Path, dict[str, str], list[str]],
    canaries: Canaries,
    signum: signal.Signals,
) -> None:
    """A signal mid-build, while the login's Docker config and the build secrets' files
    exist: afterwards no file under TMPDIR, DOCKER_CONFIG or the checkout holds a canary."""
    tmp_path, env, args = interrupted_checkout
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}  # the user's own
    process = subprocess.Popen(
        [*CLI, "deploy", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        cwd=tmp_path / "repo",  # the repository: its config file gives the canary build arg
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    deadline = time.monotonic() + 180
    while not any("building" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the build is under way (its `RUN sleep 120` holds it there)
    secrets_on_disk = files_holding(tmp_path, canaries, before)
    assert secrets_on_disk, "the login and the build secrets are on disk mid-build"
    process.send_signal(signum)
    assert process.wait(timeout=15) == 128 + signum
    reader.join(timeout=5)
    assert files_holding(tmp_path, canaries, before) == {}, secrets_on_disk
    assert not found(canaries.all(), "".join(lines))


def files_holding(
    folder: Path, canaries: Canaries | dict[str, str], users: dict[Path, bytes]
) -> dict[str, list[str]]:
    """Every file under `folder` (TMPDIR, DOCKER_CONFIG, the checkout) that holds a canary,
    but the user's own files as they were (the config file holds the build arg's value)."""
    values = canaries.all() if isinstance(canaries, Canaries) else canaries
    holding = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and users.get(path) != path.read_bytes():
            hits = found(values, path.read_bytes())
            if hits:
                holding[str(path.relative_to(folder))] = hits
    return holding


# -- the builder's TLS client key (issue 27) -------------------------------------------------
# A real key (it must open the shared remote builder, tests/conftest.py's `remote_builder`),
# given as PEM text in PFD_BUILDER_TLS_KEY as a workflow passes a secret: each of its lines
# is a canary, in every place the run writes and on disk after the run or a signal.


def key_canaries(remote_builder: RemoteBuilder) -> dict[str, str]:
    key = (remote_builder.tls_dir / "key.pem").read_text()
    lines = [line for line in key.splitlines() if not line.startswith("-----")]
    return {
        "builder_tls_key": key.strip(),
        **{f"builder_tls_key_line_{i}": v for i, v in enumerate(lines)},
    }


def builder_run_env(
    stack: Stack, canaries: Canaries, remote_builder: RemoteBuilder, temp: Path
) -> dict[str, str]:
    return cli_env(stack, canaries, TMPDIR=str(temp), **remote_builder.tls_env())


def builder_args(
    stack: Stack, root: Path, suffix: str, canaries: Canaries, builder: str
) -> list[str]:
    return [*cli_args(stack, root, suffix, canaries), "--builder", builder]


def test_no_builder_key_in_outputs_blobs_or_on_disk(
    stack: Stack,
    canaries: Canaries,
    remote_builder: RemoteBuilder,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    suffix = fresh_suffix(request)
    root = write_repository(tmp_path / "repo", f"c{suffix}", f"c{suffix}", canaries)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = builder_run_env(stack, canaries, remote_builder, temp)
    args = builder_args(stack, root, suffix, canaries, remote_builder.host)
    deploy = subprocess.run(
        [*CLI, "deploy", "--json", *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert deploy.returncode == 0, deploy.stderr[-3000:]
    assert "building on the Docker engine" in deploy.stderr  # the key was used
    keys = key_canaries(remote_builder)
    assert not found(keys, deploy.stdout + deploy.stderr)
    rows = json.loads(deploy.stdout)
    auth = (stack.auth_user, stack.auth_password)
    base_layers = layer_digests(stack.base_image)
    for image in sorted({r["image"] for r in rows}):
        for name, data in registry_blobs(image, base_layers, auth).items():
            assert not found(keys, data), (image, name)
    assert files_holding(tmp_path, keys, {}) == {}


def test_no_builder_key_on_disk_after_a_signal(
    stack: Stack,
    canaries: Canaries,
    remote_builder: RemoteBuilder,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """SIGTERM mid-build on the remote builder, while the key is on disk (the Docker
    context's TLS files): afterwards no file under TMPDIR or the checkout holds it."""
    suffix = fresh_suffix(request)
    root = write_repository(tmp_path / "repo", f"c{suffix}", f"c{suffix}", canaries)
    slow = root / "projects" / f"c{suffix}" / "secretive" / "Dockerfile"
    slow.write_text(own_dockerfile(suffix, extra="RUN sleep 120\n"))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = builder_run_env(stack, canaries, remote_builder, temp)
    args = builder_args(stack, root, suffix, canaries, remote_builder.host)
    keys = key_canaries(remote_builder)
    process = subprocess.Popen(
        [*CLI, "deploy", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    deadline = time.monotonic() + 180
    while not any(f"building c{suffix}" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)
    assert files_holding(tmp_path, keys, {}), "the key is on disk mid-build"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 128 + signal.SIGTERM
    reader.join(timeout=5)
    assert files_holding(tmp_path, keys, {}) == {}
    assert not found(keys, "".join(lines))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
