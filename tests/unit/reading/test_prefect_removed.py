"""Names Prefect 3 removed (prefect_removed.py), judged against the installed Prefect 3 (the
oracle), and said at the import's line while reading the source."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.flows import find_flows
from prefect_flow_deploy.reading.prefect_removed import (
    REMOVED_IN_PREFECT_3,
    REMOVED_MODULES,
    REMOVED_WITH_A_STUB,
    removed_in_prefect_3,
)


def test_the_stubbed_removals_are_prefect_s_own_table() -> None:
    from prefect._internal.compatibility.migration import REMOVED_IN_V3

    assert set(REMOVED_WITH_A_STUB) == set(REMOVED_IN_V3)


@pytest.mark.parametrize("path", sorted(REMOVED_IN_PREFECT_3))
def test_each_name_is_gone_from_the_installed_prefect(path: str) -> None:
    module_name, name = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return  # the whole module went
    with pytest.raises((ImportError, AttributeError)):
        getattr(module, name)


@pytest.mark.parametrize("module", sorted(REMOVED_MODULES))
def test_each_removed_module_is_gone_from_the_installed_prefect(module: str) -> None:
    """And what it says to use instead is there."""
    with pytest.raises(ImportError):
        importlib.import_module(module)
    assert removed_in_prefect_3(module + ".schemas.states", "Scheduled") == REMOVED_MODULES[module]
    for named in ("prefect.client.schemas.filters", "prefect.client.schemas.objects",
                  "prefect.client.schemas.schedules", "prefect.states",
                  "prefect.deployments.steps"):  # fmt: skip
        importlib.import_module(named)


def test_names_prefect_3_keeps_are_not_flagged() -> None:
    for module, name in (
        ("prefect.blocks.system", "Secret"),
        ("prefect.filesystems", "RemoteFileSystem"),
        ("prefect.deployments", "run_deployment"),
        ("prefect.task_runners", "ThreadPoolTaskRunner"),
        ("prefect.server.schemas.states", "Scheduled"),  # `prefect.orion`'s later name
    ):
        assert removed_in_prefect_3(module, name) is None
        assert getattr(importlib.import_module(module), name)


SOURCE = """from prefect import flow
from prefect.filesystems import GCS, RemoteFileSystem

try:
    from prefect.deployments import Deployment
except ImportError:  # Prefect 3
    Deployment = None


def helper():
    from prefect.blocks.system import String

    return String


@flow
def f() -> None:
    pass
"""


def test_a_removed_import_is_an_error_at_its_line_or_a_warning_inside_a_function(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flow.py"
    path.write_text(SOURCE)
    flows, problems, _ = find_flows(path, tmp_path)
    assert [f.name for f in flows] == ["f"]
    assert [(p.severity, p.line) for p in problems] == [("error", 2), ("warning", 11)]
    assert problems[0].message == (
        "`from prefect.filesystems import GCS`: Prefect 3 removed it, so this import fails "
        "before any flow of the file starts (ImportError). Use `prefect_gcp.GcsBucket` instead."
    )
    assert "fails when the function runs" in problems[1].message
    assert "prefect.variables.Variable" in problems[1].message
