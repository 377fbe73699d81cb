"""Work pool rules: a pool that does not exist, one that cannot run the image built here, the
job variables a deployment gets on its pool (the image, the pull policy) and those the pool's
template does not declare. Pure: the pool as the server holds it (core.server_state.Pool)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prefect_flow_deploy.core.model import DeploymentPlan
from prefect_flow_deploy.core.server_state import Pool

IMAGE_VARIABLE = "image"

# The docker and kubernetes workers' variable (prefect-docker's DockerVariables,
# prefect-kubernetes' default template); the others have none.
PULL_POLICY_VARIABLE = "image_pull_policy"

PULL_POLICY = "IfNotPresent"

MANAGED_TYPE = "prefect:managed"

IMAGE_TYPES = "docker, kubernetes, ecs, cloud-run-v2, azure-container-instance or a push pool"


class PoolTypeError(ValueError):
    """A work pool type the server's workers do not know."""


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
    if "{{" in pool.name:  # a template nothing fills in: no pool is ever named so
        return (
            f"the work pool {pool.name!r} (set by {where}) is a template, which "
            f"prefect-flow-deploy does not fill in, and no pool of that name exists{known}. "
            "Write the pool's name, or give it per tenant in prefect-flow-deploy.yaml "
            "(work-pool)."
        )
    return (
        f"the work pool {pool.name!r} (set by {where}) does not exist on the Prefect "
        f"server{known}, and a pool no worker serves never runs a flow.{hint} Fix the name, "
        f"or create the pool and start a worker for it (`prefect work-pool create {shlex.quote(pool.name)} "
        f"--type {pool.type}`, then `prefect worker start --pool {shlex.quote(pool.name)}`), or set "
        "create-work-pool: true (--create-work-pool) to have this run create it."
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


def pools_to_create(pools: Mapping[str, Pool], deployments: Iterable[DeploymentPlan]) -> list[Pool]:
    """The work pools a plan creates: missing, and used by a deployment it keeps (decide
    fails the others, unless create-work-pool says to create them)."""
    used = {
        d.spec.work_pool
        for d in deployments
        if d.spec and d.action not in ("failed", "remove", "orphan")
    }
    return [p for name, p in sorted(pools.items()) if name in used and not p.exists]


# Prefect's images install these packages as each run's container starts (their entrypoint
# script): a package the image lacks may then come at run time.
EXTRA_PIP_PACKAGES = "EXTRA_PIP_PACKAGES"


def installs_at_start(
    plans: Iterable[DeploymentPlan], pools: Mapping[str, Pool], dockerfile: str | None
) -> bool:
    """Whether a run of the folder's deployments may install a package as it starts: its
    env (the entry's, the tenant's job variables), its pool's default env, or the image's
    ENV set EXTRA_PIP_PACKAGES. When none does, a package the image lacks crashes every run
    that imports it (trial round 9 a 8: andrew-dang/goc-datasets, a warning and a crash)."""
    if dockerfile is not None and EXTRA_PIP_PACKAGES in dockerfile:
        return True
    return any(EXTRA_PIP_PACKAGES in env for env in _run_envs(plans, pools))


def run_environment(plans: Iterable[DeploymentPlan], pools: Mapping[str, Pool]) -> dict[str, str]:
    """The environment the folder's runs get from their job variables, for loading its flow
    files in the image as a run would: the pool's default env with the deployment's env over
    it, key by key (Prefect's worker, BaseJobConfiguration.from_template_and_values), the
    first deployment's value where two differ. A `{{ … }}` the worker fills in at run time
    is left out. Trial round 10 a 5: `os.getenv("SCOPES").split(",")` at a module's top,
    SCOPES in the pool's default env, was refused while its runs completed."""
    env: dict[str, str] = {}
    for merged in _run_envs(plans, pools):
        for name, value in merged.items():
            if isinstance(value, str | int | float | bool) and "{{" not in str(value):
                env.setdefault(str(name), str(value))
    return env


def _run_envs(
    plans: Iterable[DeploymentPlan], pools: Mapping[str, Pool]
) -> Iterator[dict[Any, Any]]:
    """Each deployment's env as its worker merges it: the pool's default, its own over it."""
    for plan in plans:
        spec = plan.spec
        if spec is None:
            continue
        pool = pools.get(spec.work_pool)
        default = (pool.properties.get("env") or {}).get("default") if pool else None
        given = spec.job_variables.get("env")
        yield {
            **(default if isinstance(default, dict) else {}),
            **(given if isinstance(given, dict) else {}),
        }
