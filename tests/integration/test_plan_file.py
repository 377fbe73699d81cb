"""The reviewed plan, applied: `plan --out plan.json` then `deploy --plan plan.json` on the
real stack (registry, Prefect server, Docker engine), as a pull-request workflow runs them.
Applied when nothing moved; refused (exit 8, saying what moved) after a flow file is
edited, a deployment is changed on the server by hand, or an image is deleted from the
registry. The pure rules: tests/unit/run/test_plan_file.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from prefect_flow_deploy.core.errors import PlanMovedError

from ..conftest import Scenario, Stack, write_flow
from ..helpers import read_deployment, server_api
from .test_cli import cli, common

pytestmark = pytest.mark.stack

# Registry API v2 (the distribution spec's "Deleting Manifests"): the digest is asked with
# the manifest types a push makes, then deleted by digest.
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def two_folders(scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    write_flow(scenario.folder("p", "two"), "two")


def make_plan(scenario: Scenario, stack: Stack, path: Path) -> dict:  # type: ignore[type-arg]
    planned = cli("plan", "--out", str(path), *common(scenario, stack))
    assert planned.returncode == 0, planned.stderr
    data: dict = json.loads(path.read_text())  # type: ignore[type-arg]
    return data


def apply(scenario: Scenario, stack: Stack, path: Path) -> subprocess.CompletedProcess[str]:
    return cli("deploy", "--json", "--plan", str(path), *common(scenario, stack))


def test_an_unchanged_plan_is_applied_exactly(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    two_folders(scenario)
    path = tmp_path / "plan.json"
    data = make_plan(scenario, stack, path)
    planned = {d["full_name"]: d for d in data["plan"]["deployments"]}
    assert {d["action"] for d in planned.values()} == {"create"}
    images = {i["folder"]["name"]: f"{i['repository']}:{i['tag']}" for i in data["plan"]["images"]}

    done = apply(scenario, stack, path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {(r["flow"], r["status"]) for r in rows} == {("one", "created"), ("two", "created")}
    for name, deployment in planned.items():
        held = read_deployment(name)
        assert held.job_variables["image"] == images[name.split("/")[0]]  # the plan's image
        assert held.version == deployment["spec"]["version"]
        assert held.entrypoint == deployment["spec"]["entrypoint"]
        assert set(deployment["spec"]["tags"]) <= set(held.tags)

    # Applied again, the same file meets a server the plan did not see: refused.
    again = apply(scenario, stack, path)
    assert again.returncode == PlanMovedError.exit_code
    assert "the deployment one/" in again.stderr and "was created since the plan" in again.stderr


def test_an_edited_flow_file_refuses_the_plan(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    two_folders(scenario)
    path = tmp_path / "plan.json"
    make_plan(scenario, stack, path)
    write_flow(scenario.folder("p", "two"), "two", body="return 'changed'")

    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    folder = f"{scenario.project('p')}/two"
    assert f"repository: {folder} changed (file:flow.py): content tag" in refused.stderr
    assert "Make the plan again" in refused.stderr
    with server_api() as client:  # nothing was written
        found = client.post(
            "deployments/filter",
            json={"deployments": {"tags": {"all_": [f"tenant:{scenario.tenant}"]}}},
        )
        assert found.status_code == 200 and found.json() == []


def test_a_deployment_changed_by_hand_refuses_the_plan(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    two_folders(scenario)
    assert cli("deploy", *common(scenario, stack)).returncode == 0
    write_flow(scenario.folder("p", "one"), "one", body="return 'v2'")
    path = tmp_path / "plan.json"
    data = make_plan(scenario, stack, path)
    assert {d["full_name"].split("/")[0]: d["action"] for d in data["plan"]["deployments"]} == {
        "one": "update",
        "two": "unchanged",
    }
    name, one = f"two/{scenario.project('p')}", f"one/{scenario.project('p')}"
    before = read_deployment(one).version
    held = read_deployment(name)
    with server_api() as client:  # a user edits it in the UI
        client.patch(f"deployments/{held.id}", json={"description": "by hand"}).raise_for_status()

    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert f"server: the deployment {name} was changed since the plan" in refused.stderr
    assert read_deployment(one).version == before  # the planned update was not applied


def test_an_image_deleted_from_the_registry_refuses_the_plan(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    assert cli("deploy", *common(scenario, stack)).returncode == 0
    path = tmp_path / "plan.json"
    data = make_plan(scenario, stack, path)
    [image] = data["plan"]["images"]
    assert image["action"] == "exists"

    host, _, name = image["repository"].partition("/")
    base = f"http://{host.replace('localhost', '127.0.0.1')}/v2/{name}/manifests"
    found = httpx.head(f"{base}/{image['tag']}", headers={"Accept": MANIFEST_TYPES})
    found.raise_for_status()
    httpx.delete(f"{base}/{found.headers['Docker-Content-Digest']}").raise_for_status()

    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert f"registry: {image['repository']}:{image['tag']} is gone" in refused.stderr
