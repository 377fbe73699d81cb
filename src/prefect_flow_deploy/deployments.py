"""Compare the deployments we want with what the Prefect server holds, field by field, so
that only the difference is written. Unchanged deployments get no write at all: their
`updated` time, schedules and upcoming scheduled runs stay exactly as they were.

Both sides are compared as the API's JSON. Prefect is imported only to judge a schedule
that the plain comparison cannot (an rrule, an anchored interval, a value that differs):
a re-run with nothing to do never pays for `import prefect`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from .commit_order import without_commit_tags
from .model import (
    MANAGED_TAG,
    TENANT_TAG_PREFIX,
    DeploymentAction,
    DeploymentPlan,
    DeploymentSpec,
)
from .ownership import foreign_owner, recorded_owner
from .prefect_api import (
    ApiSettings,
    read_managed,
    read_named,
    read_related_automations,
    read_tagged_automations,
)

SET_WORKDIR_STEP = "prefect.deployments.steps.set_working_directory"
DEFAULT_RRULE_START = "DTSTART:20200101T000000\n"  # prefect.server.schemas.schedules


class ScheduleError(ValueError):
    """A prefect.yaml schedule that Prefect rejects."""


@dataclass
class ExistingDeployment:
    id: str
    flow_name: str
    name: str
    tags: list[str]
    comparable: dict[str, Any]
    schedules: list[dict[str, Any]]  # the API's JSON, for the exact comparison
    image: str | None
    code_dir: str | None
    # Automations this deployment owns (its prefect.yaml triggers), as the API's JSON.
    automations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def folder_key(self) -> str | None:
        return next((t.removeprefix("folder:") for t in self.tags if t.startswith("folder:")), None)


@dataclass
class ServerState:
    deployments: dict[str, ExistingDeployment] = field(default_factory=dict)  # by full name
    # Automations owned by deployments (their triggers), by deployment id
    automations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    server_version: str | None = None  # None: Prefect Cloud, or not told


def fetch_state(settings: ApiSettings) -> ServerState:
    """Every deployment this tool manages, with its flow name and its triggers."""
    from .triggers import run_deployment_id

    state = ServerState()
    for automation in read_tagged_automations(settings, MANAGED_TAG):
        owner = run_deployment_id(automation)
        if owner:
            state.automations.setdefault(owner, []).append(automation)
    for data in read_managed(settings, MANAGED_TAG):
        existing = existing_from_json(data, data["flow_name"])
        existing.automations = state.automations.get(existing.id, [])
        state.deployments[existing.full_name] = existing
    return state


def fetch_unmanaged(
    settings: ApiSettings, full_names: list[str], state: ServerState
) -> list[ExistingDeployment]:
    """Deployments of these names that this tool did not make (by hand, `prefect deploy`):
    taken over rather than duplicated. One call for all, and one for the triggers of each
    (`prefect deploy` made them without our tag: they are taken over by name)."""
    from .triggers import run_deployment_id

    found = []
    for data in read_named(settings, full_names):
        if MANAGED_TAG in (data.get("tags") or []):
            continue
        existing = existing_from_json(data, data["flow_name"])
        existing.automations = [
            a
            for a in read_related_automations(settings, existing.id)
            if run_deployment_id(a) == existing.id
        ]
        found.append(existing)
    return found


def existing_from_json(data: dict[str, Any], flow_name: str) -> ExistingDeployment:
    code_dir = next(
        (
            step[SET_WORKDIR_STEP].get("directory")
            for step in data.get("pull_steps") or []
            if SET_WORKDIR_STEP in step
        ),
        None,
    )
    limit = data.get("global_concurrency_limit")
    schedules = data.get("schedules") or []
    comparable = _canonical(
        {
            "description": data.get("description") or "",
            "version": data.get("version"),
            # The commit record (commit_order.py) is never compared: a new commit alone
            # changes nothing.
            "tags": sorted(without_commit_tags(data.get("tags") or [])),
            "parameters": data.get("parameters") or {},
            "parameter_openapi_schema": data.get("parameter_openapi_schema"),
            "enforce_parameter_schema": data.get("enforce_parameter_schema"),
            "entrypoint": data.get("entrypoint"),
            "path": data.get("path"),
            "pull_steps": data.get("pull_steps"),
            "work_pool_name": data.get("work_pool_name"),
            "job_variables": data.get("job_variables") or {},
            # `concurrency_limit` is deprecated in favour of the global limit object.
            "concurrency_limit": limit.get("limit") if isinstance(limit, dict) else None,
            "concurrency_options": _without_none(data.get("concurrency_options") or {}) or None,
            "work_queue_name": data.get("work_queue_name"),
            "paused": data.get("paused"),
            "schedules": [
                _schedule_entry(_without_none(s.get("schedule") or {}), s) for s in schedules
            ],
        }
    )
    return ExistingDeployment(
        id=str(data["id"]),
        flow_name=flow_name,
        name=data["name"],
        tags=list(data.get("tags") or []),
        comparable=comparable,
        schedules=schedules,
        image=(data.get("job_variables") or {}).get("image"),
        code_dir=code_dir,
    )


# -- schedules -------------------------------------------------------------------------------


def _schedule_entry(schedule: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
    active = config.get("active")
    return {
        "schedule": schedule,
        "active": True if active is None else active,
        "parameters": config.get("parameters") or {},
        "slug": config.get("slug"),
    }


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def plain_schedule(config: dict[str, Any]) -> dict[str, Any] | None:
    """The API's JSON for a prefect.yaml schedule, where that needs no interpretation: a cron
    string, or an interval in seconds without an anchor date. None otherwise (the exact path
    decides). Mirrors Prefect's `_schedule_config_to_deployment_schedule` and its models'
    defaults; a unit test compares the two."""
    timezone = config.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        return None
    if cron := config.get("cron"):
        day_or = config.get("day_or")
        if not isinstance(cron, str) or not isinstance(day_or, bool | None):
            return None
        return _without_none(
            {"cron": cron, "timezone": timezone, "day_or": True if day_or is None else day_or}
        )
    interval = config.get("interval")
    if (
        isinstance(interval, int | float)
        and not isinstance(interval, bool)
        and not config.get("anchor_date")
    ):
        # Without an anchor date Prefect anchors at creation time: not part of the comparison.
        return {"interval": float(interval), "timezone": timezone or "UTC"}
    return None


def exact_schedules(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prefect's own reading of prefect.yaml schedules (raises ScheduleError)."""
    if not configs:
        return []
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule

    entries = []
    for config in configs:
        try:
            converted = _schedule_config_to_deployment_schedule(config)
        except Exception as exc:
            raise ScheduleError(
                f"invalid schedule {json.dumps(config, default=str)}: {exc}"
            ) from exc
        dumped = converted["schedule"].model_dump(mode="json", exclude_none=True)
        if "interval" in config and not config.get("anchor_date"):
            dumped.pop("anchor_date", None)
        entries.append(_schedule_entry(dumped, config))
    return entries


