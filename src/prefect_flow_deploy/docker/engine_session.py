"""The engine a run checks and pushes on: the builder site execute has open (build_site.opened
sets it) and its Docker client, else this runner's engine; the engine's platform and a local
image's id. The Docker SDK is imported with this module: callers on a path that may not need
the engine (a no-op plan, cleanup) import it inside the function."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import docker
from docker.errors import DockerException

from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.core.errors import DockerUnavailableError


@dataclass(frozen=True)
class Site:
    plan: BuildPlan
    config_dir: str | None  # DOCKER_CONFIG of the build client (logins; the engine's context)
    command: tuple[str, ...] = ()  # the build command, up to its options
    env: dict[str, str] = field(default_factory=dict)  # set for the build client
    unset: tuple[str, ...] = ()  # removed from the build client's environment
    client: docker.DockerClient | None = None  # the engine that checks and pushes; None: ours


_site: list[Site] = []


def current() -> Site | None:
    return _site[0] if _site else None


def set_current(site: Site | None) -> None:
    """The site open from now on (None: closed)."""
    _site[:] = [site] if site is not None else []


@functools.cache
def local_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as exc:
        raise DockerUnavailableError(
            f"cannot reach a Docker engine ({exc}). Start Docker, or set DOCKER_HOST; in a "
            "GitHub workflow, run on a runner with Docker (ubuntu-latest has it)."
        ) from exc
    return client


def docker_client() -> docker.DockerClient:
    """The engine images are checked and pushed on: the open builder's, else this runner's."""
    site = current()
    return site.client if site is not None and site.client is not None else local_client()


def native_platform() -> str:
    """The engine's own platform, as `os/architecture` (Docker reports x86_64, aarch64)."""
    info = docker_client().info()
    machine = str(info.get("Architecture") or "")
    architecture = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7"}.get(machine, machine)
    return f"{info.get('OSType') or 'linux'!s}/{architecture}"


def local_image_id(reference: str) -> str | None:
    try:
        return str(docker_client().images.get(reference).id)
    except (DockerException, DockerUnavailableError):
        return None
