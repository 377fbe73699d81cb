"""Image references as Docker reads them, and where a registry answers: a reference's host,
repository and tag (or digest), the API host behind `docker.io`, and the hosts spoken to
over plain HTTP (loopback, as Docker allows without configuration). Pure: no request."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageName:
    host: str  # as written ("docker.io" for Docker Hub)
    repository: str
    reference: str  # tag or digest

    @property
    def api_host(self) -> str:
        return "registry-1.docker.io" if self.host == "docker.io" else self.host


def parse_reference(reference: str) -> ImageName:
    name, digest = ([*reference.split("@", 1), ""])[:2] if "@" in reference else (reference, "")
    tag = "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, repository = first, rest
    else:
        host, repository = "docker.io", name
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageName(host, repository, digest or tag)


# Where the GitHub runner mounts the workspace for a container action (shared/ACTION-RUNNER.md,
# from actions/runner's ContainerActionHandler); a `run:` step on the runner has its own path.
ACTION_WORKSPACE = "/github/workspace"


def loopback_advice(host: str, workspace: str | None = None) -> str:
    """What to add to a failed request to a loopback address made by the action's container
    (trial round 11 a 8 said "check that this runner can reach it", and the runner could):
    there `localhost` is the container itself."""
    if workspace is None:
        workspace = os.environ.get("GITHUB_WORKSPACE", "")
    if workspace != ACTION_WORKSPACE or not is_loopback(host):
        return ""
    return (
        " The action runs in a container of its own, where localhost is that container, "
        "not the runner: use the Docker bridge's address (usually 172.17.0.1, listened on "
        "there) or a job service's name, and for a registry one with a DNS name and TLS "
        "(docs/prefect-servers.md: What localhost means inside the action)."
    )


def is_loopback(host: str) -> bool:
    """A registry on this machine: spoken to over plain HTTP."""
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return bare in ("localhost", "::1", "[::1]") or bare.startswith("127.")
