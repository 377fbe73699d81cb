"""A login in the Prefect API URL (`http://user:password@host/api`) works for the requests,
and is never printed, stored or linked: not in the exit-6 error, not in a `plan --out` file,
not in the job summary's links or the GitHub deployment's (on the real stack)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import PrefectUnavailableError

from ..conftest import Scenario, Stack, write_flow
from .test_cli import cli, common

pytestmark = pytest.mark.stack
PASSWORD = "s3cret-in-the-url"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_login(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://deployer:{PASSWORD}@{rest}"


def env_with(api_url: str, **more: str) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": api_url, **more}


def shown(*outputs: str) -> str:
    """What a log shows: the runner never echoes a mask command (ACTION-RUNNER.md)."""
    lines = "\n".join(outputs).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("::add-mask"))


def test_an_unreachable_api_s_error_holds_no_password(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    url = with_login(f"http://127.0.0.1:{free_port()}/api")
    for github in ("false", "true"):
        failed = cli("plan", *common(scenario, stack), env=env_with(url, GITHUB_ACTIONS=github))
        assert failed.returncode == PrefectUnavailableError.exit_code, failed.stderr
        log = shown(failed.stdout, failed.stderr)
        assert "cannot reach the Prefect API at http://127.0.0.1:" in log
        assert PASSWORD not in log and "deployer:" not in log
    masks = [line.replace(" ", "") for line in failed.stdout.splitlines()]
    assert f"::add-mask::{PASSWORD}" in masks  # on GitHub, masked for every later line


def test_a_plan_file_and_the_summary_hold_no_password(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    url = with_login(stack.env["PREFECT_API_URL"])  # the server ignores the login
    path = tmp_path / "plan.json"
    summary = tmp_path / "summary.md"
    summary.touch()
    env = env_with(url, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    planned = cli("plan", "--out", str(path), *common(scenario, stack), env=env)
    assert planned.returncode == 0, planned.stderr
    text = path.read_text()
    assert PASSWORD not in text and "deployer:" not in text
    assert '"api_url": "http://127.0.0.1:4200/api"' in text

    done = cli("deploy", "--plan", str(path), *common(scenario, stack), env=env)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in shown(done.stdout, done.stderr)

    from prefect_flow_deploy.core.results import FlowResult
    from prefect_flow_deploy.reports.action import summary as render_summary

    row = FlowResult("p", "one", "one", "p", "0b7c", "img", "sha256:1", "built", "created")
    linked = render_summary([row], url, "deploy")
    assert PASSWORD not in linked and "http://127.0.0.1:4200/deployments/deployment/0b7c" in linked
