"""What the table of deployment fields is made of: an entry being read reports each problem
once, at its key's line (the entry's own line when the key has none); a field's defaults read
its value from the carrier's attribute, else from its `extra`."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from prefect_flow_deploy.deployment.field_types import KEEP, OMIT, DeploymentField, Entry


def test_an_entry_reports_a_problem_once_at_its_key_s_line() -> None:
    entry = Entry({"tags": "x", "paused": "no"}, Path("prefect.yaml"), 3, {"tags": 4})
    assert entry.typed("tags", list, "a list") is None
    assert entry.typed("tags", list, "a list") is None  # read by two fields: said once
    assert entry.typed("paused", bool, "true or false") is None
    assert entry.typed("missing", str, "a string") is None
    assert [(p.severity, p.line, p.message) for p in entry.problems] == [
        ("error", 4, "`tags` must be a list"),
        ("error", 3, "`paused` must be true or false"),
    ]


def test_a_field_s_defaults_use_its_attribute_or_the_carrier_s_extra() -> None:
    spec = SimpleNamespace(paused=True, extra={"storage_document_id": "abc"})
    paused = DeploymentField("paused", attr="paused", yaml="paused")
    storage = DeploymentField("storage_document_id", yaml="storage.id", aliases=("storage_id",))
    assert paused.carried_value(spec) is True  # type: ignore[arg-type]
    assert storage.carried_value(spec) == "abc"  # type: ignore[arg-type]
    assert paused.wanted_value(spec) is True  # type: ignore[arg-type]
    assert paused.create_value(spec) is True and paused.update_value(spec) is True  # type: ignore[arg-type]
    assert paused.server_value({"paused": False}) is False
    assert storage.top_keys() == ("storage", "storage_id")
    assert DeploymentField("id").top_keys() == ()


def test_a_field_s_own_functions_win_over_the_defaults() -> None:
    spec = SimpleNamespace(paused=None, extra={})
    field = DeploymentField(
        "paused",
        attr="paused",
        held=lambda data: bool(data.get("paused")),
        wanted=lambda _spec: KEEP,
        create=lambda _spec: OMIT,
        update=lambda _spec: False,
    )
    assert field.server_value({}) is False
    assert field.wanted_value(spec) is KEEP  # type: ignore[arg-type]
    assert field.create_value(spec) is OMIT  # type: ignore[arg-type]
    assert field.update_value(spec) is False  # type: ignore[arg-type]
