"""Where a run builds and which cache it uses (settings/builder.py decides, the plan carries it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BuilderKind = Literal["local", "docker", "buildkit", "buildx"]


CacheKind = Literal["inline", "registry"]


CACHE_TAG = "buildcache"


@dataclass(frozen=True)
class BuildPlan:
    """Where this run builds, checks and pushes, and with which cache. Never a secret: the
    TLS material stays in Options."""

    builder: str = ""  # as given; "" for the runner's engine
    kind: BuilderKind = "local"
    # Docker host (tcp://, ssh://, unix://), BuildKit endpoint (tcp://) or buildx builder name
    address: str = ""
    tls: bool = False  # client certificates given
    cache: CacheKind = "inline"

    @property
    def remote_engine(self) -> bool:
        """Built, checked and pushed by an engine other than the runner's."""
        return self.kind == "docker"

    @property
    def uses_buildx(self) -> bool:
        """Built by BuildKit through buildx, then loaded into the runner's engine."""
        return self.kind in ("buildkit", "buildx")

    def describe(self) -> str:
        """One line for the plan: where, and which cache and why."""
        where = {
            "local": "this runner's Docker engine",
            "docker": f"the Docker engine {self.address}"
            + (" (TLS client certificate)" if self.tls else ""),
            "buildkit": f"the BuildKit daemon {self.address} (buildx, remote driver)",
            "buildx": f"the buildx builder {self.address}",
        }[self.kind]
        if self.cache == "registry":
            cache = (
                f"registry cache <registry>/<project>/<folder>:{CACHE_TAG} (mode=max), and "
                "the inline cache of the deployed image"
            )
        elif self.kind == "docker":
            cache = (
                "inline cache (a Docker engine's own builder cannot export a registry cache; "
                "the engine keeps its build cache for every run that uses it)"
            )
        else:
            cache = "inline cache (the image each folder's deployments run now)"
        return f"builds on {where}; {cache}"
