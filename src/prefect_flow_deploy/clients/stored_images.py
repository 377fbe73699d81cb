"""What a registry holds, as keep-images sees it: an image with every tag of its digest, and
the label that names the repository whose run built it. Plain data: the registry client
(registry.py) and GHCR's Packages API (ghcr.py) both answer with it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredImage:
    """One image in a repository: every tag that points at its digest."""

    repository: str  # host/path, as in an image reference
    digest: str
    tags: tuple[str, ...]
    created: str  # ISO 8601 from the image config (or the registry's record); "" unknown
    blobs: tuple[tuple[str, int], ...] = ()  # (digest, bytes): manifest, config, layers
    version_id: int | None = None  # a GitHub package version, for GHCR
    # The repository whose run built it (its REPOSITORY_LABEL); None: not told.
    owner: str | None = None
    children: tuple[str, ...] = ()  # an index's platform images, by digest


# The label a run puts on every image it builds: the repository it acts as (ownership.py).
REPOSITORY_LABEL = "io.prefect-flow-deploy.repository"
