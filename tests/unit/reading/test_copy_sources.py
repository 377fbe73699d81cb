"""COPY and ADD sources the build context (the flow folder) does not have, said at the
Dockerfile's line with what to write instead; those it has say nothing."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.core.model import FlowFolder
from prefect_flow_deploy.reading.copy_sources import missing_copy_sources


def folder(tmp_path: Path) -> tuple[FlowFolder, Path]:
    root = tmp_path / "repo"
    path = root / "projects" / "sales" / "daily"
    path.mkdir(parents=True)
    (path / "flow.py").write_text("x = 1\n")
    (path / "Dockerfile").write_text("")
    (root / "shared.txt").write_text("")
    return FlowFolder("sales", "daily", path, dockerfile=path / "Dockerfile"), root


def test_sources_the_folder_has_say_nothing(tmp_path: Path) -> None:
    found, root = folder(tmp_path)
    text = "FROM base\nCOPY flow.py /app/\nCOPY . /app\nADD https://x.test/a /a\n"
    assert missing_copy_sources(found, text, root) == []


def test_a_source_written_from_the_repository_root_says_how_to_write_it(
    tmp_path: Path,
) -> None:
    found, root = folder(tmp_path)
    text = "FROM base\nCOPY projects/sales/daily/flow.py /app/\nCOPY shared.txt /app/\n"
    first, second = missing_copy_sources(found, text, root)
    assert first.line == 2 and "write it as `flow.py`" in first.message
    assert second.line == 3 and "outside the flow folder" in second.message
    assert first.title == second.title == "Dockerfile"


def test_another_file_of_the_same_name_elsewhere_is_not_offered_as_this_one(
    tmp_path: Path,
) -> None:
    """styglab/teoria's Dockerfile, built from the root, copies
    `packages/provider/pyproject.toml`: the folder's own pyproject.toml was offered instead
    ("write it as `pyproject.toml`"), a different file (trial a 2). A name written from a
    folder that does not exist still gets the suffix the folder has."""
    found, root = folder(tmp_path)
    (found.path / "pyproject.toml").write_text("")
    (root / "packages" / "provider").mkdir(parents=True)
    (root / "packages" / "provider" / "pyproject.toml").write_text("")
    text = "FROM base\nCOPY packages/provider/pyproject.toml /a/\nCOPY nowhere/flow.py /a/\n"
    other, nowhere = missing_copy_sources(found, text, root)
    assert "packages/provider/pyproject.toml is in the repository but outside" in other.message
    assert "write it as" not in other.message
    assert "write it as `flow.py`" in nowhere.message