def _exact_existing_schedules(schedules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not schedules:
        return []
    from prefect.client.schemas.objects import DeploymentSchedule

    return [
        _schedule_entry(
            DeploymentSchedule.model_validate(raw).schedule.model_dump(
                mode="json", exclude_none=True
            ),
            raw,
        )
        for raw in schedules
    ]


# -- comparison ------------------------------------------------------------------------------


def pull_steps(code_dir: str) -> list[dict[str, Any]]:
    return [{SET_WORKDIR_STEP: {"directory": code_dir}}]


def comparable_desired(spec: DeploymentSpec) -> dict[str, Any]:
    """The wanted deployment as the API's JSON. Fields the repository leaves to the user
    (`paused`, the schedules and the work queue when prefect.yaml does not name them) are
    left out: whatever the server holds for them is right."""
    wanted: dict[str, Any] = {
        "description": spec.description or "",
        "version": spec.version,
        "tags": sorted(without_commit_tags(spec.tags)),
        "parameters": spec.parameters,
        "parameter_openapi_schema": spec.parameter_schema,
        "enforce_parameter_schema": spec.enforce_parameter_schema,
        "entrypoint": spec.entrypoint,
        "path": None,
        "pull_steps": pull_steps(spec.code_dir) if spec.code_dir else None,
        "work_pool_name": spec.work_pool,
        "job_variables": spec.job_variables,
        "concurrency_limit": spec.concurrency_limit,
        "concurrency_options": _without_none(spec.concurrency_options or {}) or None,
    }
    if spec.work_queue_name is not None:
        wanted["work_queue_name"] = spec.work_queue_name
    if spec.paused is not None:
        wanted["paused"] = spec.paused
    if spec.schedules is not None:
        wanted["schedules"] = [_schedule_entry(plain_schedule(c), c) for c in spec.schedules]
    return _canonical(wanted)


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True, default=str))
    return result


