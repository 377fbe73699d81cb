"""Compare the deployments we want with what the Prefect server holds, field by field, so
that only the difference is written. Unchanged deployments get no write at all: their
`updated` time, schedules and upcoming scheduled runs stay exactly as they were.

Both sides are compared as the API's JSON, field by field as fields.FIELDS says.
Prefect is imported only to judge a schedule that the plain comparison cannot (an rrule, an
anchored interval, a value that differs): a re-run with nothing to do never pays for
`import prefect`.
"""

from __future__ import annotations

import json
from typing import Any

from prefect_flow_deploy.core.model import (
    TENANT_TAG_PREFIX,
    DeploymentAction,
    DeploymentPlan,
    DeploymentSpec,
)
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.deployment import field_loops
from prefect_flow_deploy.deployment.fields import code_dir_of
from prefect_flow_deploy.deployment.ownership import foreign_owner, recorded_owner


def existing_from_json(data: dict[str, Any], flow_name: str) -> ExistingDeployment:
    return ExistingDeployment(
        id=str(data["id"]),
        flow_name=flow_name,
        name=data["name"],
        tags=list(data.get("tags") or []),
        comparable=_canonical(field_loops.held(data)),
        schedules=data.get("schedules") or [],
        image=(data.get("job_variables") or {}).get("image"),
        code_dir=code_dir_of(data),
        updated=str(data.get("updated") or ""),
    )


# -- comparison ------------------------------------------------------------------------------


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True, default=str))
    return result


def _shown(name: str, value: Any, spec: DeploymentSpec) -> Any:
    """A changed field's new value as the plan shows it: a schedule only Prefect reads (an
    interval with an anchor date, an rrule) was compared by Prefect and is shown as Prefect
    reads it, not as the `null` the plain comparison left (a reviewer read "emptied")."""
    if name == "schedules" and value and any(s.get("schedule") is None for s in value):
        from prefect_flow_deploy.deployment.schedules import exact_schedules

        exact = exact_schedules(spec.schedules or [])
        return [
            {**entry, "schedule": read["schedule"]} if entry.get("schedule") is None else entry
            for entry, read in zip(value, exact, strict=False)
        ]
    return value


def diff(spec: DeploymentSpec, existing: ExistingDeployment | None) -> DeploymentPlan:
    """Raises ScheduleError for a schedule Prefect would reject, TriggerError for a trigger."""
    from prefect_flow_deploy.deployment.triggers import trigger_writes

    if existing is None:
        field_loops.check(spec)  # validate now, not when writing
        writes = trigger_writes(spec, None)
        return DeploymentPlan(
            spec,
            spec.full_name,
            spec.folder_key,
            "create",
            trigger_writes=writes,
            owner=recorded_owner(spec.tags),
        )
    # What the user set by hand on the server stays where prefect.yaml is silent: a schedule
    # switched off in the UI (no `active:`), a trigger (no `enabled:`); `paused` and the
    # work queue are then not compared at all.
    spec = field_loops.with_hand_set(spec, existing)
    desired = _canonical(field_loops.wanted(spec))
    fields = field_loops.changed(spec, desired, existing)
    changes = {k: (existing.comparable.get(k), _shown(k, desired[k], spec)) for k in fields}
    writes = trigger_writes(spec, existing)
    if writes:
        fields.append("triggers")
        changes["triggers"] = (
            sorted(a["name"] for a in existing.automations),
            [f"{action} {name}" for action, name, _ in writes],
        )
    action: DeploymentAction = "update" if fields else "unchanged"
    return DeploymentPlan(
        spec,
        spec.full_name,
        spec.folder_key,
        action,
        fields,
        existing.id,
        changes=changes,
        trigger_writes=writes,
        owner=recorded_owner(existing.tags),
    )


def in_tenant(existing: ExistingDeployment, tenant: str | None) -> bool:
    tenants = [t for t in existing.tags if t.startswith(TENANT_TAG_PREFIX)]
    return (f"{TENANT_TAG_PREFIX}{tenant}" in tenants) if tenant else not tenants


def ours(existing: ExistingDeployment, tenant: str | None, repository: str | None) -> bool:
    """In this run's tenant, and made by this repository (or by none recorded)."""
    return in_tenant(existing, tenant) and foreign_owner(existing.tags, repository) is None
