"""Every use of the table of deployment fields is one loop over it: on a table of a few made-up
fields, what each loop reads, compares, writes and shows; on the real table, the fields the
file leaves to the server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from prefect_flow_deploy.deployment import field_loops
from prefect_flow_deploy.deployment import fields as deployment_fields
from prefect_flow_deploy.deployment.field_readers import typed
from prefect_flow_deploy.deployment.field_types import KEEP, OMIT, DeploymentField, Entry

from .test_fields import folder_reading, wanted

TABLE = (
    DeploymentField("a", attr="a", yaml="a", read=typed("a", str, "a string"), shown="A"),
    DeploymentField(
        "b", yaml="b.x", aliases=("bee",), read=typed("b", dict, "a mapping"),
        write_with=lambda _spec: ("c",),
    ),
    DeploymentField("c", attr="c", compared=False, created=False),
    DeploymentField(
        "k", attr="k", wanted=lambda _spec: KEEP, create=lambda _spec: OMIT, updated=False
    ),
    DeploymentField("p", attr="p", pending=True, shown="P"),
)  # fmt: skip


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment_fields, "FIELDS", TABLE)


def spec(**values: Any) -> Any:
    return SimpleNamespace(**{"a": "x", "c": 1, "k": 2, "p": None, "extra": {"b": {}}, **values})


def test_the_keys_of_an_entry_are_the_table_s() -> None:
    assert field_loops.prefect_yaml_keys() == {"a", "b", "bee"}


def test_an_entry_is_read_into_attributes_and_extra() -> None:
    entry = Entry({"a": "x", "b": {"x": 1}}, Path("prefect.yaml"), 1, {})
    assert field_loops.read_entry(entry) == ({"a": "x"}, {"b": {"x": 1}})
    assert entry.problems == []


def test_compared_values_leave_out_what_the_file_leaves_to_the_server() -> None:
    assert field_loops.wanted(spec()) == {"a": "x", "b": {}, "p": None}
    assert field_loops.held({"a": "y", "k": 3, "c": 4}) == {"a": "y", "b": None, "k": 3, "p": None}


def test_a_pending_value_is_not_a_change_until_it_is_known() -> None:
    existing = SimpleNamespace(comparable={"a": "x", "b": {"x": 1}, "p": "old"})
    desired = {"p": None, "b": {}, "a": "x"}
    assert field_loops.changed(spec(), desired, existing) == ["b"]  # type: ignore[arg-type]
    desired = {"p": "new", "b": {}, "a": "z"}
    assert field_loops.changed(spec(), desired, existing) == ["p", "b", "a"]  # type: ignore[arg-type]


def test_the_bodies_omit_what_is_omitted_and_add_what_a_change_needs() -> None:
    assert field_loops.create_values(spec()) == {"a": "x", "b": {}, "p": None}
    assert field_loops.update_values(spec(), ["b", "k", "unknown"]) == {"b": {}, "c": 1}
    assert field_loops.update_values(spec(), ["a"]) == {"a": "x"}


def test_the_plan_shows_its_keys_with_a_pending_value_named() -> None:
    assert field_loops.shown(spec()) == {"A": "x", "P": field_loops.PENDING}
    assert field_loops.shown(spec(p="known")) == {"A": "x", "P": "known"}


def test_the_real_table_leaves_unsaid_fields_to_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real table
    silent = field_loops.wanted(wanted(folder_reading(tmp_path, "")))
    assert {"paused", "work_queue_name", "schedules"}.isdisjoint(silent)
    spoken = wanted(
        folder_reading(
            tmp_path, "    paused: false\n    work_pool: {work_queue_name: q}\n    schedules: []\n"
        )
    )
    assert {"paused", "work_queue_name", "schedules"} <= set(field_loops.wanted(spoken))
