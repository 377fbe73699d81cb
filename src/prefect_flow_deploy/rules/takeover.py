"""Whose deployment a name is: the rules that keep a run from writing over a deployment
that is not its own (another tenant's, another repository's, another folder's that this run
did not read). Pure functions of plain data; decide.py applies them to each deployment."""

from __future__ import annotations

from collections.abc import Mapping

from prefect_flow_deploy.core.model import TENANT_TAG_PREFIX, DeploymentSpec
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.deployment.diff import in_tenant
from prefect_flow_deploy.deployment.ownership import foreign_owner, takeover_message


def other_tenant(
    full_name: str, existing: ExistingDeployment | None, tenant: str | None
) -> str | None:
    """Two tenants on one Prefect server would share deployment names: never overwrite
    another tenant's deployment. (One without a tenant is taken over: the path from a
    single deployment target to tenants.)"""
    if existing is None or in_tenant(existing, tenant):
        return None
    theirs = next(
        (
            t.removeprefix(TENANT_TAG_PREFIX)
            for t in existing.tags
            if t.startswith(TENANT_TAG_PREFIX)
        ),
        None,
    )
    if theirs is None and tenant:
        return None
    ours_ = f"tenant {tenant!r}" if tenant else "a run without a tenant"
    return (
        f"the deployment {full_name} on this Prefect server belongs to tenant {theirs!r}, "
        f"and {ours_} would overwrite it. Give each tenant its own Prefect workspace or "
        "server (prefect-api-url in its block of prefect-flow-deploy.yaml)"
        + ("." if tenant else f", or run with --tenant {theirs}.")
    )


def other_repository(
    full_name: str, existing: ExistingDeployment | None, repository: str | None
) -> str | None:
    """Two repositories on one server and tenant would share deployment names: never
    take over another repository's deployment (one recorded by none is taken over)."""
    owner = foreign_owner(existing.tags, repository) if existing else None
    return takeover_message(full_name, owner, repository) if owner else None


def other_folder(
    spec: DeploymentSpec,
    existing: ExistingDeployment | None,
    read: set[str],
    other_folders: Mapping[str, frozenset[str]],
) -> str | None:
    """The deployment belongs to another folder that this run did not read (`--flows`,
    a shard) and that still has a flow of that name: updating it would hijack that
    folder's deployment. (Folders read in this run were compared already; a folder that
    is gone, or no longer has the flow, means the flow moved: it is taken over.)"""
    other = existing.folder_key() if existing else None
    if not other or other == spec.folder_key or other in read:
        return None
    flow_name = spec.full_name.partition("/")[0]
    if flow_name not in other_folders.get(other, frozenset()):
        return None
    return (
        f"the deployment {spec.full_name} belongs to {other}, which still has the flow "
        f"{flow_name!r}; deploying {spec.folder_key} would take it over. Give one of the "
        "flows another name= (or its prefect.yaml entry another name:)."
    )
