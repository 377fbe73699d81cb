"""Deployment triggers (prefect.yaml `triggers:`): automations owned by the deployment.

Read and turned into automations exactly as `prefect deploy` does
(prefect/cli/deploy/_triggers.py: `DeploymentTriggerTypes`, a default name
`<deployment name>__automation_<n>`, `as_automation()` owned by `prefect.deployment.<id>`,
plus the managed-by tag), but reconciled by name instead of deleted and recreated on every deploy: an unchanged
trigger is not written, and one switched off in the UI stays off unless prefect.yaml says
`enabled:`. Prefect is imported only when a deployment has triggers, in the file or on the
server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from prefect_flow_deploy.core.model import MANAGED_TAG, DeploymentSpec

# Compared as Prefect's client models dump them: server-side bookkeeping is left out.
_NOT_COMPARED = {"id", "created", "updated", "owner_resource"}
# A placeholder id to validate and compare triggers of a deployment not yet created.
_NO_ID = UUID(int=0)


class TriggerError(ValueError):
    """A prefect.yaml trigger that Prefect rejects."""


def run_deployment_id(automation: dict[str, Any]) -> str | None:
    """The deployment a trigger's automation runs (its only action, as `as_automation()`
    makes it). The API's JSON does not say which resource owns an automation, so ours carry
    the managed-by tag and are told apart by this action."""
    actions = automation.get("actions") or []
    if len(actions) != 1 or actions[0].get("type") != "run-deployment":
        return None
    deployment_id = actions[0].get("deployment_id")
    return str(deployment_id) if deployment_id else None


def with_server_enabled(
    triggers: Sequence[dict[str, Any]], name: str, owned: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The triggers, named; one without `enabled:` takes the server's value for the
    automation of its name (a switch in the UI stays)."""
    enabled = {a["name"]: bool(a.get("enabled", True)) for a in owned}
    result = []
    for index, trigger in enumerate(triggers, start=1):
        trigger = {"name": f"{name}__automation_{index}", **trigger}
        if "enabled" not in trigger and trigger["name"] in enabled:
            trigger["enabled"] = enabled[trigger["name"]]
        result.append(trigger)
    return result


def automations(spec: DeploymentSpec, deployment_id: str | None) -> dict[str, dict[str, Any]]:
    """Automation name → the automation to write, as the API's JSON (raises TriggerError)."""
    from prefect_flow_deploy.deployment.prefect_compat import deployment_trigger_adapter

    DeploymentTriggerAdapter = deployment_trigger_adapter()
    from pydantic import ValidationError

    result = {}
    for config in with_server_enabled(spec.triggers, spec.name, []):
        try:
            trigger = DeploymentTriggerAdapter.validate_python(config)
        except ValidationError as exc:
            raise TriggerError(
                f"invalid trigger {config['name']!r}: {_first_error(exc)} (triggers use "
                "Prefect's automation format: https://docs.prefect.io/v3/automate/events/"
                "automations-triggers)"
            ) from exc
        trigger.set_deployment_id(UUID(deployment_id) if deployment_id else _NO_ID)
        automation = trigger.as_automation().model_dump(mode="json")
        result[config["name"]] = {**automation, "tags": [MANAGED_TAG]}
    return result


def _first_error(exc: Any) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()) if not str(p).startswith("function"))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def comparable(automation: dict[str, Any]) -> str:
    """One automation as Prefect's client model reads it, for comparison."""
    from prefect.events.schemas.automations import AutomationCore

    dumped = AutomationCore.model_validate(automation).model_dump(mode="json")
    return json.dumps(
        {k: v for k, v in dumped.items() if k not in _NOT_COMPARED}, sort_keys=True, default=str
    )


TriggerWrite = tuple[str, str, str | None]  # ("create" | "update" | "remove", name, id)


def trigger_writes(spec: DeploymentSpec, existing: Any) -> list[TriggerWrite]:
    """Only what differs, matched by name. `existing` is the ExistingDeployment (None for a
    new deployment). A second automation of one name (left by earlier deploys) is removed."""
    owned: list[dict[str, Any]] = existing.automations if existing is not None else []
    if not spec.triggers and not owned:
        return []
    on_server: dict[str, dict[str, Any]] = {}
    writes: list[TriggerWrite] = []
    for automation in sorted(owned, key=lambda a: str(a.get("created"))):
        if automation["name"] not in on_server:
            on_server[automation["name"]] = automation
        elif MANAGED_TAG in (automation.get("tags") or []):
            writes.append(("remove", automation["name"], str(automation["id"])))
    wanted = automations(spec, existing.id if existing is not None else None)
    for name, automation in wanted.items():
        current = on_server.get(name)
        if current is None:
            writes.append(("create", name, None))
        elif comparable(current) != comparable(automation):
            writes.append(("update", name, str(current["id"])))
    # Only ours go: an untagged automation that runs a taken-over deployment may be a
    # user's own (it is taken over only when a trigger of its name is wanted).
    writes += [
        ("remove", n, str(a["id"]))
        for n, a in on_server.items()
        if n not in wanted and MANAGED_TAG in (a.get("tags") or [])
    ]
    return writes
