"""Prefect Cloud's own behaviour, against a stand-in speaking its responses
(tests/cloud_fake.py, with the sources of each shape): the API key's workspace checked
before anything is built, 429 + Retry-After honoured on reads and writes, writes
overlapped up to a bound, and the run's provenance sent as `vcs:github` version_info that
never makes an unchanged deployment changed. The images are real (engine, registry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..cloud_fake import KEY, OTHER_KEY, FakeCloud
from ..conftest import Scenario, Stack, write_flow
from ..helpers import RegistryLog, deploy

pytestmark = pytest.mark.stack

FLOWS = "\n".join(
    f"@flow\ndef flow_{n}() -> None:\n    pass\n" for n in range(5)
)  # five deployments from one folder: one image, five writes


def github_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sha: str) -> None:
    """What the runner sets for a push (docs: "Variables" / the push event payload)."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"head_commit": {"message": "Add the nightly flow\n\nbody"}}))
    for name, value in {
        "GITHUB_SHA": sha, "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/flows",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_EVENT_PATH": str(event),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)


def test_provenance_rate_limits_and_bounded_concurrent_writes(
    stack: Stack, scenario: Scenario, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = scenario.folder("p", "many")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text("from prefect import flow\n\n\n" + FLOWS)
    github_env(monkeypatch, tmp_path, "a" * 40)
    limited = {"POST /deployments/filter": 1, "POST /deployments/": 1}
    with FakeCloud(rate_limited=limited, write_delay=0.5) as cloud:
        result = deploy(
            scenario, stack, prefect_api_url=cloud.api_url, prefect_api_key=KEY, max_parallel=1
        )
        assert {r.status for r in result.results} == {"created"}, [r.error for r in result.results]

        # Retry-After: 1 honoured on the read (ours) and on a write (Prefect's client).
        first, second = cloud.times("POST", "/deployments/filter")[:2]
        assert second - first >= 0.9
        assert len(cloud.created_bodies) == 5
        # Overlapped, and bounded at twice max-parallel.
        assert cloud.max_in_flight == 2
        # Each create under its name's write lock (write_lock.py), taken from Cloud's API.
        assert cloud.unlocked_writes == [] and cloud.limits
        assert all(limit["active_slots"] == 0 for limit in cloud.limits.values())
        assert not cloud.leases  # every lease released

        body = cloud.created_bodies[0]
        tag = result.results[0].image.rsplit(":", 1)[1]  # type: ignore[union-attr]
        assert body["version"] == tag
        assert body["version_info"] == {
            "type": "vcs:github", "version": tag, "commit_sha": "a" * 40,
            "message": "Add the nightly flow", "branch": "main", "repository": "acme/flows",
            "url": f"https://github.com/acme/flows/commit/{'a' * 40}",
        }  # fmt: skip

        # Another commit, same content: nothing to write (provenance is not compared).
        github_env(monkeypatch, tmp_path, "b" * 40)
        again = deploy(scenario, stack, prefect_api_url=cloud.api_url, prefect_api_key=KEY)
        assert again.counters.deployment_writes == 0
        assert {r.status for r in again.results} == {"unchanged"}


def test_a_key_for_another_workspace_is_one_clear_error_before_anything_is_built(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    registry = RegistryLog(stack, scenario.registry)
    with FakeCloud() as cloud:
        env = {**os.environ, "PREFECT_API_URL": cloud.api_url, "PREFECT_API_KEY": OTHER_KEY}
        done = subprocess.run(
            [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy",
             "--projects-root", str(scenario.root), "--registry", scenario.registry,
             "--base-image", stack.base_image, "--tenant", scenario.tenant],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert done.returncode == 6, done.stderr
        assert "does not belong to the workspace" in done.stderr
        assert "acme/dev" in done.stderr  # the workspace the key does reach
        assert OTHER_KEY not in done.stderr + done.stdout
        assert cloud.calls("POST", "/deployments/filter") == 0
    assert registry.manifest_puts() == 0 and "building" not in done.stderr


def test_a_self_hosted_server_keeps_the_version_and_says_once_that_it_drops_version_info(
    stack: Stack,
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from ..helpers import read_deployment

    monkeypatch.setenv("PFD_VERBOSE", "1")
    github_env(monkeypatch, tmp_path, "c" * 40)
    write_flow(scenario.folder("p", "one"), "one")
    write_flow(scenario.folder("p", "two"), "two")
    result = deploy(scenario, stack)  # the local Prefect server
    assert {r.status for r in result.results} == {"created"}
    err = capfd.readouterr().err
    assert err.count("a self-hosted Prefect server does not keep it") == 1
    row = result.results[0]
    deployment = read_deployment(f"{row.flow}/{row.deployment}")
    assert deployment.version == row.image.rsplit(":", 1)[1]  # type: ignore[union-attr]
