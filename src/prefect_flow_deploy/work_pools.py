"""Work pools: what a deployment's pool can run, read from its base job template.

Any worker type whose template has an `image` variable runs the image built here (docker,
kubernetes, ecs, cloud-run, cloud-run-v2, azure-container-instance, vertex-ai, and Prefect
Cloud's push pools, `ecs:push`, `cloud-run-v2:push`, …): the image goes there, and the pull
policy, where the template has one, is `IfNotPresent` (a tag is a content hash: what a node
has cached under it is the same image). Job variables are checked against the template
before anything is built, with the rule the server applies when it receives them
(job_variables.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from .prefect_api import ApiSettings, unavailable

IMAGE_VARIABLE = "image"
# The docker and kubernetes workers' variable (prefect-docker's DockerVariables,
# prefect-kubernetes' default template); the others have none.
PULL_POLICY_VARIABLE = "image_pull_policy"
PULL_POLICY = "IfNotPresent"
MANAGED_TYPE = "prefect:managed"
IMAGE_TYPES = "docker, kubernetes, ecs, cloud-run-v2, azure-container-instance or a push pool"


@dataclass(frozen=True)
class Pool:
    name: str
    type: str
    template: dict[str, Any] = field(default_factory=dict)  # the base job template
    exists: bool = True
    # For a pool that does not exist: the pools the server has (a typo is then plain).
    others: tuple[str, ...] = ()

    @property
    def properties(self) -> dict[str, Any]:
        variables = self.template.get("variables") or {}
        result: dict[str, Any] = variables.get("properties") or {}
        return result


class PoolTypeError(ValueError):
    """A work pool type the server's workers do not know."""


def read_pools(settings: ApiSettings, names: set[str], new_type: str) -> dict[str, Pool]:
    """Each pool as the server holds it; a missing one as it would be created: of
    `new_type`, with that worker's default template from the server's collection registry
    (bundled in the server: no network needed). Raises PoolTypeError for an unknown type."""
    pools: dict[str, Pool] = {}
    template: dict[str, Any] | None = None
    others: tuple[str, ...] | None = None
    try:
        with settings.http_client() as client:
            for name in sorted(names):
                response = client.get(f"work_pools/{name}")
                if response.status_code == 404:
                    if template is None:
                        template = default_template(client, new_type)
                    if others is None:  # only when one is missing: a constant cost
                        others = existing_pools(client)
                    pools[name] = Pool(name, new_type, template, exists=False, others=others)
                    continue
                response.raise_for_status()
                data = response.json()
                pools[name] = Pool(
                    name, data.get("type") or "", data.get("base_job_template") or {}
                )
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc
    return pools


def existing_pools(client: httpx.Client) -> tuple[str, ...]:
    """The names of the server's work pools (one page: enough to point out a typo)."""
    response = client.post("work_pools/filter", json={"limit": 200})
    response.raise_for_status()
    return tuple(sorted(str(p.get("name")) for p in response.json() if isinstance(p, dict)))


def missing_pool(pool: Pool, where: str) -> str:
    """Why a deployment's work pool that does not exist fails it (`where`: where the name
    was set), unless the run creates it (create-work-pool)."""
    import difflib

    close = difflib.get_close_matches(pool.name, pool.others, 5, 0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if len(pool.others) <= 8:
        known = f" (it has: {', '.join(pool.others)})" if pool.others else " (it has none)"
    else:
        known = f" (it has {len(pool.others)}" + (
            f", among them {', '.join(close)})" if close else ")"
        )
    return (
        f"the work pool {pool.name!r} (set by {where}) does not exist on the Prefect "
        f"server{known}, and a pool no worker serves never runs a flow.{hint} Fix the name, "
        f"or create the pool and start a worker for it (`prefect work-pool create {pool.name} "
        f"--type {pool.type}`, then `prefect worker start --pool {pool.name}`), or set "
        "create-work-pool: true (--create-work-pool) to have this run create it."
    )


def default_template(client: httpx.Client, pool_type: str) -> dict[str, Any]:
    """The worker's default base job template, as `prefect work-pool create --type` takes it
    (the server's /collections/views/aggregate-worker-metadata)."""
    response = client.get("collections/views/aggregate-worker-metadata")
    response.raise_for_status()
    known = []
    for collection in response.json().values():
        for worker in collection.values() if isinstance(collection, dict) else []:
            if not isinstance(worker, dict):
                continue
            known.append(str(worker.get("type")))
            if worker.get("type") == pool_type:
                template: dict[str, Any] = worker.get("default_base_job_configuration") or {}
                return template
    raise PoolTypeError(
        f"work-pool-type {pool_type!r} is not a worker type this Prefect server knows "
        f"({', '.join(sorted(set(known)))}). Set work-pool-type (--work-pool-type) to one of "
        "them, or create the pool yourself."
    )


def cannot_run_images(pool: Pool) -> str | None:
    """Why this pool cannot run the image built here, or None when it can."""
    if IMAGE_VARIABLE in pool.properties:
        return None
    if pool.type == MANAGED_TYPE:
        # https://docs.prefect.io/v3/deploy/infrastructure-examples/managed ("Images")
        return (
            f"the work pool {pool.name!r} is a Prefect Managed pool ({MANAGED_TYPE}), which "
            "runs only Prefect's own image (prefecthq/prefect:3-latest) with code pulled from "
            "git and packages from its pip_packages variable: it cannot run the image built "
            f"here. Deploy to a pool of type {IMAGE_TYPES} instead (work_pool.name in "
            "prefect.yaml, or work-pool)."
        )
    return (
        f"the work pool {pool.name!r} is of type {pool.type!r}, whose job template has no "
        f"`{IMAGE_VARIABLE}` variable: it runs flows in the worker's own environment and "
        f"cannot run the image built here. Deploy to a pool of type {IMAGE_TYPES} (work_pool.name "
        "in prefect.yaml, or work-pool; a missing pool is created with work-pool-type)."
    )


def job_variables(wanted: dict[str, Any], image: str, pool: Pool) -> dict[str, Any]:
    """The deployment's job variables on this pool: the image, and the pull policy where
    the worker has one and the repository did not set it."""
    variables = {**wanted, IMAGE_VARIABLE: image}
    if PULL_POLICY_VARIABLE in pool.properties and PULL_POLICY_VARIABLE not in wanted:
        variables[PULL_POLICY_VARIABLE] = PULL_POLICY
    return variables


def unknown_variables(variables: dict[str, Any], pool: Pool) -> list[str]:
    """Variables the pool's template does not declare: the server stores them and the
    worker never reads them (a typo would silently do nothing)."""
    if not pool.properties:
        return []  # a template without a schema: nothing to check against (as the server)
    return sorted(name for name in variables if name.split(".")[0] not in pool.properties)
