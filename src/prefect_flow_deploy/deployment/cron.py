"""Prefect's rule for a cron schedule, applied without importing `prefect` (three seconds on
a busy runner, more than `validate` may take for a whole repository).

Prefect's `CronSchedule` accepts a cron string when its vendored croniter's `is_valid` does
(prefect._internal.schemas.validators.validate_cron_string) and a time zone when it is one of
`zoneinfo.available_timezones()` (prefect.types._datetime.get_timezones). The same croniter
file is loaded here by its path (Prefect's vendored one; the `croniter` package Prefect 3.2
imports instead), so both sides run the very same code; anything else (an
interval, an rrule, an unusual key) is left to Prefect's own conversion.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import available_timezones

_CRON_KEYS = {"cron", "timezone", "day_or", "active", "parameters", "slug", "replaces"}


def cron_verdict(config: dict[str, Any]) -> str | bool | None:
    """For a plain cron schedule: None when Prefect accepts it, else the reason. False when
    this is not a plain cron schedule (ask Prefect)."""
    cron, timezone, day_or = config.get("cron"), config.get("timezone"), config.get("day_or")
    if (
        not isinstance(cron, str)
        or not cron
        or set(config) - _CRON_KEYS
        or not isinstance(timezone, str | None)
        or not isinstance(day_or, bool | None)
    ):
        return False
    croniter = _croniter()
    if croniter is None:
        return False
    if not croniter.croniter.is_valid(cron):
        return f'Invalid cron string: "{cron}"'
    if timezone and timezone not in _timezones():
        return (
            f'Invalid timezone: "{timezone}" (specify in IANA tzdata format, for example, '
            "America/New_York)"
        )
    return None


_INTERVAL_KEYS = {"interval", "timezone", "active", "parameters", "slug", "replaces"}


def plain_interval(config: dict[str, Any]) -> bool:
    """Whether Prefect accepts this interval schedule for sure: a number of seconds above 0,
    no anchor date, a timezone Prefect knows or none. Anything else is Prefect's to judge:
    importing Prefect's schedule models cost `validate` 2 s of CPU for a folder with one
    interval schedule (trial round 10), the pre-commit hook's whole wait."""
    interval, timezone = config.get("interval"), config.get("timezone")
    return (
        isinstance(interval, int | float)
        and not isinstance(interval, bool)
        and interval > 0
        and not set(config) - _INTERVAL_KEYS
        and (timezone is None or (isinstance(timezone, str) and timezone in _timezones()))
    )


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.cache
def _croniter() -> ModuleType | None:
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "_vendor" / "croniter" / "croniter.py"
    if not path.is_file():  # Prefect before it vendored croniter (3.2) uses the package
        package = importlib.util.find_spec("croniter")
        if package is None or package.origin is None:
            return None
        path = Path(package.origin).parent / "croniter.py"
    loader = importlib.util.spec_from_file_location("_pfd_prefect_croniter", path)
    if loader is None or loader.loader is None or not path.is_file():
        return None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module
