"""keep-images: after a deploy, delete each folder repository's images beyond the newest N
that no deployment on the Prefect server uses.

Decisions are pure (`choose`, `freed`, `references_after`); reading and deleting go through
the registry's API (`RegistryClient`) or, for ghcr.io, GitHub's Packages API
(`PackagesClient`). An image in use by any deployment of the server, whatever its tenant, is
never deleted, whatever N. Images are counted by digest: tags sharing a digest are one image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from .builder_choice import is_cache_tag
from .errors import RegistryError
from .ghcr import GHCR, PackagesClient
from .model import ImageDeletion
from .naming import registry_host, repository_of
from .registry import RegistryClient, StoredImage


def is_used(image: StoredImage, in_use: frozenset[str]) -> bool:
    return f"{image.repository}@{image.digest}" in in_use or any(
        f"{image.repository}:{tag}" in in_use for tag in image.tags
    )


def choose(
    images: Iterable[StoredImage], in_use: frozenset[str], keep: int
) -> tuple[list[StoredImage], list[StoredImage]]:
    """(kept, deleted): the newest `keep` images and every image in use are kept. A registry
    build cache (`:buildcache`, builder_choice.py) is no image: never deleted, never counted."""
    every = list(images)
    caches = [i for i in every if i.tags and all(is_cache_tag(t) for t in i.tags)]
    ranked = [i for i in every if i not in caches]
    newest_first = sorted(ranked, key=lambda i: (i.created, max(i.tags, default="")), reverse=True)
    kept: list[StoredImage] = list(caches)
    deleted: list[StoredImage] = []
    for rank, image in enumerate(newest_first):
        (kept if rank < keep or is_used(image, in_use) else deleted).append(image)
    return kept, deleted


def freed(deleted: list[StoredImage], kept: list[StoredImage]) -> list[int | None]:
    """Per deleted image, the bytes of its manifest, config and layers that no kept image
    (of any repository examined) shares, each blob counted once."""
    shared = {digest for image in kept for digest, _ in image.blobs}
    counted: set[str] = set()
    sizes: list[int | None] = []
    for image in deleted:
        if not image.blobs:
            sizes.append(None)
            continue
        own = {d: s for d, s in image.blobs if d not in shared and d not in counted}
        counted.update(own)
        sizes.append(sum(own.values()))
    return sizes


def references_after(
    server: Mapping[str, str | None], planned: Mapping[str, str | None]
) -> frozenset[str]:
    """The image references deployments will hold once the plan is applied: the server's,
    with each planned deployment's new image (None: removed)."""
    images = {**server, **planned}
    return frozenset(image for image in images.values() if image)


def repositories_of_removed(images: Iterable[str | None], registry: str) -> set[str]:
    """The repositories, under this run's registry prefix, of the images deployments held
    before this run removed them. A gone folder keeps its images while its deployments are
    there; once they are removed, its repository is trimmed like any other (newest N and
    whatever is still in use kept). Images elsewhere (a hand-made deployment's) are never
    ours to delete."""
    prefix = registry.rstrip("/") + "/"
    return {repository_of(i) for i in images if i and i.startswith(prefix)}


class Retention:
    """Lists and deletes images in a plain v2 registry or on GHCR."""

    def __init__(self, registry: RegistryClient, github_token: str | None) -> None:
        self.registry = registry
        self.packages = PackagesClient(github_token)
        self.warnings: list[str] = []

    def plan(
        self,
        repositories: Iterable[str],
        in_use: frozenset[str],
        keep: int,
        to_build: Mapping[str, str] | None = None,
    ) -> list[ImageDeletion]:
        """`to_build`: repository → tag of an image the plan builds (in a dry run it is not
        in the registry yet, but it will be the newest)."""
        every_kept: list[StoredImage] = []
        every_deleted: list[StoredImage] = []
        for repository in sorted(set(repositories)):
            try:
                images = self._list(repository)
            except RegistryError as exc:
                self.warnings.append(f"keep-images: cannot list {repository}: {exc}")
                continue
            if to_build and repository in to_build:
                images.append(StoredImage(repository, "planned", (to_build[repository],), "~"))
            kept, deleted = choose(images, in_use, keep)
            every_kept += kept
            every_deleted += deleted
        return [
            ImageDeletion(i.repository, i.digest, i.tags, i.created, size, version_id=i.version_id)
            for i, size in zip(every_deleted, freed(every_deleted, every_kept), strict=True)
        ]

    def apply(self, deletions: list[ImageDeletion]) -> list[ImageDeletion]:
        """Delete each image; a registry that refuses is a warning, not a failure."""
        done = []
        for deletion in deletions:
            refused = self._delete(deletion)
            if refused:
                self.warnings.append(
                    f"keep-images: {deletion.repository}@{deletion.digest} was not deleted: "
                    f"{refused}. The registry does not allow deletes (for a distribution "
                    "registry: storage.delete.enabled: true); the image is kept."
                )
            done.append(replace(deletion, outcome=f"refused: {refused}" if refused else "deleted"))
        return done

    def close(self) -> None:
        self.packages.close()

    def _list(self, repository: str) -> list[StoredImage]:
        if registry_host(repository + ":x") == GHCR:
            return self.packages.list_images(repository)
        return self.registry.list_images(repository)

    def _delete(self, deletion: ImageDeletion) -> str | None:
        try:
            if registry_host(deletion.repository + ":x") == GHCR:
                return self.packages.delete(deletion.repository, deletion.version_id)
            return self.registry.delete_manifest(deletion.repository, deletion.digest)
        except RegistryError as exc:
            return str(exc)
