"""Flows whose name only running their file tells (flows_source: `pending_name`): the built
image computes it, where Prefect loads the file (image_programs.image_schemas). Pure rules for
both ends of a run:

- planning: the name the server's deployment of this very content already holds is reused
  (a re-run with no change runs no container, as for schemas); a folder with a name still
  pending keeps its deployments from removal (which of them is gone cannot be told);
- executing: the computed name is judged as the plan judges names (Prefect's refused
  characters, two flows of one name, another tenant's or repository's deployment) before
  the deployment is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from prefect_flow_deploy.core.model import DeploymentPlan, DeploymentSpec, Plan, is_pending_name
from prefect_flow_deploy.core.naming import BANNED_CHARACTERS
from prefect_flow_deploy.core.server_state import ExistingDeployment, ServerState
from prefect_flow_deploy.settings.options import Options


def reuse_name(spec: DeploymentSpec, snapshot: ServerState) -> DeploymentSpec:
    """The flow name the image computed from this same content (the deployment of this
    folder, entrypoint and name that holds this content tag), else the spec as it is."""
    if not is_pending_name(spec.flow_name):
        return spec
    for existing in snapshot.deployments.values():
        held = existing.comparable
        if (
            existing.name == spec.name
            and existing.folder_key() == spec.folder_key
            and held.get("entrypoint") == spec.entrypoint
            and held.get("version") == spec.version
        ):
            # and the description the image gave it, when nothing else sets one
            description = spec.description or str(held.get("description") or "")
            return replace(spec, flow_name=existing.flow_name, description=description)
    return spec


def pending_folders(specs: Iterable[DeploymentSpec]) -> set[str]:
    """Folders with a deployment whose flow name is still to be computed."""
    return {s.folder_key for s in specs if is_pending_name(s.flow_name)}


def awaiting_image(deployments: Iterable[DeploymentPlan]) -> set[str]:
    """Folders with a deployment to write whose schema or flow name only the image can
    tell: their image is pulled and checked even when it exists."""
    return {
        d.folder_key
        for d in deployments
        if d.spec is not None
        and (d.spec.parameter_schema is None or is_pending_name(d.spec.flow_name))
        and d.action in ("create", "update")
    }


def never_checked(deployments: Iterable[DeploymentPlan], snapshot: ServerState) -> set[str]:
    """Folders with a deployment to write whose flow no deployment on the server runs from
    this image (its content tag and entrypoint): the image is pulled and checked for it even
    when it exists. A flow that failed the check while the folder's others deployed (the
    image pushed for them) is checked again, not written unchecked on the next run."""
    ran = {(e.comparable.get("version"), e.comparable.get("entrypoint"))
           for e in snapshot.deployments.values()}  # fmt: skip
    return {
        d.folder_key
        for d in deployments
        if d.spec is not None
        and d.action in ("create", "update")
        and (d.spec.version, d.spec.entrypoint) not in ran
    }


def named(spec: DeploymentSpec, name: str, plan: Plan, options: Options) -> DeploymentSpec | str:
    """The spec under the name the image computed, or why it cannot be written."""
    from prefect_flow_deploy.rules.takeover import (  # the plan's own rules
        other_repository,
        other_tenant,
    )

    where = f"the flow {spec.entrypoint}, named in the built image {name!r},"
    banned = sorted({c for c in name if c in BANNED_CHARACTERS})
    if banned:
        return f"{where} has {', '.join(banned)} in its name, which Prefect refuses: choose another name=."
    full_name = f"{name}/{spec.name}"
    others = [
        d.spec.entrypoint for d in plan.deployments
        if d.full_name == full_name and d.spec is not None and d.spec.entrypoint != spec.entrypoint
    ]  # fmt: skip
    if others:
        return f"{where} would share the deployment {full_name} with {others[0]}: give one of them another name=."
    existing: ExistingDeployment | None = (
        plan.snapshot.deployments.get(full_name) if plan.snapshot else None
    )
    taken = other_tenant(full_name, existing, options.tenant) or other_repository(
        full_name, existing, options.repository
    )
    return replace(spec, flow_name=name) if taken is None else f"{where}: {taken}"
