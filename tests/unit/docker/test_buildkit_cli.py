"""Which program builds with BuildKit: a docker client that can, else buildx on its own
(the action's image ships only the buildx plugin). The programs here are small scripts that
answer the version calls the way the real ones do; the real build paths run in the
integration tests (docker client) and the action tests (buildx alone)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import DockerUnavailableError
from prefect_flow_deploy.docker.buildkit_cli import buildkit_command


@pytest.fixture(autouse=True)
def fresh_lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PFD_DOCKER_CLI", raising=False)
    monkeypatch.delenv("PFD_BUILDX", raising=False)
    buildkit_command.cache_clear()
    yield
    buildkit_command.cache_clear()


def program(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def docker_client(path: Path, version: str, has_buildx: bool) -> str:
    buildx = "exit 0" if has_buildx else "echo 'unknown command: docker buildx' >&2; exit 1"
    return program(
        path,
        f'if [ "$1" = version ]; then echo {version}; exit 0; fi\n'
        f'if [ "$1" = buildx ]; then {buildx}; fi\nexit 1',
    )


def test_a_named_buildx_builds_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buildx = program(tmp_path / "docker-buildx", '[ "$1" = version ] && echo buildx 0.13.1')
    monkeypatch.setenv("PFD_BUILDX", buildx)
    assert buildkit_command() == (buildx, "build")


def test_a_modern_docker_client_without_buildx_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PFD_DOCKER_CLI", docker_client(tmp_path / "docker", "26.1.5", False))
    buildx = program(tmp_path / "docker-buildx", '[ "$1" = version ] && echo buildx 0.13.1')
    monkeypatch.setenv("PFD_BUILDX", buildx)
    assert buildkit_command() == (buildx, "build")


@pytest.mark.parametrize(("version", "has_buildx"), [("20.10.24", False), ("26.1.5", True)])
def test_a_docker_client_that_builds_with_buildkit_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, has_buildx: bool
) -> None:
    client = docker_client(tmp_path / "docker", version, has_buildx)
    monkeypatch.setenv("PFD_DOCKER_CLI", client)
    monkeypatch.setenv("PFD_BUILDX", program(tmp_path / "docker-buildx", "exit 0"))
    assert buildkit_command() == (client, "build")


def test_a_broken_buildx_is_not_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = program(tmp_path / "docker-buildx", "exit 1")
    monkeypatch.setenv("PFD_BUILDX", broken)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    try:
        command = buildkit_command()
    except DockerUnavailableError as error:
        assert broken in str(error) and "docker-buildx" in str(error)
    else:  # this machine has a working client or plugin in a standard place
        assert command[0] != broken
