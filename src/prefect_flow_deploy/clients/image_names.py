"""Image references as Docker reads them, and where a registry answers: a reference's host,
repository and tag (or digest), the API host behind `docker.io`, and the hosts spoken to
over plain HTTP (loopback, as Docker allows without configuration). Pure: no request."""

from __future__ import annotations

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


def is_loopback(host: str) -> bool:
    """A registry on this machine: spoken to over plain HTTP."""
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return bare in ("localhost", "::1", "[::1]") or bare.startswith("127.")
