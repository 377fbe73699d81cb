"""The plain schedule comparison (no `import prefect`) agrees with Prefect's own reading of
prefect.yaml schedules, and leaves to Prefect what it cannot read."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_flow_deploy.deployment.prefect_compat import schedule_config_to_deployment_schedule
from prefect_flow_deploy.deployment.schedules import ScheduleError, exact_schedules, plain_schedule

from ...prefect_versions import newest_allowed

PLAIN = [
    {"cron": "0 6 * * 1"},
    {"cron": "0 6 * * 1", "timezone": "Europe/Berlin"},
    {"cron": "*/5 * * * *", "day_or": False, "active": False},
    {"cron": "0 0 1 * *", "timezone": "America/New_York", "parameters": {"n": 1}, "slug": "s"},
    {"interval": 3600},
    {"interval": 90.5, "timezone": "Asia/Tokyo"},
]
NOT_PLAIN = [
    {"interval": 3600, "anchor_date": "2024-01-01T00:00:00"},
    {"interval": "PT1H"},
    {"rrule": "FREQ=DAILY;BYHOUR=6"},
    {"cron": "0 6 * * 1", "day_or": "yes"},
]


def prefect_reading(config: dict[str, Any]) -> dict[str, Any]:
    schedule = schedule_config_to_deployment_schedule()(config)["schedule"]
    dumped: dict[str, Any] = schedule.model_dump(mode="json", exclude_none=True)
    if "interval" in config and "anchor_date" not in config:
        dumped.pop("anchor_date")  # "now" at creation: never compared
    return dumped


@pytest.mark.parametrize("config", PLAIN)
def test_plain_reading_equals_prefect(config: dict[str, Any]) -> None:
    prefects = prefect_reading(config)
    if "day_or" in config and not newest_allowed():
        # Prefect 3.2's `prefect deploy` passes a cron schedule only its cron and time zone,
        # dropping `day_or`; later ones pass it, as we do: the file's value is written.
        assert prefects["day_or"] is True
        prefects["day_or"] = config["day_or"]
    assert plain_schedule(config) == prefects
    [entry] = exact_schedules([config])  # Prefect's own reading, for what is not plain
    assert entry["schedule"] == prefect_reading(config)


@pytest.mark.parametrize("config", NOT_PLAIN)
def test_other_schedules_are_left_to_prefect(config: dict[str, Any]) -> None:
    assert plain_schedule(config) is None


@pytest.mark.parametrize(
    "config, words",
    [
        ({"cron": "0 6 * *"}, "Invalid cron"),
        ({"cron": "0 6 * * 1", "timezone": "Europe/Berln"}, "Invalid timezone"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
    ],
)
def test_prefect_rejects_bad_values(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        exact_schedules([config])


@pytest.mark.parametrize(
    "config",
    [
        {"cron": "0 25 * * *"},
        {"cron": "0 6 * * 1", "timezone": "Europe/Berln"},
        {"rrule": "FREQ=X"},
    ],
)
def test_prefect_s_verdict_is_one_line_whatever_the_path(config: dict[str, Any]) -> None:
    """Trial round 11 b 4: a bad cron of a deployment on the server went through Prefect's
    conversion (exact_schedules), and pydantic's whole report, its link included, became
    the message, the annotation and the row's error; a new one's was one line. One line on
    both paths now, with the schedule it is about."""
    with pytest.raises(ScheduleError) as caught:
        exact_schedules([config])
    message = str(caught.value)
    assert "\n" not in message and "errors.pydantic.dev" not in message, message
    assert "validation error" not in message and caught.value.config == config
