"""The count tests' registry (tests/oci_registry.py) against the real one: the same corpus,
planned with its images already in the stack's registry (CNCF distribution), asks the real
registry what it asks the stand-in (the catalog aside: the real one lists the whole shared
registry), and one manifest question a folder for N and 10·N folders (the count test's rule,
on the real thing). And the same plan asked from the reading thread (pumped_heads.py): the
same decisions, one HEAD a folder in the registry's own log, in a few writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bench.seed_deployed import base_config, put_image

from prefect_flow_deploy.clients import prefect_api, pumped_heads
from prefect_flow_deploy.clients.http_retry import RetryTransport
from prefect_flow_deploy.run import image_questions
from prefect_flow_deploy.run.engine import Engine
from tests.conftest import Scenario, Stack
from tests.corpus import scaled
from tests.helpers import RegistryLog, options
from tests.oci_registry import OciRegistry, registry_through
from tests.unit.run.test_engine_costs import N

pytestmark = pytest.mark.stack


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.asked = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


def registry_requests(
    scenario: Scenario, stack: Stack, inner: httpx.BaseTransport, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    counting = Counting(inner)
    real = prefect_api.client_transport

    def transport(*args: Any, **kwargs: Any) -> RetryTransport:
        return RetryTransport(counting)  # type: ignore[arg-type]

    registry_through(monkeypatch, transport)
    monkeypatch.setattr(prefect_api, "client_transport", real)  # the stack's real server
    Engine(options(scenario, stack, work_pool=stack.worker_pool)).plan()
    monkeypatch.undo()
    return counting.asked


def push_images(stack: Stack, references: list[str]) -> tuple[str, str]:
    """Each reference as an image in the stack's registry (the base image's config, no
    build); the base image's repository and tag."""
    base = "http://127.0.0.1:5000"
    repository, tag = stack.base_image.removeprefix("localhost:5000/").rsplit(":", 1)
    with httpx.Client(timeout=30) as http:
        config = base_config(http, base, repository, tag)
        for reference in references:
            put_image(http, base, reference, config, repository)
    return repository, tag


def shapes(requests: list[str]) -> list[str]:
    return sorted(r.rpartition("/manifests/")[0] for r in requests if "_catalog" not in r)


def test_the_stand_in_registry_is_asked_what_the_real_one_is(
    scenario: Scenario, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folders in (N, 10 * N):
        scaled.write(scenario.root, folders)
        planned = Engine(options(scenario, stack, work_pool=stack.worker_pool)).plan()
        repository, tag = push_images(stack, [image.reference for image in planned.images])
        real = registry_requests(scenario, stack, httpx.HTTPTransport(), monkeypatch)
        # The same plan against the stand-in, holding the same references.
        oci = OciRegistry()
        oci.put(repository, tag)
        for image in planned.images:
            oci.put(image.repository.removeprefix("localhost:5000/"), image.tag)
        stand_in = registry_requests(scenario, stack, oci, monkeypatch)
        # The catalog lists the whole shared registry here (its pages differ), and the base
        # image's digest differs (so do the content tags): the rest must be the same requests.
        assert shapes(real) == shapes(stand_in)
        heads = [r for r in real if "/manifests/" in r and f"/{repository}/" not in r]
        assert len(heads) == folders, real


def test_heads_asked_from_the_reading_thread_decide_what_threads_decide(
    scenario: Scenario, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the corpus' images in the real registry, half not: the plan made with the
    pumped HEADs is the plan made with every question through httpx's threads; the
    registry's access log holds one HEAD a folder, sent in a write a batch."""
    writes = []
    made = pumped_heads.PumpedHeads._write

    def counted(self: pumped_heads.PumpedHeads, link: Any, batch: list[Any]) -> None:
        writes.append(len(batch))
        made(self, link, batch)

    monkeypatch.setattr(pumped_heads.PumpedHeads, "_write", counted)
    # One HEAD a folder: past CATALOG_THRESHOLD folders a repository the catalog lacks is
    # answered without one, and which are lacking depends on how fast the shared registry's
    # catalog comes (29 pages of it with trial pushes beside: 26 HEADs of 30).
    for folders in (N, 10 * N):
        monkeypatch.setattr(image_questions, "CATALOG_THRESHOLD", 10**6)
        scaled.write(scenario.root, folders)
        first = Engine(options(scenario, stack, work_pool=stack.worker_pool)).plan()
        push_images(stack, [image.reference for image in first.images[::2]])
        writes.clear()
        log = RegistryLog(stack, scenario.registry)
        pumped = Engine(options(scenario, stack, work_pool=stack.worker_pool)).plan()
        assert log.manifest_heads() == folders
        assert sum(writes) == folders and len(writes) <= 1 + folders // pumped_heads.BATCH + 4
        registry_through(monkeypatch, lambda *_a, **_k: RetryTransport(httpx.HTTPTransport()))
        threaded = Engine(options(scenario, stack, work_pool=stack.worker_pool)).plan()
        monkeypatch.undo()
        monkeypatch.setattr(pumped_heads.PumpedHeads, "_write", counted)
        assert [(i.reference, i.action, i.digest, i.reason) for i in pumped.images] == [
            (i.reference, i.action, i.digest, i.reason) for i in threaded.images
        ]
        assert sum(i.action == "build" for i in pumped.images) == folders - len(first.images[::2])