def _same_schedules(desired: list[dict[str, Any]], existing: list[dict[str, Any]]) -> bool:
    """The same schedules in any order (the API does not keep prefect.yaml's)."""
    if len(desired) != len(existing):
        return False
    return None not in _pair(desired, existing, ignore_active=False)


def _pair(
    desired: list[dict[str, Any]], existing: list[dict[str, Any]], ignore_active: bool
) -> list[int | None]:
    """For each wanted schedule, the index of the server's schedule that is the same (each
    used once), or None."""
    remaining = list(range(len(existing)))
    pairs: list[int | None] = []
    for wanted in desired:
        match = next(
            (i for i in remaining if _same_schedule(wanted, existing[i], ignore_active)), None
        )
        if match is not None:
            remaining.remove(match)
        pairs.append(match)
    return pairs


def _same_schedule(
    wanted: dict[str, Any], existing: dict[str, Any], ignore_active: bool = False
) -> bool:
    if wanted["schedule"] is None:
        return False  # not plainly comparable: the exact path decides
    schedule = dict(existing["schedule"] or {})
    if "interval" in wanted["schedule"] and "anchor_date" not in wanted["schedule"]:
        schedule.pop("anchor_date", None)  # Prefect anchored it at creation time
    rrule = wanted["schedule"].get("rrule")
    if rrule and "DTSTART" not in rrule and "rrule" in schedule:
        # The server starts an rrule without DTSTART at its default anchor, 2020-01-01.
        schedule["rrule"] = schedule["rrule"].removeprefix(DEFAULT_RRULE_START)
    # A schedule without a slug in prefect.yaml matches the server's whatever its slug.
    slug = existing["slug"] if wanted["slug"] is not None else None
    active = wanted["active"] if ignore_active else existing["active"]
    return {**existing, "schedule": schedule, "slug": slug, "active": active} == wanted


def with_hand_set_state(spec: DeploymentSpec, existing: ExistingDeployment) -> DeploymentSpec:
    """The spec with what the user set on the server kept where prefect.yaml is silent: a
    schedule switched off in the UI (no `active:` in the file) stays off, and so does a
    trigger (no `enabled:`). (`paused` and the work queue need nothing here: a field the
    file does not set is not compared.)"""
    if spec.triggers:
        from .triggers import with_server_enabled

        spec = replace(
            spec, triggers=with_server_enabled(spec.triggers, spec.name, existing.automations)
        )
    if not spec.schedules or all("active" in c for c in spec.schedules):
        return spec
    server = existing.comparable["schedules"]
    wanted = [_schedule_entry(plain_schedule(c), c) for c in spec.schedules]
    pairs = _pair(wanted, server, ignore_active=True)
    if None in pairs:  # some are not plainly comparable: Prefect's own reading
        pairs = _pair(
            exact_schedules(spec.schedules),
            _exact_existing_schedules(existing.schedules),
            ignore_active=True,
        )
    schedules = [
        config
        if "active" in config or match is None
        else {**config, "active": server[match]["active"]}
        for config, match in zip(spec.schedules, pairs, strict=True)
    ]
    return replace(spec, schedules=schedules)


def changed_fields(
    spec: DeploymentSpec, desired: dict[str, Any], existing: ExistingDeployment
) -> list[str]:
    changed = []
    for key, value in desired.items():
        if key in ("pull_steps", "parameter_openapi_schema") and value is None:
            continue  # not known until the image is built and checked
        if key == "schedules":
            if not _same_schedules(value, existing.comparable["schedules"]) and not _same_schedules(
                exact_schedules(spec.schedules or []),
                _exact_existing_schedules(existing.schedules),
            ):
                changed.append(key)
            continue
        if existing.comparable.get(key) != value:
            changed.append(key)
    return changed


def diff(spec: DeploymentSpec, existing: ExistingDeployment | None) -> DeploymentPlan:
    """Raises ScheduleError for a schedule Prefect would reject, TriggerError for a trigger."""
    from .triggers import trigger_writes

    if existing is None:
        exact_schedules(spec.schedules or [])  # validate now, not when writing
        writes = trigger_writes(spec, None)
        return DeploymentPlan(
            spec,
            spec.full_name,
            spec.folder_key,
            "create",
            trigger_writes=writes,
            owner=recorded_owner(spec.tags),
        )
    spec = with_hand_set_state(spec, existing)
    desired = comparable_desired(spec)
    fields = changed_fields(spec, desired, existing)
    changes = {k: (existing.comparable.get(k), desired[k]) for k in fields}
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
