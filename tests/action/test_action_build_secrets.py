"""build-secrets through the action as the runner runs it: the action's own BuildKit client
(buildx alone, in its container) hands the secret to the host engine's build; the value is
masked first and shows nowhere the runner keeps (log, outputs, summary) nor in the image."""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack, write_flow
from .runner import DOCKER, build_action_image, make_workspace, run_action
from .test_action import inputs

pytestmark = [pytest.mark.stack, pytest.mark.action]


def test_a_build_secret_reaches_the_build_and_nothing_else(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    image = build_action_image()
    canary = f"pfd-action-canary-{uuid.uuid4().hex}"
    digest = hashlib.sha256(canary.encode()).hexdigest()
    source = tmp_path / "source"
    write_flow(
        source / scenario.project("s") / "own",
        "own",
        Dockerfile=(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
            "RUN --mount=type=secret,id=canary "
            f"sh -c 'test \"$(sha256sum < /run/secrets/canary | cut -c1-64)\" = {digest}'\n"
            "WORKDIR /opt/flow\nCOPY . .\n"
        ),
    )
    workspace = make_workspace(tmp_path / "workspace", source)

    step = run_action(
        image, workspace, tmp_path / "run", inputs(scenario, stack, **{"build-secrets": f"canary={canary}\n"})
    )  # fmt: skip

    assert step.exit_code == 0, step.log  # the RUN fails unless the secret is there
    assert step.outputs["built"] == "1"
    masks = [
        m[1] for line in step.stdout.splitlines() if (m := re.match(r"::add-mask ?::(.*)", line))
    ]
    assert canary in masks  # masked, before the first line of its own
    shown = "\n".join(
        line for line in step.log.splitlines() if not re.match(r"::add-mask ?::", line)
    )
    for text in (shown, step.files_written):
        assert canary not in text
    built = step.json("images")[0]["image"]  # type: ignore[index]
    for command in (["history", "--no-trunc", built], ["image", "inspect", built]):
        output = subprocess.run([DOCKER, *command], capture_output=True, text=True, check=True)
        assert canary not in output.stdout
