"""Put a private registry and Prefect server in the state a previous deploy of a repository
would have left, without a Docker engine: for plan_scaling.py's "deployed" state.

Uses the engine's own planner to know the content tags and the deployments it wants, then:
- for every image, a minimal manifest under its content tag (the stand-in base's config blob,
  cross-mounted, no layers): the plan's one HEAD per folder answers 200;
- for every deployment, the engine's own `apply` (creates, one after another: the Prefect
  server here is SQLite, which serialises writes anyway), with the code directory a check of
  the image would have found.

A plan right after this says, for every folder: image exists, deployment unchanged.

    python bench/seed_deployed.py --projects-root DIR --registry HOST/NS --base-image REF \
        --work-pool POOL --base-repository bench/base
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx

from prefect_flow_deploy.clients.image_names import parse_reference
from prefect_flow_deploy.clients.prefect_api import resolve
from prefect_flow_deploy.clients.registration import apply, make_client
from prefect_flow_deploy.core.model import DeploymentPlan, ImagePlan
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given, Options

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def base_config(
    http: httpx.Client, base_url: str, base_repository: str, tag: str
) -> dict[str, object]:
    response = http.get(
        f"{base_url}/v2/{base_repository}/manifests/{tag}", headers={"Accept": MANIFEST_V2}
    )
    response.raise_for_status()
    config: dict[str, object] = response.json()["config"]
    return config


def put_image(
    http: httpx.Client, base_url: str, reference: str, config: dict[str, object], source: str
) -> None:
    image = parse_reference(reference)
    mounted = http.post(
        f"{base_url}/v2/{image.repository}/blobs/uploads/",
        params={"mount": str(config["digest"]), "from": source},
    )
    if mounted.status_code != 201:
        raise RuntimeError(f"cannot mount the config blob into {image.repository}: {mounted.text}")
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_V2, "config": config, "layers": []}
    response = http.put(
        f"{base_url}/v2/{image.repository}/manifests/{image.reference}",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": MANIFEST_V2},
    )
    response.raise_for_status()


async def register(options: Options, deployments: list[DeploymentPlan]) -> int:
    written = 0
    async with make_client(resolve(options.prefect_api_url, options.prefect_api_key)) as client:
        for deployment in deployments:
            if deployment.action in ("create", "update") and deployment.spec is not None:
                await apply(client, deployment)
                written += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects-root", type=Path, required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--base-image", required=True)
    parser.add_argument("--work-pool", required=True)
    parser.add_argument("--base-repository", required=True)
    args = parser.parse_args()
    given = {
        "projects_root": args.projects_root,
        "registry": args.registry,
        "base_image": args.base_image,
        "work_pool": args.work_pool,
    }
    options = resolve_options({name: Given(value, f"--{name}") for name, value in given.items()})
    engine = Engine(options)
    plan = engine.plan()
    images: dict[str, ImagePlan] = {i.folder.key: i for i in plan.images}

    host = args.registry.split("/", 1)[0]
    base_url = f"http://{host.replace('localhost', '127.0.0.1')}"
    base_tag = args.base_image.rsplit(":", 1)[1]
    with httpx.Client(timeout=30) as http:
        config = base_config(http, base_url, args.base_repository, base_tag)
        todo = [i.reference for i in images.values() if i.action == "build"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda ref: put_image(http, base_url, ref, config, args.base_repository), todo
                )
            )
    completed = []
    for deployment in plan.deployments:
        image = images.get(deployment.folder_key)
        if deployment.spec is not None and image is not None:
            # Where a check of the image finds the code: the default recipe's directory, or
            # the WORKDIR of the synthetic repository's own Dockerfiles.
            code_dir = image.code_dir or f"/opt/prefect/{image.folder.name}"
            # A schema only the image can compute (a library type): an empty one, as if the
            # check had found no parameter (the next plan reuses what the server holds).
            schema = deployment.spec.parameter_schema or {"type": "object", "properties": {}}
            spec = replace(deployment.spec, code_dir=code_dir, parameter_schema=schema)
            deployment = replace(deployment, spec=spec)
        completed.append(deployment)
    written = asyncio.run(register(options, completed))
    print(f"seeded {len(todo)} images and {written} deployments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
