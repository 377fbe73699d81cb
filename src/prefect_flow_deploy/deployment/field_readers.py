"""How each deployment field is read from a prefect.yaml entry (checked, with the problem at its
key's line) and how its wanted value is made from a Source: the functions the entries of
fields.FIELDS name for `read` and `resolve`."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from prefect_flow_deploy.core.model import (
    MANAGED_TAG,
    PROJECT_TAG_PREFIX,
    TENANT_TAG_PREFIX,
)
from prefect_flow_deploy.deployment.field_types import (
    FOLDER_TAG_PREFIX,
    Entry,
    Reader,
    Source,
)
from prefect_flow_deploy.deployment.ownership import repository_tag

# -- reading prefect.yaml ---------------------------------------------------------------------


def typed(
    key: str, kind: type | tuple[type, ...], expected: str, empty: Callable[[], Any] | None = None
) -> Reader:
    """A value of one type at a top-level key; `empty()` when absent (or wrong)."""

    def read(entry: Entry) -> Any:
        value = entry.typed(key, kind, expected)
        return (empty() if empty else None) if value is None else value

    return read


# What pydantic's lax bool takes for `true`/`false`, as `prefect deploy` reads `paused:` and
# `enforce_parameter_schema:` (Prefect's prefect.yaml model: Optional[bool]; `paused: "true"`
# pauses). tests/unit/deployment/test_field_readers.py holds it to pydantic's own.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def lax_bool(key: str) -> Reader:
    """A true or false at a top-level key, as pydantic reads one (`"true"`, `"no"`, 1, 0)."""

    def read(entry: Entry) -> bool | None:
        value = entry.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = value.lower() if isinstance(value, str) else None
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        entry.bad(key, "true or false")
        return None

    return read


# `prefect deploy` passes a string on, and Prefect's RunnerDeployment splits it into its
# letters (`tags: nightly` -> n, i, g, …; tests/unit/deployment/test_field_readers.py).
_TAGS = (
    "a list of strings (`tags: [nightly]`; `prefect deploy` would make a string's letters its tags)"
)


def read_tags(entry: Entry) -> tuple[str, ...]:
    return tuple(str(t) for t in entry.typed("tags", list, _TAGS) or [])


def read_work_pool(entry: Entry) -> dict[str, Any]:
    pool = entry.data.get("work_pool") or {}
    if not isinstance(pool, dict):
        entry.bad("work_pool", "a mapping with `name` and `job_variables`")
        return {}
    return pool


def pool_string(key: str) -> Reader:
    def read(entry: Entry) -> str | None:
        value = read_work_pool(entry).get(key)
        if value is not None and not isinstance(value, str):
            entry.bad("work_pool", f"a mapping whose `{key}` is a string")
            return None
        return value

    return read


def read_job_variables(entry: Entry) -> dict[str, Any]:
    variables = read_work_pool(entry).get("job_variables") or {}
    if not isinstance(variables, dict):
        entry.bad("work_pool", "a mapping whose `job_variables` is a mapping")
        return {}
    return variables


# Prefect's ConcurrencyLimitStrategy and ConcurrencyOptions.grace_period_seconds bounds.
COLLISION_STRATEGIES = ("ENQUEUE", "CANCEL_NEW")
GRACE_PERIOD = (60, 86400)


def concurrency(entry: Entry) -> tuple[int | None, dict[str, Any] | None]:
    """`concurrency_limit: N`, or Prefect's `{limit: N, collision_strategy: ENQUEUE |
    CANCEL_NEW, grace_period_seconds: S}` (prefect/cli/deploy/_core.py reads it so)."""
    value = entry.data.get("concurrency_limit")
    options = None
    if isinstance(value, dict):
        strategy = value.get("collision_strategy")
        grace = value.get("grace_period_seconds")
        if strategy is not None and strategy not in COLLISION_STRATEGIES:
            entry.bad(
                "concurrency_limit", "a mapping whose `collision_strategy` is ENQUEUE or CANCEL_NEW"
            )
            return None, None
        if grace is not None and (
            not isinstance(grace, int) or not GRACE_PERIOD[0] <= grace <= GRACE_PERIOD[1]
        ):
            entry.bad("concurrency_limit", "a mapping whose `grace_period_seconds` is 60 to 86400")
            return None, None
        if strategy is not None:
            options = {"collision_strategy": strategy, "grace_period_seconds": grace}
        value = value.get("limit")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        entry.bad(
            "concurrency_limit", "an integer, or a mapping with `limit` and `collision_strategy`"
        )
        return None, None
    return value, options


# The keys of a schedule `prefect deploy` accepts (Prefect 3.9's RawScheduleConfig, in
# prefect/cli/deploy/_models.py, which forbids any other; tests hold this to it).
SCHEDULE_KEYS = frozenset(
    {"cron", "interval", "rrule", "timezone", "anchor_date", "active", "parameters", "slug",
     "replaces", "day_or"}
)  # fmt: skip


# An unquoted `anchor_date:` is a timestamp to YAML: Prefect's IntervalSchedule takes it, but
# only without other keys; beside any (`active:`) only RawScheduleConfig, whose anchor_date is
# a string, can, and `prefect deploy` refuses the entry (trial round 11 b 1). Held to
# Prefect's model by tests/unit/deployment/test_field_readers.py.
_INTERVAL = frozenset({"interval", "anchor_date", "timezone"})
_UNQUOTED_ANCHOR = (
    "`anchor_date` is unquoted, so YAML reads it as a timestamp: its text is used here, but "
    'beside `{}` `prefect deploy` refuses the entry for it ("Invalid fields in deployments: '
    'schedules"). Quote it (`anchor_date: "2026-01-01T00:00:00Z"`).'
)


def read_schedules(entry: Entry) -> tuple[dict[str, Any], ...] | None:
    """Check the shape of each schedule and keep the raw mappings. Their values (a cron
    string, a time zone) are judged by Prefect's own rules when the deployment is compared
    with the server, which imports Prefect only when needed."""
    raw, legacy = entry.data.get("schedules"), entry.data.get("schedule")
    if legacy and "schedules" in entry.data:  # prefect deploy's own refusal
        entry.error(
            "both `schedule` and `schedules` are set, which Prefect refuses: keep `schedules` "
            "(a list) and remove `schedule`",
            "schedule",
            "prefect.yaml schedule",
        )
        return None
    if isinstance(legacy, list):  # Prefect 3.9's PrefectYamlModel refuses it (trial 11 a 6)
        entry.error(
            "`schedule` (Prefect's older key) takes one schedule, a mapping: `prefect deploy` "
            'refuses the entry for a list there ("Invalid fields in deployments: … schedule"). '
            "Rename the key to `schedules`",
            "schedule",
            "prefect.yaml schedule",
        )
        return None
    if raw is None and legacy not in (None, {}):  # `schedule: {}` is none, as Prefect reads it
        raw = [legacy]
    if raw is None:
        return None
    key = "schedules" if "schedules" in entry.lines else "schedule"
    if not isinstance(raw, list):
        entry.error("`schedules` must be a list", key)
        return None
    for schedule in raw:
        if not isinstance(schedule, dict) or not any(
            schedule.get(kind) for kind in ("cron", "interval", "rrule")
        ):
            entry.error(
                f"invalid schedule {schedule!r}: each schedule is a mapping with `cron`, "
                "`interval` or `rrule` (and optionally timezone, active, parameters, slug)",
                key,
                "prefect.yaml schedule",
            )
            return None
        if isinstance(schedule.get("anchor_date"), datetime.date) and set(schedule) - _INTERVAL:
            entry.warn(_UNQUOTED_ANCHOR.format(sorted(set(schedule) - _INTERVAL)[0]), key,
                       "prefect.yaml schedule")  # fmt: skip
        unknown = sorted(set(schedule) - SCHEDULE_KEYS) if "schedule" not in schedule else []
        if unknown:
            entry.warn(
                f"{', '.join(f'`{k}`' for k in unknown)} in a schedule: Prefect 3 takes no "
                'such key there (`prefect deploy` refuses the file for it: "Invalid fields in '
                'deployments: schedules"), so it is ignored here. Remove it; a schedule takes '
                f"{', '.join(sorted(SCHEDULE_KEYS))}.",
                key,
                "prefect.yaml schedule",
            )
    return tuple(raw)


def read_triggers(entry: Entry) -> tuple[dict[str, Any], ...]:
    triggers = entry.typed("triggers", list, "a list of triggers (Prefect's automation format)")
    if any(not isinstance(t, dict) for t in triggers or []):
        entry.bad("triggers", "a list of mappings (Prefect's automation format)")
        return ()
    return tuple(triggers or ())


# -- the wanted value -------------------------------------------------------------------------


def wanted_tags(source: Source) -> list[str]:
    """Ours (managed-by, project, folder, tenant, repository), then prefect.yaml's and the
    tenant's extra tags."""
    folder, options = source.folder, source.options
    tags = [
        MANAGED_TAG,
        folder.project,
        f"{PROJECT_TAG_PREFIX}{folder.project}",
        f"{FOLDER_TAG_PREFIX}{folder.key}",
    ]
    if options.tenant:
        tags.append(f"{TENANT_TAG_PREFIX}{options.tenant}")
    if options.repository:
        tags.append(repository_tag(options.repository))
    return list(dict.fromkeys([*tags, *source.config.tags, *options.extra_tags]))


def wanted_schedules(source: Source) -> list[dict[str, Any]] | None:
    # Absent from prefect.yaml: the server's schedules stay; `schedules: []` removes them.
    schedules = source.config.schedules
    if schedules is None:
        return None
    active = source.options.schedules_active
    return [dict(s) if active is None else {**s, "active": active} for s in schedules]


def wanted_parameters(source: Source) -> dict[str, Any]:
    parameters = source.options.parameters
    return {
        **source.config.parameters,
        **parameters.get("*", {}),
        **parameters.get(source.flow.name, {}),
    }
