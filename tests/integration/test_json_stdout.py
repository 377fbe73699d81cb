"""`--json` prints JSON alone on stdout, on GitHub too (issue 15: the mask, group and
annotation commands and the build logs went to stdout before the JSON). The runner reads
workflow commands on stderr as well: actions/runner src/Runner.Worker/Handlers/
ContainerActionHandler.cs and ScriptHandler.cs subscribe `StepHost.ErrorDataReceived` to an
OutputManager over the same ActionCommandManager as stdout."""

from __future__ import annotations

import json
import os

import pytest

from ..conftest import Scenario, Stack, write_flow
from .test_cli import cli, common

pytestmark = pytest.mark.stack


def test_json_alone_on_stdout_with_github_actions(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "good"), "good")
    broken = write_flow(scenario.folder("p", "broken"), "broken")
    (broken / "flow.py").write_text("from prefect import flow\n@flow\ndef broken(:\n")
    env = {**os.environ, "GITHUB_ACTIONS": "true", "PFD_VERBOSE": "1"}
    secret = ["--build-secret", "canary=s3cr3t-canary-value"]  # masked: an ::add-mask:: line

    planned = cli("plan", "--json", *common(scenario, stack), *secret, env=env)
    deployed = cli("deploy", "--json", *common(scenario, stack), *secret, env=env)
    for run in (planned, deployed):
        assert run.returncode == 1, run.stderr  # the broken folder
        json.loads(run.stdout)  # the whole of stdout is one JSON document
        assert not [line for line in run.stdout.splitlines() if line.startswith("::")], run.stdout
        # Only the mask command itself names the secret (the library writes `::add-mask ::`).
        told = [line for line in run.stderr.splitlines() if "s3cr3t" in line]
        assert [line.replace(" ", "") for line in told] == ["::add-mask::s3cr3t-canary-value"]
        assert "s3cr3t" not in run.stdout
        assert "::add-mask ::" in run.stderr
        assert "::error title=Python syntax error,file=" in run.stderr
        assert "broken/flow.py,line=3::" in run.stderr
    assert "::group ::build " in deployed.stderr and "::endgroup" in deployed.stderr  # build log
    rows = {r["folder"]: r["status"] for r in json.loads(deployed.stdout)}
    assert rows == {"good": "created", "broken": "failed"}
