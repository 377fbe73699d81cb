"""Prefect's own way: a `prefect.yaml` in every flow folder whose deployment uses the
`prefect_docker` build and push steps as Prefect's documentation shows them, and
`prefect deploy --all` run in each folder, one folder after another (a shell loop in CI).

Per folder rather than one `prefect.yaml` at the root: `dockerfile: auto` (the documented
default for a folder without a Dockerfile) takes the build context, `requirements.txt` and the
code directory from the current directory, so it only works with the folder as the working
directory. Consequences kept as Prefect has them: no `tag:`, so the build step tags with the
current time (a new image and a new push every run), and every run writes every deployment.

Adaptations to this machine, which cannot reach Docker Hub: `pull: false` on the build step,
and `dockerfile: auto`'s fixed base image `prefecthq/prefect:<version>-python<x.y>` is a local
tag of the benchmark's base image (set by run.py). Folders with their own Dockerfile get
`BASE_IMAGE` as a build argument, as the other tools pass it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from synth import FolderSpec

PREFECT_DOCKER_BUILD = "prefect_docker.deployments.steps.build_docker_image"
PREFECT_DOCKER_PUSH = "prefect_docker.deployments.steps.push_docker_image"
SET_WORKDIR = "prefect.deployments.steps.set_working_directory"

LOOP = """set -u
rc=0
for folder in */*/; do
  (cd "$folder" && prefect --no-prompt deploy --all) || { echo "FAILED: $folder" >&2; rc=1; }
done
exit $rc
"""


def prefect_yaml(spec: FolderSpec, registry: str, base_image: str, work_pool: str) -> str:
    build: dict[str, Any] = {
        "id": "build-image",
        "requires": "prefect-docker>=0.3.1",
        "image_name": f"{registry}/{spec.project}/{spec.name}",
        "dockerfile": "Dockerfile" if spec.own_dockerfile else "auto",
        "pull": False,
        # The docker CLI removes intermediate containers by default; docker-py does not.
        "rm": True,
    }
    if spec.own_dockerfile:
        build["buildargs"] = {"BASE_IMAGE": base_image}
    deployment: dict[str, Any] = {
        "name": spec.project,
        "entrypoint": spec.entrypoint,
    }
    for key in ("description", "tags", "parameters", "schedules"):
        if spec.config and spec.config.get(key):
            deployment[key] = spec.config[key]
    deployment["work_pool"] = {
        "name": work_pool,
        "job_variables": {"image": "{{ build-image.image }}"},
    }
    document = {
        "name": spec.name,
        "prefect-version": "3.9.1",
        "build": [{PREFECT_DOCKER_BUILD: build}],
        "push": [
            {
                PREFECT_DOCKER_PUSH: {
                    "requires": "prefect-docker>=0.3.1",
                    "image_name": "{{ build-image.image_name }}",
                    "tag": "{{ build-image.tag }}",
                }
            }
        ],
        # dockerfile: auto copies the folder to /opt/prefect/<folder>; so do the own
        # Dockerfiles of the synthetic repository.
        "pull": [{SET_WORKDIR: {"directory": f"/opt/prefect/{spec.name}"}}],
        "deployments": [deployment],
    }
    return yaml.safe_dump(document, sort_keys=False)


def prepare(root: Path, specs: list[FolderSpec], registry: str, base_image: str, pool: str) -> None:
    """Give every folder of the copied repository its Prefect-style prefect.yaml (replacing
    the deployments-only one some folders have: the same settings, plus build/push/pull)."""
    for spec in specs:
        path = root / spec.project / spec.name / "prefect.yaml"
        path.write_text(prefect_yaml(spec, registry, base_image, pool))
