"""The sweep's cheap look (leftovers.labelled_locally: one Engine API request over the Unix
socket, no Docker SDK) against the real engine: it sees a container with our run label, as
the SDK's sweep does, and so a no-op deploy never needs to load the SDK to know there is
nothing to sweep."""

from __future__ import annotations

import subprocess
import uuid

from prefect_flow_deploy.docker import leftovers
from prefect_flow_deploy.docker.leftovers import RUN_LABEL
from tests.conftest import Stack


def test_a_labelled_container_is_seen_by_the_cheap_look(stack: Stack) -> None:
    run = f"gone-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(
        ["docker", "create", "--label", f"{RUN_LABEL}={run}", stack.base_image, "true"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    container = created.stdout.strip()
    try:
        assert leftovers.labelled_locally() is True
        listed = subprocess.run(
            ["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={RUN_LABEL}={run}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert listed.stdout.split() == [container]  # the same label the SDK filters on
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
