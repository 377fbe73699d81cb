"""The digests of the base images the folders build FROM, each looked up once per run."""

from __future__ import annotations

import threading

from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import RegistryError


def _local_image_id(reference: str) -> str | None:
    from prefect_flow_deploy.docker.engine_session import (
        local_image_id,  # the Docker SDK: only when the registry cannot tell
    )

    return local_image_id(reference)


class BaseDigests:
    """Base image reference → digest; the caller asks about each reference once per run
    (run/image_questions.py)."""

    def __init__(self, registry: RegistryClient) -> None:
        self.registry = registry
        self.digests: dict[str, str] = {}
        self.problems: dict[str, str] = {}
        self.warnings: dict[str, str] = {}
        self._lock = threading.Lock()

    def resolve(self, reference: str) -> None:
        """One base image, looked up in the calling thread (threads may look up others)."""
        kind, value = self._resolve(reference)
        with self._lock:
            if kind == "ok":
                self.digests[reference] = value
            elif kind == "local":
                self.digests[reference] = value
                self.warnings[reference] = (
                    f"the base image {reference} could not be looked up in its registry; using "
                    "the local image instead, so a new push of that tag is not noticed here."
                )
            else:
                self.problems[reference] = value

    def _resolve(self, reference: str) -> tuple[str, str]:
        try:
            digest = self.registry.manifest_digest(reference)
        except RegistryError as exc:
            local = _local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return "error", f"cannot resolve the base image {reference}: {exc}"
        if digest is None:
            local = _local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return (
                "error",
                f"the base image {reference} does not exist in its registry (no such tag).",
            )
        return "ok", digest
