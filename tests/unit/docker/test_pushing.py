"""After a push: the registry must serve the digest pushed (the real registry and a push:
tests/integration/test_registry_digest.py)."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.docker.pushing import check_served


class Answers(RegistryClient):
    """The registry's answer for the tag, given (no network)."""

    def __init__(self, digest: str | None) -> None:
        super().__init__()
        self.digest = digest

    def manifest_digest(self, reference: str) -> str | None:
        return self.digest


def test_the_digest_served_must_be_the_one_pushed() -> None:
    ref = "localhost:5000/acme/p/one:0123456789abcdef0123"
    check_served(Answers("sha256:a"), ref, "sha256:a")
    with pytest.raises(FolderError, match=r"serves sha256:b under .*, not the sha256:a"):
        check_served(Answers("sha256:b"), ref, "sha256:a")
