"""keep-images against the real stack: the local registry (deletes enabled) and the Prefect
server. An image any deployment on the server uses is kept whatever N; the plan lists what a
deploy would delete, with the space it frees; a registry that refuses deletes (a real
distribution registry with deletes disabled, on a port of its own) is a warning."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.clients.stored_images import REPOSITORY_LABEL
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.run.retention import Retention

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, options, run

pytestmark = pytest.mark.stack
OURS = "acme/flows"  # keep-images deletes only images labelled with the run's repository


async def _hand_made_deployment(name: str, image: str, pool: str) -> None:
    """Another deployment on the server (not this tool's, no tenant) using an old image."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        flow_id = await client.create_flow_from_name(name)
        await client.create_deployment(
            flow_id, name, work_pool_name=pool, job_variables={"image": image}
        )


def test_keep_images_deletes_old_images_no_deployment_uses(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("sales", "daily"), "daily", body="return 'v1'")
    first = deploy(scenario, stack, repository=OURS)
    assert not first.failed, first.results
    image1 = first.results[0].image
    write_flow(folder, "daily", body="return 'v2'")
    second = deploy(scenario, stack, repository=OURS)
    image2 = second.results[0].image
    assert image1 and image2 and image1 != image2
    run(_hand_made_deployment(f"hand-{scenario.suffix}", image1, scenario.work_pool))

    write_flow(folder, "daily", body="return 'v3'")
    engine = Engine(options(scenario, stack, keep_images=1, repository=OURS))
    plan = engine.plan()
    plan = engine.preview_retention(plan)
    (planned,) = plan.image_deletions
    assert (planned.repository + ":" + planned.tags[0]) == image2  # image1 is in use
    assert planned.outcome == "planned" and planned.freed and planned.freed > 0
    shown = subprocess.run(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "plan", "--keep-images", "1",
         "--projects-root", str(scenario.root), "--registry", scenario.registry,
         "--base-image", stack.base_image, "--tenant", scenario.tenant, "--work-pool", scenario.work_pool,
         "--repository", OURS, "--create-work-pool"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"would delete\t{image2}\t{planned.digest[:19]}" in shown.stdout
    assert "keep-images: 1 images to delete" in shown.stdout
    registry = RegistryClient()
    assert registry.exists(image2)  # the plan deleted nothing

    third = deploy(scenario, stack, keep_images=1, repository=OURS)
    assert not third.failed, third.results
    image3 = third.results[0].image
    assert [(d.tags, d.outcome) for d in third.image_deletions] == [(planned.tags, "deleted")]
    assert not registry.exists(image2)
    assert registry.exists(image1)  # in use by a deployment this tool did not make
    assert registry.exists(image3)  # the newest, in use

    again = deploy(scenario, stack, keep_images=0, repository=OURS)  # nothing unused is left
    assert again.image_deletions == []


def test_a_gone_folder_keeps_its_images_until_its_deployments_are_removed(
    stack: Stack, scenario: Scenario
) -> None:
    keep = write_flow(scenario.folder("sales", "keep"), "keep")
    gone = write_flow(scenario.folder("sales", "gone"), "gone", body="return 'v1'")
    first = deploy(scenario, stack, repository=OURS)
    write_flow(gone, "gone", body="return 'v2'")
    second = deploy(scenario, stack, repository=OURS)
    (old,) = [r.image for r in first.results if r.flow == "gone"]
    (new,) = [r.image for r in second.results if r.flow == "gone"]
    assert old and new and old != new
    registry = RegistryClient()
    shutil.rmtree(gone)
    write_flow(keep, "keep")  # unchanged

    kept = deploy(
        scenario, stack, keep_images=0, repository=OURS
    )  # no --prune: its deployment stays
    assert not kept.failed and kept.image_deletions == []
    assert new and registry.exists(new)

    pruned = deploy(scenario, stack, keep_images=0, prune=True, repository=OURS)
    assert not pruned.failed, pruned.results
    assert [r.status for r in pruned.results if r.flow == "gone"] == ["removed"]
    deleted = {d.repository + ":" + t for d in pruned.image_deletions for t in d.tags}
    assert {old, new} <= deleted  # neither is used by a deployment any more
    assert not registry.exists(new) and not registry.exists(old)
    (keep_image,) = [r.image for r in pruned.results if r.flow == "keep"]
    assert keep_image and registry.exists(keep_image)  # in use


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def no_delete_registry(tmp_path: Path) -> Iterator[str]:
    """A distribution registry as most are run: deletes not enabled."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is installed by scripts/stack.sh up"
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _push_small_image(registry: str, repository: str, tag: str, created: str) -> None:
    """An image manifest with its config blob, uploaded over the registry API."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": created,
                         "config": {"Labels": {REPOSITORY_LABEL: OURS}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()  # fmt: skip
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    base = f"http://{registry}/v2/{repository}"
    location = httpx.post(f"{base}/blobs/uploads/").headers["Location"]
    upload = location if location.startswith("http") else f"http://{registry}{location}"
    separator = "&" if "?" in upload else "?"
    httpx.put(f"{upload}{separator}digest={digest}", content=config).raise_for_status()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": digest},
        "layers": [],
    }  # fmt: skip
    httpx.put(
        f"{base}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": manifest["mediaType"]},
    ).raise_for_status()


def test_a_registry_refusing_deletes_is_a_warning(no_delete_registry: str) -> None:
    repository = f"{no_delete_registry}/acme/sales/daily"
    _push_small_image(no_delete_registry, "acme/sales/daily", "old", "2026-01-01T00:00:00Z")
    _push_small_image(no_delete_registry, "acme/sales/daily", "new", "2026-01-02T00:00:00Z")
    retention = Retention(RegistryClient(), None)
    planned = retention.plan([repository], frozenset(), keep=1, owner=OURS)
    assert [d.tags for d in planned] == [("old",)]
    (done,) = retention.apply(planned)
    assert done.outcome == "refused: HTTP 405 UNSUPPORTED"
    assert "storage.delete.enabled" in retention.warnings[0]
    assert RegistryClient().exists(f"{repository}:old")
