"""The `schedules` field: how prefect.yaml's schedules compare with the server's, how a
schedule switched off in the UI is kept, and how they are written. Special enough to be its
own module, used through the `schedules` entry of deployment_fields.FIELDS.

Both sides are compared as the API's JSON. Prefect is imported only to judge a schedule
that the plain comparison cannot (an rrule, an anchored interval, a value that differs):
a re-run with nothing to do never pays for `import prefect`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prefect_flow_deploy.core.model import DeploymentSpec

if TYPE_CHECKING:
    from prefect.client.schemas.actions import DeploymentScheduleCreate, DeploymentScheduleUpdate

# The anchor a Prefect server gives an rrule stored without DTSTART (RFC 5545 floating time).
_DEFAULT_ANCHOR = datetime(2020, 1, 1)
_STORED_START = re.compile(r"DTSTART:(\d{8}T\d{6})\n")
_EVERY = {"SECONDLY": 1, "MINUTELY": 60}  # seconds in one step of the rule's FREQ


class ScheduleError(ValueError):
    """A prefect.yaml schedule that Prefect rejects; `config` is that schedule."""

    def __init__(self, message: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.config = config


def _reason(exc: Exception) -> str:
    """Pydantic's verdict in one line (`Invalid cron string: "0 25 * * *"`), not its
    multi-line report with a link (trial round 11 b 4: said so for a deployment that
    existed, short for one that did not)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in errors())
        except Exception:  # not pydantic's errors(): its text
            pass
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def schedule_entry(schedule: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
    """One deployment schedule as compared: the schedule and its switch, parameters, slug."""
    active = config.get("active")
    return {
        "schedule": schedule,
        "active": True if active is None else active,
        "parameters": config.get("parameters") or {},
        "slug": config.get("slug"),
    }


def held(schedules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The server's schedules (the API's JSON) as compared."""
    return [schedule_entry(without_none(s.get("schedule") or {}), s) for s in schedules]


def wanted(configs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """prefect.yaml's schedules as compared (a schedule only Prefect can read: None)."""
    return [schedule_entry(plain_schedule(c), c) for c in configs]


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
        return without_none(
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


def check_schedules(configs: Sequence[dict[str, Any]]) -> None:
    """Raise ScheduleError for a schedule Prefect would reject: a plain cron schedule judged
    by Prefect's own rule without importing Prefect (cron.py), anything else through
    Prefect's conversion. The one rule `plan`, `validate` and `new` apply."""
    from prefect_flow_deploy.deployment.cron import cron_verdict, plain_interval

    verdicts = [(config, cron_verdict(config)) for config in configs]
    for config, reason in verdicts:
        if isinstance(reason, str):
            raise ScheduleError(
                f"invalid schedule {json.dumps(config, default=str)}: {reason}", config
            )
    exact_schedules([c for c, reason in verdicts if reason is False and not plain_interval(c)])


def exact_schedules(configs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prefect's own reading of prefect.yaml schedules (raises ScheduleError)."""
    if not configs:
        return []
    from prefect_flow_deploy.deployment.prefect_compat import schedule_config_to_deployment_schedule

    _schedule_config_to_deployment_schedule = schedule_config_to_deployment_schedule()

    entries = []
    for config in configs:
        try:
            converted = _schedule_config_to_deployment_schedule(config)
        except Exception as exc:
            raise ScheduleError(
                f"invalid schedule {json.dumps(config, default=str)}: {_reason(exc)}", config
            ) from exc
        dumped = converted["schedule"].model_dump(mode="json", exclude_none=True)
        if "interval" in config and not config.get("anchor_date"):
            dumped.pop("anchor_date", None)
        entries.append(schedule_entry(dumped, config))
    return entries


def exact_existing_schedules(schedules: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not schedules:
        return []
    from prefect.client.schemas.objects import DeploymentSchedule

    return [
        schedule_entry(
            DeploymentSchedule.model_validate(raw).schedule.model_dump(
                mode="json", exclude_none=True
            ),
            raw,
        )
        for raw in schedules
    ]


def differ(
    configs: Sequence[dict[str, Any]],
    desired: list[dict[str, Any]],
    server: list[dict[str, Any]],
    server_json: Sequence[dict[str, Any]],
) -> bool:
    """Whether the schedules differ: plainly, then by Prefect's own reading."""
    return not same_schedules(desired, server) and not same_schedules(
        exact_schedules(configs), exact_existing_schedules(server_json)
    )


def same_schedules(desired: list[dict[str, Any]], existing: list[dict[str, Any]]) -> bool:
    """The same schedules in any order (the API does not keep prefect.yaml's)."""
    if len(desired) != len(existing):
        return False
    return None not in pair(desired, existing, ignore_active=False)


def pair(
    desired: list[dict[str, Any]], existing: list[dict[str, Any]], ignore_active: bool
) -> list[int | None]:
    """For each wanted schedule, the index of the server's schedule that is the same (each
    used once), or None."""
    remaining = list(range(len(existing)))
    pairs: list[int | None] = []
    for wanted_one in desired:
        match = next(
            (i for i in remaining if _same_schedule(wanted_one, existing[i], ignore_active)), None
        )
        if match is not None:
            remaining.remove(match)
        pairs.append(match)
    return pairs


def _same_schedule(
    wanted_one: dict[str, Any], existing: dict[str, Any], ignore_active: bool = False
) -> bool:
    if wanted_one["schedule"] is None:
        return False  # not plainly comparable: the exact path decides
    schedule = dict(existing["schedule"] or {})
    if "interval" in wanted_one["schedule"] and "anchor_date" not in wanted_one["schedule"]:
        schedule.pop("anchor_date", None)  # Prefect anchored it at creation time
    rrule = wanted_one["schedule"].get("rrule")
    if rrule and "DTSTART" not in rrule.upper() and "rrule" in schedule:
        schedule["rrule"] = without_server_anchor(schedule["rrule"])
    # A schedule without a slug in prefect.yaml matches the server's whatever its slug.
    slug = existing["slug"] if wanted_one["slug"] is not None else None
    active = wanted_one["active"] if ignore_active else existing["active"]
    return {**existing, "schedule": schedule, "slug": slug, "active": active} == wanted_one


def without_server_anchor(stored: str) -> str:
    """A stored rrule without the DTSTART the server put before a rule written without one,
    the same occurrences as the rule alone: 2020-01-01 (the default anchor), or, for FREQ=
    SECONDLY/MINUTELY without COUNT, a recent instant a whole number of steps after it
    (Prefect 3.9 `prefect._internal.schemas.validators.normalize_rrule_string`,
    PrefectHQ/prefect#21362: so the scheduler does not walk every minute since 2020). Any
    other DTSTART (written in the UI, say) is kept, and differs."""
    found = _STORED_START.match(stored)
    if found is None:
        return stored
    rule = stored[found.end() :]
    start = datetime.strptime(found.group(1), "%Y%m%dT%H%M%S")
    if start == _DEFAULT_ANCHOR:
        return rule
    parts = dict(
        p.split("=", 1) for p in rule.upper().removeprefix("RRULE:").split(";") if "=" in p
    )
    step = _EVERY.get(parts.get("FREQ", ""))
    if step is None or "COUNT" in parts or "\n" in rule or not parts.get("INTERVAL", "1").isdigit():
        return stored
    period = step * int(parts.get("INTERVAL", "1"))
    steps, left = divmod((start - _DEFAULT_ANCHOR).total_seconds(), period)
    return rule if left == 0 and steps > 0 else stored


def with_server_active(
    configs: Sequence[dict[str, Any]],
    server: list[dict[str, Any]],
    server_json: Sequence[dict[str, Any]],
) -> Sequence[dict[str, Any]]:
    """The schedules, each one without `active:` taking the server's value for the same
    schedule (a switch in the UI stays off)."""
    if not configs or all("active" in c for c in configs):
        return configs
    pairs = pair(wanted(configs), server, ignore_active=True)
    if None in pairs:  # some are not plainly comparable: Prefect's own reading
        pairs = pair(
            exact_schedules(configs), exact_existing_schedules(server_json), ignore_active=True
        )
    return [
        config
        if "active" in config or match is None
        else {**config, "active": server[match]["active"]}
        for config, match in zip(configs, pairs, strict=True)
    ]


def creates(spec: DeploymentSpec) -> list[DeploymentScheduleCreate]:
    """The schedules of a create body, as Prefect's `prefect deploy` makes them."""
    from prefect_flow_deploy.deployment.prefect_compat import schedule_config_to_deployment_schedule

    _schedule_config_to_deployment_schedule = schedule_config_to_deployment_schedule()
    from prefect.client.schemas.actions import DeploymentScheduleCreate

    return [
        DeploymentScheduleCreate(**_schedule_config_to_deployment_schedule(s))
        for s in spec.schedules or []
    ]


def updates(spec: DeploymentSpec) -> list[DeploymentScheduleUpdate]:
    """The schedules of a PATCH body: a schedule update has no `replaces`."""
    from prefect.client.schemas.actions import DeploymentScheduleUpdate

    return [
        DeploymentScheduleUpdate(**s.model_dump(exclude={"replaces"}, exclude_none=True))
        for s in creates(spec)
    ]
