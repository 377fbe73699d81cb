"""No code of the repository runs in the engine's process, in `plan` or in `deploy`: a flow
file and a sibling module that write marker files at import leave none on the host. What
the source alone cannot tell (a default computed by a call, a type from a library) is
computed by Prefect inside the built image, offline, and registered; a re-run reuses it."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack
from ..unit.test_corpus import PROJECTS, run_oracle
from .test_cli import cli, common, traced_cli

pytestmark = pytest.mark.stack


def test_plan_and_deploy_never_run_the_repository_s_code(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    folder = scenario.folder("data", "side_effects")
    shutil.copytree(PROJECTS / "data" / "side_effects", folder)
    frames = scenario.folder("data", "frames")  # typed with a library's class (Prefect's State)
    shutil.copytree(PROJECTS / "data" / "frames", frames)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "PFD_MARKER_DIR": str(markers)}

    planned = cli("plan", "--json", *common(scenario, stack), env=env)
    assert planned.returncode == 0, planned.stderr
    items = {i["desired"]["entrypoint"]: i for i in json.loads(planned.stdout)["items"]}
    assert set(items) == {"flow.py:effects", "flow.py:frame"}
    for item in items.values():
        assert item["desired"]["parameter_schema"] == "computed after build"
    assert list(markers.iterdir()) == []

    deployed = cli("deploy", *common(scenario, stack), env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployment writes 2" in deployed.stderr
    assert list(markers.iterdir()) == []  # the image ran it (its own /tmp), not the engine

    # What the image computed is Prefect's own schema of the flow (the oracle runs the code,
    # in a subprocess, writing its markers elsewhere).
    from prefect.client.orchestration import get_client

    project = folder.parent.name
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"effects/{project}")
        frame = client.read_deployment_by_name(f"frame/{project}")
    oracle_markers = tmp_path / "oracle"
    oracle_markers.mkdir()
    os.environ["PFD_MARKER_DIR"] = str(oracle_markers)
    try:
        answer = run_oracle(sys.executable, {str(folder): ["flow.py"], str(frames): ["flow.py"]})
    finally:
        del os.environ["PFD_MARKER_DIR"]
    assert (
        deployment.parameter_openapi_schema == answer[str(folder)]["flow.py"]["effects"]["schema"]
    )
    assert frame.parameter_openapi_schema == answer[str(frames)]["flow.py"]["frame"]["schema"]
    assert frame.parameter_openapi_schema["properties"]["rows"]["default"] == 5
    assert {p.name for p in oracle_markers.iterdir()} == {"flow-ran", "sibling-ran", "default-ran"}

    # A re-run: the schema computed from this content is on the server; nothing runs.
    again = traced_cli("deploy", *common(scenario, stack))
    assert again.returncode == 0, again.stderr
    assert "built 0, pushed 0, deployment writes 0" in again.stderr, again.stderr
    assert "prefect not imported" in again.stderr
