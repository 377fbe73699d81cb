"""How each deployment field is read from a prefect.yaml entry: the value when its shape is
right, else one problem at its key's line and no value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.deployment.field_readers import (
    concurrency,
    pool_string,
    read_job_variables,
    read_schedules,
    read_tags,
    read_triggers,
    typed,
)
from prefect_flow_deploy.deployment.field_types import Entry

LINES = {"tags": 4, "work_pool": 5, "concurrency_limit": 6, "schedules": 7, "schedule": 8}


def entry(**data: Any) -> Entry:
    return Entry(data, Path("prefect.yaml"), 3, LINES)


def problems(read_entry: Entry) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in read_entry.problems]


def prefect_refuses(schedule: Any) -> bool:
    """The oracle: whether Prefect 3.9's own model of a prefect.yaml (prefect/cli/deploy/
    _models.py, PrefectYamlModel, what `prefect deploy` validates with) refuses an entry
    with this schedule."""
    from prefect.cli.deploy._models import PrefectYamlModel
    from pydantic import ValidationError

    try:
        PrefectYamlModel.model_validate({"deployments": [{"name": "x", "schedules": [schedule]}]})
    except ValidationError:
        return True
    return False


def test_a_typed_value_its_empty_default_or_an_error_at_its_key() -> None:
    read = typed("tags", list, "a list", empty=list)
    assert read(entry(tags=["a"])) == ["a"]
    assert read(entry()) == []
    wrong = entry(tags="a")
    assert read(wrong) == []
    assert problems(wrong) == [(4, "`tags` must be a list")]


def test_tags_are_strings() -> None:
    assert read_tags(entry(tags=["a", 1])) == ("a", "1")
    assert read_tags(entry()) == ()


def test_a_string_of_tags_is_an_error_that_says_what_prefect_would_make_of_it() -> None:
    """Prefect's model takes `tags: nightly` (a string, for templating), and its
    RunnerDeployment, which `prefect deploy` hands it to, makes each letter a tag (the
    oracle below): an error at the key, with the list to write, rather than either."""
    from prefect.deployments.runner import RunnerDeployment

    assert RunnerDeployment(name="x", flow_name="f", tags="nightly").tags == list("nightly")
    wrong = entry(tags="nightly")
    assert read_tags(wrong) == ()
    [(line, message)] = problems(wrong)
    assert line == 4 and "`tags: [nightly]`" in message and "letters" in message


def test_the_work_pool_s_name_and_job_variables() -> None:
    good = entry(work_pool={"name": "pool", "job_variables": {"cpu": 1}})
    assert pool_string("name")(good) == "pool"
    assert read_job_variables(good) == {"cpu": 1}
    assert read_job_variables(entry()) == {}
    bad = entry(work_pool={"name": 3, "job_variables": []})
    assert pool_string("name")(bad) is None and read_job_variables(bad) == {}
    # Both come from the one `work_pool` key: its shape is said once.
    assert problems(bad) == [(5, "`work_pool` must be a mapping whose `name` is a string")]


@pytest.mark.parametrize(
    ("value", "read"),
    [
        (None, (None, None)),
        (3, (3, None)),
        ({"limit": 2}, (2, None)),
        (
            {"limit": 2, "collision_strategy": "CANCEL_NEW", "grace_period_seconds": 120},
            (2, {"collision_strategy": "CANCEL_NEW", "grace_period_seconds": 120}),
        ),
    ],
)
def test_a_concurrency_limit_as_prefect_deploy_reads_it(value: Any, read: Any) -> None:
    assert concurrency(entry(concurrency_limit=value)) == read


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "an integer, or a mapping with `limit` and `collision_strategy`"),
        ({"limit": 1, "collision_strategy": "DROP"}, "`collision_strategy` is ENQUEUE or"),
        ({"limit": 1, "grace_period_seconds": 5}, "`grace_period_seconds` is 60 to 86400"),
    ],
)
def test_a_concurrency_limit_prefect_would_refuse(value: Any, expected: str) -> None:
    bad = entry(concurrency_limit=value)
    assert concurrency(bad) == (None, None)
    [(line, message)] = problems(bad)
    assert line == 6 and expected in message


def test_schedules_keep_their_mappings_and_the_older_key_takes_one() -> None:
    assert read_schedules(entry()) is None
    assert read_schedules(entry(schedules=[{"cron": "0 6 * * *"}])) == ({"cron": "0 6 * * *"},)
    assert read_schedules(entry(schedule={"interval": 60})) == ({"interval": 60},)
    assert read_schedules(entry(schedules=[])) == ()


@pytest.mark.parametrize(
    "legacy", [{}, None, {"interval": 60}, {"cron": "0 6 * * *", "timezone": "Europe/Lisbon"}]
)
def test_the_older_key_as_prefect_deploy_reads_it(legacy: Any) -> None:
    """`schedule: {}` (older prefect.yaml files carry it) is no schedule, as `prefect deploy`
    reads it (prefect/cli/deploy/_config.py, `_handle_deprecated_schedule_fields`: the
    oracle); a mapping is the one schedule."""
    from prefect.cli.deploy._config import _handle_deprecated_schedule_fields

    theirs = _handle_deprecated_schedule_fields({"schedule": legacy}).get("schedules")
    read = entry(schedule=legacy)
    ours = read_schedules(read)
    assert (list(ours) if ours is not None else None) == theirs
    assert problems(read) == []


@pytest.mark.parametrize(
    "schedule",
    [
        {"cron": "0 16 * * *", "timezone": "Europe/Lisbon", "day_or": True, "active": True},
        {"interval": 60, "anchor_date": "2026-01-01T00:00:00", "slug": "s", "parameters": {}},
        {"rrule": "FREQ=DAILY", "replaces": "old"},
        {
            "cron": "0 16 * * *",
            "max_active_runs": None,
            "catchup": False,
        },  # Prefect 3.0 wrote these
        {"cron": "0 16 * * *", "flow_run_name": "x"},
    ],
)
def test_schedule_keys_prefect_deploy_refuses_are_warned_and_ignored(schedule: Any) -> None:
    """The oracle: Prefect 3.9's own model of a prefect.yaml (prefect/cli/deploy/_models.py,
    PrefectYamlModel; its RawScheduleConfig forbids other keys and the whole file is refused).
    Here such a key is said at `schedules:` and ignored: none changes what runs."""
    accepted = not prefect_refuses(schedule)
    read = entry(schedules=[schedule])
    assert read_schedules(read) == (schedule,)
    warned = [(p.line, p.severity) for p in read.problems]
    assert warned == ([] if accepted else [(7, "warning")]), (schedule, read.problems)
    assert accepted or "Prefect 3 takes no such key there" in read.problems[0].message


@pytest.mark.parametrize(
    ("data", "line", "says"),
    [
        ({"schedules": [], "schedule": {"cron": "x"}}, 8, "both `schedule` and `schedules`"),
        ({"schedule": [{"cron": "x"}]}, 8, "takes one schedule, a mapping"),
        ({"schedules": {"cron": "x"}}, 7, "`schedules` must be a list"),
        ({"schedules": [{"timezone": "UTC"}]}, 7, "invalid schedule"),
    ],
)
def test_schedules_of_a_shape_prefect_would_not_run(
    data: dict[str, Any], line: int, says: str
) -> None:
    bad = entry(**data)
    assert read_schedules(bad) is None
    [(at, message)] = problems(bad)
    assert at == line and says in message


def test_triggers_are_mappings() -> None:
    assert read_triggers(entry(triggers=[{"enabled": True}])) == ({"enabled": True},)
    assert read_triggers(entry()) == ()
    bad = entry(triggers=["x"])
    assert read_triggers(bad) == ()
    assert problems(bad) == [
        (3, "`triggers` must be a list of mappings (Prefect's automation format)")
    ]


@pytest.mark.parametrize(
    "value", [True, False, "true", "False", " yes", "NO", "on", "off", "t", "f", "y", "n",
              "1", "0", 1, 0, 2, "maybe", 1.0, [True]]
)  # fmt: skip
def test_paused_and_enforce_are_read_as_prefect_deploy_reads_a_bool(value: Any) -> None:
    """Prefect's prefect.yaml model takes `paused:` and `enforce_parameter_schema:` as
    pydantic's lax bool (the oracle here), so `paused: "true"` pauses; what it refuses is an
    error at the key."""
    from pydantic import TypeAdapter, ValidationError

    from prefect_flow_deploy.deployment.field_readers import lax_bool

    try:
        theirs: bool | None = TypeAdapter(bool).validate_python(value)
    except ValidationError:
        theirs = None
    for key in ("paused", "enforce_parameter_schema"):
        read = Entry({key: value}, Path("prefect.yaml"), 3, {key: 9})
        assert lax_bool(key)(read) == theirs, (key, value)
        assert [p.line for p in read.problems] == ([] if theirs is not None else [9])


ANCHOR = "interval: 3600\nanchor_date: {anchor}\n"


@pytest.mark.parametrize(
    "text",
    [
        ANCHOR.format(anchor="2026-01-01T00:00:00Z") + "active: false\n",
        ANCHOR.format(anchor="2026-01-01") + "active: true\n",
        ANCHOR.format(anchor="2026-01-01T00:00:00Z") + "parameters: {a: 1}\n",
        ANCHOR.format(anchor="2026-01-01T00:00:00Z") + "slug: daily\n",
        ANCHOR.format(anchor="2026-01-01T00:00:00Z"),
        ANCHOR.format(anchor="2026-01-01T00:00:00Z") + "timezone: UTC\n",
        ANCHOR.format(anchor="'2026-01-01T00:00:00Z'") + "active: false\n",
        "cron: '0 6 * * *'\nactive: false\n",
    ],
)
def test_an_unquoted_anchor_date_is_said_where_prefect_deploy_refuses_it(text: str) -> None:
    """Newander/Data-Platform-Copilot (trial round 11 b 1): `anchor_date: 2026-01-01T00:00:00Z`
    beside `active: false` deployed here, while `prefect deploy` skipped the entry (YAML reads
    the date as a timestamp, and only Prefect's IntervalSchedule, with no other keys, takes
    one). The oracle: Prefect's own PrefectYamlModel on the YAML as written."""
    import yaml

    schedule = yaml.safe_load(text)
    refused = prefect_refuses(schedule)
    read = entry(schedules=[schedule])
    assert read_schedules(read) == (schedule,)  # deployed all the same: its text is used
    said = [p for p in read.problems if "`anchor_date` is unquoted" in p.message]
    assert [(p.line, p.severity) for p in said] == ([(7, "warning")] if refused else [])


@pytest.mark.parametrize("legacy", [[], [{"cron": "0 6 * * *"}]])
def test_a_list_under_the_older_key_is_refused_as_prefect_deploy_refuses_it(legacy: Any) -> None:
    """datopian/preflow's `schedule: []` (trial round 11 a 6): the message said `prefect
    deploy` ignores a list there; Prefect 3.9's PrefectYamlModel refuses the entry."""
    from prefect.cli.deploy._models import PrefectYamlModel
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        PrefectYamlModel.model_validate({"deployments": [{"name": "x", "schedule": legacy}]})
    read = entry(schedule=legacy)
    assert read_schedules(read) is None
    [(line, message)] = problems(read)
    assert line == 8 and "`prefect deploy` refuses the entry for a list there" in message
