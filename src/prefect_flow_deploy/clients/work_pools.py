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

from typing import Any

import httpx

from prefect_flow_deploy.clients.prefect_api import ApiSettings, unavailable
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.rules.pools import PoolTypeError


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
