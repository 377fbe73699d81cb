"""keep-images: which images go (pure rules), and GHCR through a stand-in of GitHub's
Packages API speaking its real paths and JSON (tests/github/fake_packages.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prefect_flow_deploy.clients.ghcr import PackagesClient
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.clients.stored_images import StoredImage
from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.core.naming import repository_of
from prefect_flow_deploy.run.retention import (
    Retention,
    canonical_repository,
    choose,
    freed,
    in_use,
    references_after,
    repositories_of_removed,
)

from ...github.fake_packages import FakePackages, serve

REPO = "localhost:5000/acme/sales/daily"
OWNER = "acme/flows"  # the repository the run acts as, and its images' label


def image(
    tag: str,
    created: str,
    digest: str | None = None,
    blobs: tuple[tuple[str, int], ...] = (),
    *more: str,
) -> StoredImage:
    return StoredImage(REPO, digest or f"sha256:{tag}", (tag, *more), created, blobs, owner=OWNER)


def test_the_newest_n_images_and_every_image_in_use_are_kept() -> None:
    images = [
        image("a", "2026-01-01"),
        image("b", "2026-01-02"),
        image("c", "2026-01-03"),
        image("d", "2026-01-04"),
    ]
    used = in_use([f"{REPO}:a"])  # the oldest, used by some deployment
    kept, deleted = choose(images, used, keep=2, owner=OWNER)
    assert [i.tags[0] for i in kept] == ["d", "c", "a"]
    assert [i.tags[0] for i in deleted] == ["b"]


def test_images_only_previews_used_go_even_among_the_newest_unless_in_use() -> None:
    """A closed pull request's preview image is the newest of its repository: it goes, and
    takes no place among the newest N; one a deployment still uses stays."""
    images = [image("a", "2026-01-01"), image("b", "2026-01-02"), image("pr", "2026-01-03")]
    kept, deleted = choose(
        images, frozenset({f"{REPO}:b"}), keep=1, owner=OWNER, drop=frozenset({f"{REPO}:pr"})
    )
    assert ([i.tags[0] for i in kept], [i.tags[0] for i in deleted]) == (["b"], ["pr", "a"])
    kept, _ = choose(
        images, frozenset({f"{REPO}:pr"}), keep=1, owner=OWNER, drop=frozenset({f"{REPO}:pr"})
    )
    assert [i.tags[0] for i in kept] == ["pr", "b"]  # in use: kept whatever it is


def test_an_image_in_use_is_never_deleted_whatever_n_even_by_digest() -> None:
    images = [image("a", "2026-01-01"), image("b", "2026-01-02")]
    kept, deleted = choose(images, in_use([f"{REPO}@sha256:a", f"{REPO}:b"]), 0, OWNER)
    assert deleted == [] and len(kept) == 2
    kept, deleted = choose(images, frozenset(), keep=0, owner=OWNER)
    assert kept == [] and len(deleted) == 2


def test_the_registry_build_cache_is_never_deleted_and_never_counted() -> None:
    """`:buildcache` (a BuildKit builder's registry cache, newest or not, with no creation
    time) is no image: keep 1 keeps the newest image besides it, keep 0 deletes no cache."""
    cache = StoredImage(REPO, "sha256:cache", ("buildcache",), "")
    arm = StoredImage(REPO, "sha256:cache-arm", ("buildcache-linux-arm64",), "2026-02-01")
    images = [image("a", "2026-01-01"), cache, image("b", "2026-01-02"), arm]
    kept, deleted = choose(images, frozenset(), keep=1, owner=OWNER)
    assert [i.tags[0] for i in deleted] == ["a"]
    assert {i.tags[0] for i in kept} == {"buildcache", "buildcache-linux-arm64", "b"}
    kept, deleted = choose(images, frozenset(), keep=0, owner=OWNER)
    assert {i.tags[0] for i in deleted} == {"a", "b"}
    assert cache in kept and arm in kept


def test_tags_sharing_a_digest_are_one_image() -> None:
    shared = StoredImage(REPO, "sha256:x", ("v2", "latest"), "2026-01-02", owner=OWNER)
    kept, deleted = choose(
        [image("v1", "2026-01-01"), shared], in_use([f"{REPO}:latest"]), 0, OWNER
    )
    assert kept == [shared]  # in use through one of its tags: all its tags stay
    assert [i.tags for i in deleted] == [("v1",)]


def test_every_spelling_of_a_reference_is_one_image() -> None:
    """`127.0.0.1:5000/…` for `localhost:5000/…`, `repo:tag@sha256:…`, a digest alone."""
    assert canonical_repository("127.0.0.1:5000/acme/x") == "localhost:5000/acme/x"
    assert canonical_repository("[::1]:5000/acme/x") == "localhost:5000/acme/x"
    assert canonical_repository("python") == "docker.io/library/python"
    loopback = REPO.replace("localhost", "127.0.0.1")
    images = [image("a", "1"), image("b", "2"), image("c", "3"), image("d", "4")]
    used = in_use([f"{loopback}:a", f"{REPO}:b@sha256:b", f"{loopback}@sha256:c"])
    assert used >= {f"{REPO}:a", f"{REPO}:b", f"{REPO}@sha256:b", f"{REPO}@sha256:c"}
    _kept, deleted = choose(images, used, keep=0, owner=OWNER)
    assert [i.tags[0] for i in deleted] == ["d"]


def test_a_manifest_list_keeps_its_platform_images() -> None:
    amd = image("t-linux-amd64", "2026-01-01", "sha256:amd")
    arm = image("t-linux-arm64", "2026-01-01", "sha256:arm")
    index = replace(image("t", "2026-01-01", "sha256:index"), children=("sha256:amd", "sha256:arm"))
    old_amd = image("o-linux-amd64", "2025-01-01", "sha256:oamd")
    old = replace(image("o", "2025-01-01", "sha256:old"), children=("sha256:oamd",))
    everything = [amd, arm, index, old_amd, old]
    kept, deleted = choose(everything, in_use([f"{REPO}:t"]), keep=0, owner=OWNER)
    assert sorted(i.digest for i in kept) == ["sha256:amd", "sha256:arm", "sha256:index"]
    assert sorted(i.digest for i in deleted) == ["sha256:oamd", "sha256:old"]
    kept, deleted = choose(everything, frozenset(), keep=1, owner=OWNER)  # newest: the list
    assert sorted(i.digest for i in deleted) == ["sha256:oamd", "sha256:old"]


def test_only_images_labelled_with_this_run_s_repository_are_deleted() -> None:
    theirs = replace(image("b", "2026-01-02"), owner="acme/other")
    nobody = replace(image("c", "2026-01-03"), owner=None)
    images = [image("a", "2026-01-01"), theirs, nobody]
    kept, deleted = choose(images, frozenset(), keep=0, owner=OWNER)
    assert [i.tags[0] for i in deleted] == ["a"] and {theirs, nobody} <= set(kept)
    _kept, deleted = choose(images, frozenset(), keep=0, owner=None)  # no identity: none
    assert deleted == []


def test_space_freed_counts_blobs_no_kept_image_shares_once() -> None:
    base = ("sha256:base-layer", 50_000_000)
    old1 = image(
        "a",
        "1",
        "sha256:m1",
        (("sha256:m1", 500), ("sha256:c1", 1_000), base, ("sha256:deps", 20_000_000)),
    )
    old2 = image(
        "b",
        "2",
        "sha256:m2",
        (
            ("sha256:m2", 500),
            ("sha256:c2", 1_000),
            base,
            ("sha256:deps", 20_000_000),
            ("sha256:code2", 3_000),
        ),
    )
    new = image(
        "c",
        "3",
        "sha256:m3",
        (("sha256:m3", 500), ("sha256:c3", 1_000), base, ("sha256:code3", 3_000)),
    )
    assert freed([old1, old2], [new]) == [20_001_500, 4_500]  # deps counted once; base kept
    assert freed([StoredImage(REPO, "sha256:g", ("g",), "")], [new]) == [None]  # no sizes told


def test_references_after_the_plan_replace_and_remove() -> None:
    server = {"a/p": f"{REPO}:old", "b/p": f"{REPO}:other", "c/p": None}
    assert references_after(server, {"a/p": f"{REPO}:new", "b/p": None}) == frozenset(
        {f"{REPO}:new"}
    )


GHCR_REPO = "ghcr.io/acme/flows/sales/daily"


@pytest.mark.parametrize("scope", ["orgs", "users"])
def test_ghcr_images_are_listed_and_deleted_as_package_versions(scope: str) -> None:
    fake = FakePackages(token="t0ken", scope=scope)
    fake.add("flows/sales/daily", "sha256:untagged", [], "2025-12-01T00:00:00Z")
    old = fake.add("flows/sales/daily", "sha256:old", ["c0ffee"], "2026-01-01T00:00:00Z")
    used = fake.add("flows/sales/daily", "sha256:used", ["beef01"], "2026-01-02T00:00:00Z")
    mid = fake.add("flows/sales/daily", "sha256:mid", ["beef02"], "2026-01-03T00:00:00Z")
    new = fake.add("flows/sales/daily", "sha256:new", ["beef03", "latest"], "2026-01-04T00:00:00Z")
    with serve(fake):
        retention = Retention(RegistryClient(), "t0ken")
        retention.packages = PackagesClient("t0ken", fake.url)
        retention.owner_of = lambda reference: OWNER  # type: ignore[method-assign]
        planned = retention.plan([GHCR_REPO], in_use([f"{GHCR_REPO}:beef01"]), 1, owner=OWNER)
        assert [(d.digest, d.version_id, d.freed) for d in planned] == [
            ("sha256:mid", mid, None),
            ("sha256:old", old, None),
        ]
        assert fake.deleted == []  # planning deletes nothing
        done = retention.apply(planned)
    assert [d.outcome for d in done] == ["deleted", "deleted"]
    assert sorted(fake.deleted) == sorted([old, mid])
    left = {v["id"] for v in fake.packages["flows/sales/daily"]}
    assert left == {used, new, 1000}  # in use, newest, and the untagged one never touched
    assert any(
        r.startswith("DELETE /") and "flows%2Fsales%2Fdaily/versions/" in r for r in fake.requests
    )
    assert retention.warnings == []


def test_ghcr_refusing_a_delete_is_a_warning_and_a_package_not_pushed_yet_is_empty() -> None:
    fake = FakePackages(token="t0ken", refuse_deletes=True)
    fake.add("flows/sales/daily", "sha256:old", ["c0ffee"], "2026-01-01T00:00:00Z")
    fake.add("flows/sales/daily", "sha256:new", ["beef03"], "2026-01-04T00:00:00Z")
    with serve(fake):
        retention = Retention(RegistryClient(), "t0ken")
        retention.packages = PackagesClient("t0ken", fake.url)
        retention.owner_of = lambda reference: OWNER  # type: ignore[method-assign]
        assert retention.plan(["ghcr.io/acme/flows/sales/never-pushed"], frozenset(), 0) == []
        done = retention.apply(retention.plan([GHCR_REPO], frozenset(), keep=1, owner=OWNER))
    assert [d.outcome for d in done] == [
        "refused: HTTP 403: You must have admin permissions on the package to delete it."
    ]
    assert fake.deleted == []
    assert "was not deleted" in retention.warnings[0]


def test_ghcr_without_a_usable_token_says_which_permission_is_needed() -> None:
    fake = FakePackages(token="t0ken")
    fake.add("flows/sales/daily", "sha256:old", ["c0ffee"], "2026-01-01T00:00:00Z")
    with serve(fake), pytest.raises(RegistryError, match="packages: write"):
        PackagesClient("wrong", fake.url).list_images(GHCR_REPO)


def test_the_summaries_list_each_image_with_the_space_it_frees() -> None:
    from io import StringIO

    from rich.console import Console

    from prefect_flow_deploy.core.model import ImageDeletion
    from prefect_flow_deploy.reports.action import deletions_summary
    from prefect_flow_deploy.reports.terminal import print_deletions

    deletions = [
        ImageDeletion(
            REPO, "sha256:" + "a" * 64, ("c0ffee",), "2026-01-01T00:00:00Z", 20_001_500, "deleted"
        ),
        ImageDeletion(
            REPO,
            "sha256:" + "b" * 64,
            ("beef", "old"),
            "2026-01-02T00:00:00Z",
            4_500,
            "refused: HTTP 405 UNSUPPORTED",
        ),
    ]
    out = StringIO()
    print_deletions(deletions, Console(file=out), planned=True)
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == f"would delete\t{REPO}:c0ffee\tsha256:aaaaaaaaaaaa\tcreated 2026-01-01T00:00:00\tfrees 20.0 MB"
    )
    assert lines[1].endswith(
        f"{REPO}:beef,old\tsha256:bbbbbbbbbbbb\tcreated 2026-01-02T00:00:00\tfrees 4.5 kB"
    )
    assert (
        lines[2]
        == "keep-images: 2 images to delete, 20.0 MB freed after the registry's garbage collection"
    )
    markdown = deletions_summary(deletions)
    assert "| 20.0 MB | deleted |" in markdown and "refused: HTTP 405 UNSUPPORTED" in markdown
    assert "2 images, 20.0 MB freed" in markdown
    assert deletions_summary([]) == ""


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        ("localhost:5000/acme/sales/daily:abc123", "localhost:5000/acme/sales/daily"),
        ("ghcr.io/acme/flows/sales/daily@sha256:0f", "ghcr.io/acme/flows/sales/daily"),
        ("ghcr.io/acme/flows/sales/daily:t@sha256:0f", "ghcr.io/acme/flows/sales/daily"),
        ("localhost:5000/daily", "localhost:5000/daily"),
    ],
)
def test_repository_of_an_image_reference(reference: str, repository: str) -> None:
    assert repository_of(reference) == repository


def test_a_removed_deployments_repository_is_trimmed_only_under_our_registry() -> None:
    held = [
        "localhost:5000/acme/sales/gone:abc",  # a gone folder's image: trimmed now
        "localhost:5000/acme-other/x/y:abc",  # another prefix that merely starts alike
        "docker.io/library/python:3.12",  # a hand-made deployment's image: never ours
        None,  # a deployment without an image
    ]
    assert repositories_of_removed(held, "localhost:5000/acme") == {
        "localhost:5000/acme/sales/gone"
    }
