"""Logins made by earlier workflow steps (a Docker config) work: a base image kept only in a
private second registry (the stack's htpasswd registry) is resolved, pulled and built from with
the config's login, while the images go to another registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from prefect_flow_deploy.docker import engine_session

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy


def private_base(stack: Stack, scenario: Scenario) -> str:
    """The stand-in base image, pushed to the auth registry under this test's namespace and
    then untagged here, so that only the registry has it under that name."""
    client = engine_session.docker_client()
    reference = f"{stack.auth_registry}/t{scenario.suffix}/base:1"
    image = client.images.get(stack.base_image)
    image.tag(reference)
    login = {"username": stack.auth_user, "password": stack.auth_password}
    for chunk in client.images.push(reference, auth_config=login, stream=True, decode=True):
        assert "error" not in chunk, chunk
    client.images.remove(reference)  # the tag only: the image stays under its own name
    return reference


def docker_config(directory: Path, stack: Stack) -> Path:
    directory.mkdir(parents=True)
    secret = base64.b64encode(f"{stack.auth_user}:{stack.auth_password}".encode()).decode()
    (directory / "config.json").write_text(
        json.dumps({"auths": {stack.auth_registry: {"auth": secret}}})
    )
    return directory


def test_a_private_base_image_pulls_with_the_docker_config_login(
    stack: Stack, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = private_base(stack, scenario)
    write_flow(scenario.folder("p", "privbase"), "privbase")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    without = deploy(scenario, stack, base_image=base)
    [refused] = without.results
    assert refused.status == "failed" and "refused access" in (refused.error or ""), refused

    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(tmp_path / "docker", stack)))
    result = deploy(scenario, stack, base_image=base)
    assert not result.failed, result.results
    [row] = result.results
    assert row.status == "created" and (row.image or "").startswith(scenario.registry)
    client = engine_session.docker_client()
    base_layers = client.images.get(stack.base_image).attrs["RootFS"]["Layers"]
    built_layers = client.images.get(row.image).attrs["RootFS"]["Layers"]
    assert built_layers[: len(base_layers)] == base_layers  # built FROM the private base


def test_the_runs_own_login_wins_over_the_docker_configs_for_its_registry(
    stack: Stack, scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale login in the Docker config for the target registry does not get in the way:
    the given username and password are used for it, for the registry API, the build's base
    pull and the push."""
    base = private_base(stack, scenario)
    write_flow(scenario.folder("p", "ownwins"), "ownwins")
    stale = tmp_path / "docker"
    stale.mkdir()
    secret = base64.b64encode(f"{stack.auth_user}:stale-password".encode()).decode()
    (stale / "config.json").write_text(
        json.dumps({"auths": {stack.auth_registry: {"auth": secret}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(stale))
    result = deploy(
        scenario,
        stack,
        base_image=base,
        registry=f"{stack.auth_registry}/t{scenario.suffix}",
        registry_username=stack.auth_user,
        registry_password=stack.auth_password,
    )
    assert not result.failed, result.results
    [row] = result.results
    assert row.status == "created" and (row.image or "").startswith(stack.auth_registry)
