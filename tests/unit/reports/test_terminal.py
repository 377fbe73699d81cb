"""The terminal's plan and result lines: a change as `field: old → new` (long values cut),
sizes in decimal units, and keep-images' deletions one line each (tabs kept) then the total."""

from __future__ import annotations

import io
import json

from rich.console import Console

from prefect_flow_deploy.core.model import ImageDeletion
from prefect_flow_deploy.core.results import Counters, FlowResult, RunResult
from prefect_flow_deploy.reports.terminal import (
    SHORT,
    describe_changes,
    desired,
    human_size,
    json_text,
    print_deletions,
    print_result,
    total_freed,
)
from tests.unit.rules.test_decide import OPTIONS, first_plan, folder


def test_a_change_is_old_to_new_and_long_values_are_cut() -> None:
    long = "x" * 100
    lines = describe_changes(
        {"paused": (False, True), "parameters": ({}, {"a": long}), "triggers": ([], ["t1", "t2"])}
    )
    assert lines[0] == "paused: false → true"
    assert lines[1].startswith("parameters.a: null → ")  # the entry that changed
    cut = lines[1].split(" → ")[1]
    assert len(cut) == SHORT and cut.endswith("…") and cut.startswith('"xxx')
    assert lines[2] == "triggers: t1, t2"


def test_a_mapping_s_change_is_shown_at_the_entries_that_changed() -> None:
    """NickOsipov/otus-prefect-basic, one default changed: both schemas, cut at 60
    characters, printed the same start; now the changed entry, at its path, and a count of
    the rest past a few."""
    schema = {"properties": {"limit": {"default": 40}, "region": {"default": "europe-west"}}}
    changed = {"properties": {"limit": {"default": 40}, "region": {"default": "europe-north"}}}
    [line] = describe_changes({"parameter_openapi_schema": (schema, changed)})
    assert line == (
        'parameter_openapi_schema.properties.region.default: "europe-west" → "europe-north"'
    )
    old = {f"k{i}": i for i in range(5)}
    [line] = describe_changes(
        {"job_variables": (old, {**old, "k0": 9, "k1": 9, "k2": 9, "k3": 9, "new": 1})}
    )
    assert line.startswith("job_variables.k0: 0 → 9; job_variables.k1: 1 → 9; job_variables.k2")
    assert line.endswith("; 2 more in job_variables")
    [line] = describe_changes({"parameters": ({"a": 1}, {})})
    assert line == "parameters.a: 1 → null"


def test_nothing_is_desired_of_a_deployment_that_goes() -> None:
    assert desired(None) is None


def test_a_description_given_as_nothing_is_desired_as_the_empty_text_written() -> None:
    """A flow with no description is registered with "" (the create sends it so; an
    empty `description:` falls back to the flow's, as in `prefect deploy`); `desired`
    showed null (trial D, 2026-12-05)."""
    [create] = first_plan(folder("daily"), options=OPTIONS).deployments
    shown = desired(create.spec)
    assert shown is not None and shown["description"] == ""


def test_sizes_in_decimal_units() -> None:
    assert human_size(None) == "size unknown"
    assert human_size(999) == "999 B"
    assert human_size(1500) == "1.5 kB"
    assert human_size(2_500_000) == "2.5 MB"
    assert human_size(7_000_000_000_000) == "7000.0 GB"


def deletion(tag: str, freed: int | None, outcome: str = "deleted") -> ImageDeletion:
    return ImageDeletion("reg/sales/daily", f"sha256:{tag * 64}", (tag, f"{tag}-old"), "2024-01-02T03:04:05Z", freed, outcome)  # fmt: skip


def test_deletions_one_line_each_then_the_total() -> None:
    deletions = [deletion("a", 1500), deletion("b", None, "refused: denied")]
    assert total_freed(deletions) == 1500
    assert total_freed([deletion("c", None)]) is None
    out = io.StringIO()
    print_deletions(deletions, Console(file=out), planned=False)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "deleted\treg/sales/daily:a,a-old\tsha256:aaaaaaaaaaaa\tcreated 2024-01-02T03:04:05"
        "\tfrees 1.5 kB"
    )
    assert lines[1].startswith("refused: denied\treg/sales/daily:b,b-old")
    assert lines[1].endswith("frees size unknown")
    assert (
        lines[2]
        == "keep-images: 2 images deleted, 1.5 kB freed after the registry's garbage collection"
    )
    planned = io.StringIO()
    print_deletions([deletion("c", None)], Console(file=planned), planned=True)
    assert planned.getvalue().splitlines()[-1] == "keep-images: 1 images to delete"
    assert planned.getvalue().startswith("would delete\t")


def test_json_is_indented_for_a_person_and_one_line_for_a_program() -> None:
    value = {"summary": {"builds": 1}, "items": [{"folder": "sales/daily", "desired": None}]}
    pretty, compact = json_text(value, pretty=True), json_text(value, pretty=False)
    assert json.loads(pretty) == json.loads(compact) == value
    assert '\n  "summary": {\n    "builds": 1' in pretty
    assert "\n" not in compact


def test_a_failed_row_says_the_first_line_of_its_error() -> None:
    """Stjefan/prefect-flows: one failed RUN's build log, printed at the Dockerfile's line,
    was printed again under each of the folder's 8 deployments: 239 lines (trial b 7)."""
    plan = first_plan(folder("daily", "etl", "report"))
    error = "docker build failed: exit code 1\n#5 [2/3] RUN pip install\n#5 ERROR: no file"
    rows = [
        FlowResult("sales", "daily", f, "sales", None, None, None, "failed", "failed", error=error)
        for f in ("etl", "report")
    ]
    out = io.StringIO()
    print_result(RunResult(plan, {}, rows, Counters(), None, 1.0), Console(file=out, width=200))
    lines = out.getvalue().splitlines()
    assert [line for line in lines if "#5" in line] == []
    said = "failed: docker build failed: exit code 1 (the rest above)"
    assert [line.endswith(said) for line in lines[:2]] == [True, True]
