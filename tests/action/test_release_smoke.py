"""The release workflow's smoke test (scripts/smoke-action-image.sh) against the action image
built here: it passes on a good image and fails, with the log, on one that cannot answer."""

from __future__ import annotations

import os
import subprocess

import pytest

from ..conftest import ROOT, Stack
from .runner import DOCKER, build_action_image

pytestmark = [pytest.mark.stack, pytest.mark.action]
SMOKE = ROOT / "scripts" / "smoke-action-image.sh"


def smoke(image: str, stack: Stack, api_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PFD_SMOKE_BASE_IMAGE": stack.base_image,
        "DOCKER": DOCKER,
    }
    return subprocess.run(
        ["bash", str(SMOKE), image, "linux/amd64"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_the_image_answers_a_dry_run_and_a_broken_one_is_caught(stack: Stack) -> None:
    image = build_action_image()
    done = smoke(image, stack, stack.env["PREFECT_API_URL"])
    assert done.returncode == 0, done.stderr
    assert "the dry run planned hello/smoke" in done.stdout

    unreachable = smoke(image, stack, "http://127.0.0.1:9/api")  # nothing listens on port 9
    assert unreachable.returncode == 1
    assert "the dry run exited 6" in unreachable.stderr
    assert "cannot reach the Prefect API" in unreachable.stderr  # the log is shown
