"""An rrule written without DTSTART, as the server stores it (schedules.without_server_anchor),
held to Prefect's own normalize_rrule_string (Prefect 3.9; not in the oldest Prefect's run,
whose server only ever used the 2020 anchor, which test_cli's re-run covers)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from prefect._internal.schemas.validators import normalize_rrule_string

from prefect_flow_deploy.deployment.schedules import without_server_anchor

RULES = [
    "FREQ=MINUTELY", "FREQ=MINUTELY;INTERVAL=5", "FREQ=SECONDLY;INTERVAL=30",
    "RRULE:FREQ=MINUTELY;INTERVAL=15", "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=6",
    "FREQ=MINUTELY;COUNT=3", "FREQ=WEEKLY;BYDAY=MO,WE",
]  # fmt: skip
NOWS = [datetime(2026, 12, 5, 14, 7, 31, tzinfo=timezone.utc), datetime(2031, 2, 28, 23, 59)]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("zone", [None, "Europe/Berlin", "America/St_Johns"])
@pytest.mark.parametrize("now", NOWS)
def test_the_anchor_the_server_adds_is_not_a_change(
    rule: str, zone: str | None, now: datetime
) -> None:
    """A FREQ=MINUTELY rule deployed without DTSTART was rewritten on every run (the server
    stores a recent phase-equivalent anchor; found deploying zzstoatzz's healthchecks)."""
    stored = normalize_rrule_string(rule, now=now, timezone=zone)
    assert stored.startswith("DTSTART:") and stored != rule  # the oracle anchored it
    assert without_server_anchor(stored) == rule


@pytest.mark.parametrize(
    "stored",
    [
        "DTSTART:20240101T000730\nFREQ=MINUTELY;INTERVAL=5",  # not a whole number of steps
        "DTSTART:20240101T000000\nFREQ=DAILY",  # only MINUTELY/SECONDLY are moved
        "DTSTART:20240101T000000\nFREQ=MINUTELY;COUNT=3",  # nor with COUNT
        "DTSTART:20191231T235900\nFREQ=MINUTELY",  # before the default anchor
    ],
)
def test_a_start_someone_chose_is_kept(stored: str) -> None:
    assert without_server_anchor(stored) == stored
