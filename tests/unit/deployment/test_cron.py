"""Prefect's rule for a plain cron schedule, applied without importing Prefect: the string as
its vendored croniter judges it, the time zone among the IANA names; anything else is left to
Prefect (False)."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_flow_deploy.deployment.cron import cron_verdict


@pytest.mark.parametrize(
    "config",
    [
        {"cron": "0 6 * * *"},
        {"cron": "*/5 * * * 1-5", "timezone": "Europe/Paris", "day_or": False, "active": True},
        {"cron": "@daily", "timezone": None},
    ],
)
def test_a_cron_schedule_prefect_accepts(config: dict[str, Any]) -> None:
    assert cron_verdict(config) is None


def test_a_cron_string_or_time_zone_prefect_refuses_says_why_in_its_words() -> None:
    assert cron_verdict({"cron": "61 * * * *"}) == 'Invalid cron string: "61 * * * *"'
    assert cron_verdict({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}) == (
        'Invalid timezone: "Mars/Olympus" (specify in IANA tzdata format, for example, '
        "America/New_York)"
    )


@pytest.mark.parametrize(
    "config",
    [
        {"interval": 3600},
        {"rrule": "FREQ=DAILY"},
        {"cron": ""},
        {"cron": 5},
        {"cron": "0 6 * * *", "timezone": 1},
        {"cron": "0 6 * * *", "day_or": "yes"},
        {"cron": "0 6 * * *", "unusual": 1},
    ],
)
def test_anything_but_a_plain_cron_schedule_is_left_to_prefect(config: dict[str, Any]) -> None:
    assert cron_verdict(config) is False


INTERVALS = [
    {"interval": 3600}, {"interval": 90.5, "timezone": "Europe/Paris", "active": True},
    {"interval": 0}, {"interval": -5}, {"interval": True}, {"interval": "3600"},
    {"interval": 3600, "timezone": "Mars/X"}, {"interval": 3600, "anchor_date": "2026-01-01"},
    {"interval": 3600, "timezone": 3},
]  # fmt: skip


def test_an_interval_is_judged_without_prefect_only_where_prefect_surely_accepts_it() -> None:
    """Trial round 10: `validate` of one folder with an interval schedule took 2 s of CPU
    importing Prefect's schedule models. Prefect's own conversion is the oracle: each
    interval judged here is one it accepts; the others are left to it."""
    from prefect_flow_deploy.deployment.cron import plain_interval
    from prefect_flow_deploy.deployment.prefect_compat import (
        schedule_config_to_deployment_schedule,
    )

    convert = schedule_config_to_deployment_schedule()
    judged = [c for c in INTERVALS if plain_interval(c)]
    assert judged == INTERVALS[:2]
    for config in judged:
        convert(dict(config))  # raises if Prefect refused it


def test_checking_a_plain_interval_and_cron_imports_no_prefect() -> None:
    """Counted, not timed: the modules a check of plain schedules imports (a process of its
    own: this one has Prefect loaded already)."""
    import subprocess
    import sys

    program = (
        "import sys\nfrom prefect_flow_deploy.deployment.schedules import check_schedules\n"
        "check_schedules([{'interval': 3600, 'timezone': 'UTC'}, {'cron': '0 6 * * *'}])\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
