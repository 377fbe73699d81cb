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
