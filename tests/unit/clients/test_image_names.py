"""Image references read as Docker reads them (distribution/reference, normalize.go's
ParseNormalizedNamed: a first component with a dot or a port, or `localhost`, is a host;
anything else is on Docker Hub, an official image under `library/`; no tag is `latest`),
and which registries are spoken to over plain HTTP."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.clients.image_names import ImageName, is_loopback, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("ubuntu", ImageName("docker.io", "library/ubuntu", "latest")),
        ("prefecthq/prefect:3-python3.12", ImageName("docker.io", "prefecthq/prefect", "3-python3.12")),
        ("ghcr.io/acme/flows/sales/orders:abc", ImageName("ghcr.io", "acme/flows/sales/orders", "abc")),
        ("localhost:5000/flows/a", ImageName("localhost:5000", "flows/a", "latest")),
        ("localhost/flows/a:t", ImageName("localhost", "flows/a", "t")),
        ("team/sub/image:t", ImageName("docker.io", "team/sub/image", "t")),
        (f"ghcr.io/acme/flows@{DIGEST}", ImageName("ghcr.io", "acme/flows", DIGEST)),
        (f"registry:5000/a:t@{DIGEST}", ImageName("registry:5000", "a", DIGEST)),
    ],
)  # fmt: skip
def test_a_reference_is_read_as_docker_reads_it(reference: str, expected: ImageName) -> None:
    assert parse_reference(reference) == expected


def test_docker_hub_is_asked_at_its_api_host() -> None:
    assert parse_reference("ubuntu").api_host == "registry-1.docker.io"
    assert parse_reference("ghcr.io/a/b").api_host == "ghcr.io"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True), ("localhost:5000", True), ("127.0.0.1:5000", True),
        ("127.1.2.3", True), ("[::1]", True), ("::1", True),
        ("ghcr.io", False), ("registry.local:5000", False), ("10.0.0.1:5000", False),
    ],
)  # fmt: skip
def test_only_this_machine_is_spoken_to_over_plain_http(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_loopback_address_asked_from_the_action_s_container_is_explained() -> None:
    """Trial round 11 a 8: `registry: localhost:5000` in the action failed with "check that
    this runner can reach it", and the runner could (an earlier `run:` step pushed there):
    the action runs in a container of its own (the runner mounts the workspace at
    /github/workspace there, shared/ACTION-RUNNER.md), where localhost is that container.
    Not said for a `run:` step on the runner, nor for another host."""
    from prefect_flow_deploy.clients.image_names import ACTION_WORKSPACE, loopback_advice

    said = loopback_advice("localhost:5000", ACTION_WORKSPACE)
    assert "localhost is that container, not the runner" in said
    assert loopback_advice("127.0.0.1", ACTION_WORKSPACE) == said
    assert loopback_advice("localhost:5000", "/home/runner/work/flows/flows") == ""
    assert loopback_advice("ghcr.io", ACTION_WORKSPACE) == ""
