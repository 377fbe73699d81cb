"""What stays at the repository root when `adopt` moves Prefect's layout (left_at_root.py):
the root modules a moved folder imports, and the root's Dockerfile or pyproject.toml that a
moved folder lacks."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.core.model import FlowFolder, ModuleImport
from prefect_flow_deploy.reading.left_at_root import build_files_left, modules_left
from prefect_flow_deploy.reading.prefect_layout import Group


def test_a_root_module_is_said_once_at_its_first_import_and_one_inside_the_folder_is_not(
    tmp_path: Path,
) -> None:
    (tmp_path / "utils").mkdir()
    (tmp_path / "helpers.py").write_text("")
    (tmp_path / "flows" / "own").mkdir(parents=True)
    group = Group(path=(tmp_path / "flows").resolve(), project="p", name="flows")
    imports = [
        ModuleImport("utils", "etl.py", 3), ModuleImport("utils", "b.py", 1),
        ModuleImport("helpers", "etl.py", 4), ModuleImport("own", "etl.py", 5),
        ModuleImport("requests", "etl.py", 6),
    ]  # fmt: skip
    folder = FlowFolder(project="p", name="flows", path=group.path, imports=imports)
    said = modules_left(group, folder, tmp_path, tmp_path / "projects" / "p" / "flows")
    assert [s.split(" imports ")[0] for s in said] == [
        "projects/p/flows: etl.py:4",
        "projects/p/flows: etl.py:3",
    ]
    assert modules_left(group, None, tmp_path, tmp_path / "x") == []  # root files: no folder


def test_a_root_dockerfile_is_said_for_the_folders_without_their_own(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    (tmp_path / "b" / "Dockerfile").write_text("FROM python:3.12\n")
    moves = {(tmp_path / f).resolve(): tmp_path / "projects" / "p" / f for f in ("a", "b")}
    [said] = build_files_left(tmp_path, moves)
    assert said.startswith("Dockerfile stays at the repository root")
    assert "not in projects/p/a." in said
    assert build_files_left(tmp_path / "a", {}) == []  # nothing at that top
