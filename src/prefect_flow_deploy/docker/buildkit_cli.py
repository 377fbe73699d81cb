"""Which command builds with BuildKit against this engine: a docker client that can, else the
buildx plugin run on its own (the action's image ships only buildx)."""

from __future__ import annotations

import functools
import os
import subprocess

from prefect_flow_deploy.core.errors import DockerUnavailableError

# Plugin homes that Debian's and Docker's own packages install docker-buildx into.
_BUILDX_PLUGIN_DIRS = ("/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins")


@functools.cache
def buildkit_command() -> tuple[str, ...]:
    """The command that builds with BuildKit against this engine: a docker client that can
    (`docker build`), else the buildx plugin run on its own (`docker-buildx build`), which
    needs no docker CLI at all: the action's image ships only buildx (30 MB less)."""
    plugins = [os.path.join(d, "docker-buildx") for d in _BUILDX_PLUGIN_DIRS]
    candidates = [  # (path, is a docker client); what the environment names comes first
        (os.environ.get("PFD_DOCKER_CLI", ""), True),
        (os.environ.get("PFD_BUILDX", ""), False),
        *((c, True) for c in [*_on_path("docker"), "/usr/bin/docker"]),
        *((c, False) for c in [*_on_path("docker-buildx"), *plugins]),
    ]
    tried: list[str] = []
    for path, is_docker in candidates:
        if path in tried or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        tried.append(path)
        if _docker_builds_with_buildkit(path) if is_docker else _runs(path, "version"):
            return (path, "build")
    raise DockerUnavailableError(
        "no docker client that can build with BuildKit was found (tried: "
        f"{', '.join(tried) or 'none on PATH'}). Install the buildx plugin (docker-buildx), or "
        "set PFD_DOCKER_CLI to a docker client that has it, or PFD_BUILDX to a buildx binary."
    )


def _on_path(name: str) -> list[str]:
    return [os.path.join(d, name) for d in os.environ.get("PATH", "").split(os.pathsep) if d]


def _runs(*command: str) -> bool:
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _docker_builds_with_buildkit(cli: str) -> bool:
    try:
        version = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        major = int(version.split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return False
    if major < 23:  # BuildKit is built into clients before 23.0
        return True
    return _runs(cli, "buildx", "version")
