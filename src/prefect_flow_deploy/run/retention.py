"""keep-images: after a deploy, delete each folder repository's images beyond the newest N
that no deployment on the Prefect server uses.

Decisions are pure (`choose`, `freed`, `references_after`, `in_use`); reading and deleting
go through the registry's API (`RegistryClient`) or, for ghcr.io, GitHub's Packages API
(`PackagesClient`). An image in use by any deployment of the server, whatever its tenant, is
never deleted, whatever N, however the deployment spells it (`127.0.0.1:5000/…` for
`localhost:5000/…`, `repo:tag@sha256:…`, a digest alone): every reference is reduced to its
canonical repository and its tag and digest, and the listing tells each tag's digest. A
manifest list (several platforms) is one image with its platform images: they go with it,
never alone. Images are counted by digest: tags sharing a digest are one image.

Only this run's images are deleted: in the repositories of the folders it read (and of the
deployments it removed), and only an image that carries this run's repository in its label
(`REPOSITORY_LABEL`, put on at build time). Another repository sharing the registry prefix
and the folder names keeps its images, one it pushed a moment ago included; a run with no
repository identity deletes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from prefect_flow_deploy.clients.ghcr import GHCR, PackagesClient
from prefect_flow_deploy.clients.image_names import parse_reference
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels
from prefect_flow_deploy.clients.stored_images import REPOSITORY_LABEL, StoredImage
from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.core.model import ImageDeletion
from prefect_flow_deploy.core.naming import registry_host, repository_of
from prefect_flow_deploy.settings.builder import is_cache_tag

_LOOPBACK = ("127.0.0.1", "[::1]", "::1")
_PORT = re.compile(r"(?P<host>.+):(?P<port>[0-9]+)")


def canonical_repository(repository: str) -> str:
    """One spelling per repository: a loopback address is `localhost`, Docker Hub's
    `docker.io/library/x` whatever the reference said."""
    name = parse_reference(repository + ":x")
    host, port = name.host, ""
    if (split := _PORT.fullmatch(host)) is not None:
        host, port = split["host"], split["port"]
    if host in _LOOPBACK:
        host = "localhost"
    return f"{host}{':' + port if port else ''}/{name.repository}"


def in_use(references: Iterable[str]) -> frozenset[str]:
    """The references deployments hold, each as `<repository>:<tag>` and, when it names one,
    `<repository>@<digest>`, in canonical spelling."""
    found: set[str] = set()
    for reference in references:
        head, _, digest = reference.partition("@")
        repository = canonical_repository(repository_of(head))
        last = head.rsplit("/", 1)[-1]
        if ":" in last:
            found.add(f"{repository}:{last.rsplit(':', 1)[1]}")
        if digest:
            found.add(f"{repository}@{digest}")
    return frozenset(found)


def is_used(image: StoredImage, used: frozenset[str]) -> bool:
    repository = canonical_repository(image.repository)
    return f"{repository}@{image.digest}" in used or any(
        f"{repository}:{tag}" in used for tag in image.tags
    )


def choose(
    images: Iterable[StoredImage],
    used: frozenset[str],
    keep: int,
    owner: str | None = None,
    drop: frozenset[str] = frozenset(),
) -> tuple[list[StoredImage], list[StoredImage]]:
    """(kept, deleted) of one repository: of this run's images (`owner`'s), the newest
    `keep` and every one in use are kept (`used`: `in_use`); the platform images of a kept
    manifest list with it; another repository's image (or one that says nobody's) always.
    `drop`: references deleted even among the newest unless in use (images only previews
    used, previews.images_only_previews_used); they take no place among the newest. A
    registry build cache (`:buildcache`, builder_choice.py) is no image: never deleted,
    never counted."""
    images = list(images)
    caches = [i for i in images if i.tags and all(is_cache_tag(t) for t in i.tags)]
    parts = {child for image in images for child in image.children}
    tops = [i for i in images if i.digest not in parts and i not in caches]
    newest_first = sorted(tops, key=lambda i: (i.created, max(i.tags, default="")), reverse=True)
    kept: list[StoredImage] = list(caches)
    deleted: list[StoredImage] = []
    rank = 0
    for image in newest_first:
        if owner is None or image.owner != owner:
            kept.append(image)  # not this run's to delete
            continue
        dropped = any(f"{image.repository}:{tag}" in drop for tag in image.tags)
        newest = not dropped and rank < keep
        rank += not dropped
        (kept if newest or is_used(image, used) else deleted).append(image)
    needed = {child for image in kept for child in image.children}
    for part in (i for i in images if i.digest in parts):
        ours = owner is not None and part.owner == owner
        keep_part = not ours or part.digest in needed or is_used(part, used)
        (kept if keep_part else deleted).append(part)
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
        used: frozenset[str],
        keep: int,
        to_build: Mapping[str, str] | None = None,
        owner: str | None = None,
        drop: frozenset[str] = frozenset(),
    ) -> list[ImageDeletion]:
        """`to_build`: repository → tag of an image the plan builds (in a dry run it is not
        in the registry yet, but it will be the newest). `owner`: the repository this run
        acts as; only images labelled with it are deleted (None: none)."""
        every_kept: list[StoredImage] = []
        every_deleted: list[StoredImage] = []
        for repository in sorted(set(repositories)):
            try:
                images = self._list(repository)
            except RegistryError as exc:
                self.warnings.append(f"keep-images: cannot list {repository}: {exc}")
                continue
            if to_build and repository in to_build:
                tag = to_build[repository]
                images.append(StoredImage(repository, "planned", (tag,), "~", owner=owner))
            kept, deleted = choose(images, used, keep, owner, drop)
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
            return [
                replace(image, owner=self.owner_of(f"{image.repository}@{image.digest}"))
                for image in self.packages.list_images(repository)
            ]
        return self.registry.list_images(repository)

    def owner_of(self, reference: str) -> str | None:
        """The repository label of an image GitHub's Packages API listed (it tells no
        labels): read through the registry's API; None when it cannot be read."""
        return image_labels(self.registry, reference).get(REPOSITORY_LABEL)

    def _delete(self, deletion: ImageDeletion) -> str | None:
        try:
            if registry_host(deletion.repository + ":x") == GHCR:
                return self.packages.delete(deletion.repository, deletion.version_id)
            return self.registry.delete_manifest(deletion.repository, deletion.digest)
        except RegistryError as exc:
            return str(exc)
