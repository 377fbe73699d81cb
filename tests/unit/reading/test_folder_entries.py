"""What of a flow folder cannot go into its image, said at the entry: a name that is not UTF-8,
a symlink loop, a symlink out of the repository or to a folder; a dangling link and a link
to a file inside the repository are fine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.folder_entries import (
    display,
    entry_problem,
    entry_problems,
    repository_root,
)


def repository(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    folder = root / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (root / ".git").mkdir()
    (folder / "flow.py").write_text("x = 1\n")
    return root, folder


def test_the_repository_root_is_the_nearest_checkout_else_the_parent(tmp_path: Path) -> None:
    root, _ = repository(tmp_path)
    assert repository_root(root / "projects") == root.resolve()
    bare = tmp_path / "plain" / "projects"
    bare.mkdir(parents=True)
    assert repository_root(bare) == bare.resolve().parent


def test_a_path_is_printable_whatever_bytes_its_name_holds() -> None:
    assert display(Path("ok/flow.py")) == "ok/flow.py"
    assert display(os.fsdecode(b"bad-\xff.py")) == "bad-\\xff.py"


def test_plain_files_and_links_inside_the_repository_are_fine(tmp_path: Path) -> None:
    root, folder = repository(tmp_path)
    (root / "shared.py").write_text("y = 2\n")
    (folder / "shared.py").symlink_to(root / "shared.py")
    (folder / "dangling.py").symlink_to(folder / "nowhere.py")  # copied as a link, as Docker does
    assert entry_problem(folder / "flow.py", root) is None
    assert entry_problems(folder, root) == []


def test_a_link_out_of_the_repository_and_a_loop_are_errors_at_the_entry(tmp_path: Path) -> None:
    root, folder = repository(tmp_path)
    (tmp_path / "secret.txt").write_text("token\n")
    (folder / "token.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    found = {p.file: (p.title, p.message) for p in entry_problems(folder, root)}
    assert found[folder / "token.txt"][0] == "Symlink out of the repository"
    assert "projects/sales/daily/token.txt is a symlink to" in found[folder / "token.txt"][1]
    assert found[folder / "a"] == (
        "Symlink loop",
        "projects/sales/daily/a is a symlink loop (-> b): remove the link, or point it at a real "
        "file or folder.",
    )
    assert found[folder / "b"][0] == "Symlink loop"
    assert all(p.severity == "error" for p in entry_problems(folder, root))


def test_a_name_that_is_not_utf8_is_an_error_at_its_folder(tmp_path: Path) -> None:
    root, folder = repository(tmp_path)
    bad = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.py"))
    try:
        bad.write_text("z = 3\n")
    except OSError:
        pytest.skip("the file system refuses names that are not UTF-8")
    [problem] = entry_problems(folder, root)
    assert (problem.title, problem.file) == ("File name", folder)
    assert "caf\\xe9.py is not valid UTF-8" in problem.message
