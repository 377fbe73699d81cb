"""keep-images never deletes what is in use, in any spelling, nor another repository's
image: on the real registry and Prefect server. Each case deleted an image a deployment
needed: the per-platform manifests of an in-use manifest list (`--platforms … --keep-images
1`), an image referenced as `127.0.0.1:5000/…` or as `repo:tag@sha256:…`, and another
repository's image under a shared registry prefix that it had pushed and was about to
register."""

from __future__ import annotations

import httpx
import pytest

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, read_deployment, run, server_api
from .test_plan_file import MANIFEST_TYPES
from .test_platforms import PLATFORMS, manifest, multi_arch_base
from .test_retention import _hand_made_deployment

__all__ = ["multi_arch_base"]  # the module-scoped fixture, shared with test_platforms.py
pytestmark = pytest.mark.stack
A, B = "acme/keep-a", "acme/keep-b"


@pytest.fixture(autouse=True)
def _no_github_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)  # each run names its own


def present(repository: str, reference: str) -> bool:
    """Whether the registry still serves the manifest (a tag or a digest)."""
    host, _, name = repository.partition("/")
    answer = httpx.head(
        f"http://{host}/v2/{name}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
    )
    return answer.status_code == 200


def test_the_platform_images_of_an_in_use_manifest_list_are_kept(
    stack: Stack, scenario: Scenario, multi_arch_base: str
) -> None:
    write_flow(scenario.folder("p", "multi"), "multi")
    done = deploy(
        scenario, stack, base_image=multi_arch_base, platforms=PLATFORMS, keep_images=1,
        repository=A,
    )  # fmt: skip
    [row] = done.results
    assert row.status == "created" and row.image, row.error
    repository, _, tag = row.image.rpartition(":")
    children = [m["digest"] for m in manifest(row.image)["manifests"]]  # type: ignore[attr-defined]
    assert len(children) == 2
    assert done.image_deletions == []
    for digest in children:
        assert present(repository, digest), f"{digest} of the in-use {row.image} was deleted"
    for platform in ("linux-amd64", "linux-arm64"):
        assert present(repository, f"{tag}-{platform}")


def test_an_image_in_use_under_another_spelling_is_kept(stack: Stack, scenario: Scenario) -> None:
    folder = write_flow(scenario.folder("sales", "daily"), "daily", body="return 'v1'")
    images = []
    for version in ("v1", "v2", "v3"):
        write_flow(folder, "daily", body=f"return '{version}'")
        result = deploy(scenario, stack, repository=A)
        assert not result.failed, result.results
        images.append((result.results[0].image, result.results[0].digest))
    (one, _), (two, two_digest), (three, _) = images
    assert one and two and three
    # Deployments made by hand: one spells the registry 127.0.0.1, one pins tag and digest.
    loopback = one.replace("localhost:", "127.0.0.1:", 1)
    pinned = f"{two}@{two_digest}"
    run(_hand_made_deployment(f"ip-{scenario.suffix}", loopback, scenario.work_pool))
    run(_hand_made_deployment(f"pin-{scenario.suffix}", pinned, scenario.work_pool))

    trimmed = deploy(scenario, stack, repository=A, keep_images=0)
    assert not trimmed.failed, trimmed.results
    repository, _, tag_one = one.rpartition(":")
    assert present(repository, tag_one), f"{loopback} is in use and was deleted"
    assert present(repository, two.rpartition(":")[2]), f"{pinned} is in use and was deleted"
    assert present(repository, three.rpartition(":")[2])


def test_another_repository_s_image_under_a_shared_prefix_is_kept(
    stack: Stack, scenario: Scenario
) -> None:
    p = scenario.project("p")
    root_b = scenario.root.parent.parent / "repo-b" / "projects"
    write_flow(root_b / p / "daily", "daily", body="return 'b'")
    theirs = deploy(scenario, stack, projects_root=root_b, repository=B)
    assert not theirs.failed, theirs.results
    image_b = theirs.results[0].image
    assert image_b
    # B pushed its image and is about to register it: no deployment uses it yet.
    held = read_deployment(f"daily/{p}")
    with server_api() as client:
        client.delete(f"deployments/{held.id}").raise_for_status()

    write_flow(scenario.folder("p", "daily"), "daily", body="return 'a'")
    ours = deploy(scenario, stack, repository=A, keep_images=0)
    assert not ours.failed, ours.results
    repository, _, tag = image_b.rpartition(":")
    assert repository == ours.results[0].image.rpartition(":")[0]  # type: ignore[union-attr]
    assert present(repository, tag), "repository A deleted B's image"
    assert ours.image_deletions == []
