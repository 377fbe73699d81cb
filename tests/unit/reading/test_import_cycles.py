"""Circular imports among a folder's modules: a warning at the flow file's import."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.reading.import_cycles import cycle_problems
from prefect_flow_deploy.reading.python_source import FolderSource

FLOW = "from prefect import flow\n{imports}\n\n@flow\ndef one() -> int:\n    return 1\n"


def folder(tmp_path: Path, imports: str, **modules: str) -> Path:
    (tmp_path / "flow.py").write_text(FLOW.format(imports=imports))
    for name, text in modules.items():
        path = tmp_path / f"{name.replace('__', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "flow.py"


def test_a_cycle_back_to_the_flow_file_is_named_at_its_import(tmp_path: Path) -> None:
    flow = folder(tmp_path, "import os\nfrom helpers import X", helpers="import other\nX = 1\n",
                  other="from flow import one\n")  # fmt: skip
    [problem] = cycle_problems(FolderSource(tmp_path), [flow])
    assert (problem.severity, problem.line, problem.file) == ("warning", 3, flow)
    assert "flow.py → helpers.py → other.py → flow.py" in problem.message


def test_imports_that_run_later_or_never_make_no_cycle(tmp_path: Path) -> None:
    flow = folder(
        tmp_path, "import helpers",
        helpers="from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flow\n"
        "def later():\n    import flow\n",
        pkg__a="from . import b\n", pkg__b="from . import a\n",  # a cycle the flow never enters
    )  # fmt: skip
    assert cycle_problems(FolderSource(tmp_path), [flow]) == []


def test_a_relative_package_cycle_through_a_try_block(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    flow = folder(tmp_path, "from pkg import a", pkg__a="try:\n    from . import b\nexcept ImportError:\n    pass\n",
                  pkg__b="import flow\n")  # fmt: skip
    [problem] = cycle_problems(FolderSource(tmp_path), [flow])
    assert "flow.py → pkg/a.py → pkg/b.py → flow.py" in problem.message
