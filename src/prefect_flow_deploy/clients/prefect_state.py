"""What the Prefect server holds for a run: every deployment this tool manages, with the
automations of its triggers (one request for each kind, whatever the number of deployments);
and the deployments of the wanted names that it did not make, to be taken over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefect_flow_deploy.clients.prefect_api import (
    ApiSettings,
    read_managed,
    read_named,
    read_related_automations,
    read_tagged_automations,
)
from prefect_flow_deploy.core.model import MANAGED_TAG
from prefect_flow_deploy.core.server_state import ExistingDeployment, ServerState
from prefect_flow_deploy.deployment.diff import existing_from_json


def fetch_state(settings: ApiSettings) -> ServerState:
    """Every deployment this tool manages, with its flow name and its triggers."""
    from prefect_flow_deploy.deployment.triggers import run_deployment_id

    automations: dict[str, list[dict[str, Any]]] = {}
    for automation in read_tagged_automations(settings, MANAGED_TAG):
        owner = run_deployment_id(automation)
        if owner:
            automations.setdefault(owner, []).append(automation)
    deployments = {}
    for data in read_managed(settings, MANAGED_TAG):
        existing = existing_from_json(data, data["flow_name"])
        existing = replace(existing, automations=automations.get(existing.id, []))
        deployments[existing.full_name] = existing
    return ServerState(deployments, automations)


def fetch_unmanaged(
    settings: ApiSettings, full_names: list[str], state: ServerState
) -> list[ExistingDeployment]:
    """Deployments of these names that this tool did not make (by hand, `prefect deploy`):
    taken over rather than duplicated. One call for all, and one for the triggers of each
    (`prefect deploy` made them without our tag: they are taken over by name)."""
    from prefect_flow_deploy.deployment.triggers import run_deployment_id

    found = []
    for data in read_named(settings, full_names):
        if MANAGED_TAG in (data.get("tags") or []):
            continue
        existing = existing_from_json(data, data["flow_name"])
        owned = [
            a
            for a in read_related_automations(settings, existing.id)
            if run_deployment_id(a) == existing.id
        ]
        found.append(replace(existing, automations=owned))
    return found
