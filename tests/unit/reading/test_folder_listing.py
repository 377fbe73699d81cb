"""A flow folder listed once: the listing is what os.walk finds (links to folders not
entered, a folder that cannot be listed where os.walk says so), its pruned file lists are
what a pruned os.walk gives, the real paths it tells are os.path.realpath's; and, counted,
discovery lists each directory of a flow folder once and asks the disk for no real path
inside a folder, for N and 10·N folders (the entry checks, the flow finder, the module
resolver, the import-cycle and requirements checks share the one listing)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.reading import discovery
from prefect_flow_deploy.reading.folder_listing import list_folder


def tree(folder: Path) -> Path:
    for rel in ("flow.py", "lib/a.py", "lib/deep/b.py", "lib/c.txt", "_private/d.py",
                ".hidden/e.py", "__pycache__/f.py", "node_modules/g.py", "z/h.py"):  # fmt: skip
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("x = 1\n")
    (folder / "linked_dir").symlink_to(folder / "lib")
    (folder / "linked.py").symlink_to(folder / "flow.py")
    (folder / "dangling.py").symlink_to(folder / "missing.py")
    return folder


def test_the_listing_is_what_os_walk_finds(tmp_path: Path) -> None:
    folder = tree(tmp_path / "f")
    listing = list_folder(folder)
    walked = [(d, sorted(ds), sorted(fs)) for d, ds, fs in os.walk(folder)]
    listed = [
        (d.path, sorted(e.name for e in d.dirs), sorted(e.name for e in d.files))
        for d in listing.directories
    ]
    assert listed == walked
    assert listing.resolved == os.path.realpath(folder)
    links = {e.name for d in listing.directories for e in (*d.dirs, *d.files) if e.is_symlink}
    assert links == {"linked_dir", "linked.py", "dangling.py"}


def test_a_real_path_is_told_by_the_listing_unless_a_link_is_on_the_way(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "given").symlink_to(tmp_path / "real")  # the folder itself through a link
    folder = tree(tmp_path / "given")
    listing = list_folder(folder)
    for rel in ("", "flow.py", "lib/a.py", "lib/deep", "lib/missing.py", ".hidden/e.py"):
        path = os.path.join(folder, rel) if rel else str(folder)
        assert listing.real_path(path) == os.path.realpath(path), rel
    for rel in ("linked.py", "linked_dir", "linked_dir/a.py", "dangling.py", "../x.py"):
        assert listing.real_path(os.path.join(folder, rel)) is None, rel
    assert listing.real_path(str(tmp_path / "elsewhere.py")) is None


@pytest.mark.parametrize("ordered", [True, False])
def test_pruned_files_are_what_a_pruned_walk_gives(tmp_path: Path, ordered: bool) -> None:
    folder = tree(tmp_path / "f")

    def keep(name: str) -> bool:
        return not name.startswith((".", "_")) and name != "node_modules"

    expected = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if keep(d)) if ordered else [d for d in dirs if keep(d)]
        expected += [os.path.join(root, n) for n in (sorted(files) if ordered else files)]
    found = list(list_folder(folder).files_under(keep, ordered=ordered))
    assert (found if ordered else sorted(found)) == (expected if ordered else sorted(expected))


def test_a_folder_that_cannot_be_listed_is_an_error_where_os_walk_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tree(tmp_path / "f")
    scandir = os.scandir

    def refusing(path: Any = ".") -> Any:
        if os.fspath(path) == str(folder / "lib"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)  # os.walk lists with it too
    walked: list[str] = []
    for directory, _, _ in os.walk(folder, onerror=lambda e: walked.append(f"! {e.filename}")):
        walked.append(directory)
    listing = list_folder(folder)
    listed = [d.path if d.error is None else f"! {d.error.filename}" for d in listing.directories]
    assert listed == walked
    [failed] = [d for d in listing.directories if d.error is not None]
    assert failed.path == str(folder / "lib") and failed.dirs == failed.files == ()


def repository(root: Path, folders: int) -> Path:
    projects = root / "projects"
    for i in range(folders):
        folder = projects / f"team{i % 3}" / f"flow{i:03d}"
        (folder / "lib").mkdir(parents=True)
        (folder / "flow.py").write_text(
            "from prefect import flow\nfrom lib.util import helper\nfrom tabulate import t\n\n"
            f"@flow(name='f{i}')\ndef run(n: int = 1) -> None:\n    helper()\n"
        )
        (folder / "lib" / "util.py").write_text("def helper() -> None:\n    pass\n")
        (folder / "requirements.txt").write_text("tabulate\n")
    (root / ".git").mkdir()
    return projects


def listings(
    monkeypatch: pytest.MonkeyPatch, projects: Path
) -> tuple[Counter[str], int, Counter[str]]:
    """Directory listings (os.scandir, os.listdir) per path, os.walk calls, and real paths
    asked of the disk (os.path.realpath, which Path.resolve calls) per path, of a discovery
    of the repository."""
    listed: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    walks = 0
    scandir, listdir, walk, realpath = os.scandir, os.listdir, os.walk, os.path.realpath

    def counted_realpath(path: Any, *args: Any, **kwargs: Any) -> Any:
        resolved[os.fspath(path)] += 1
        return realpath(path, *args, **kwargs)

    def counted_scandir(path: Any = ".") -> Any:
        listed[os.fspath(path)] += 1
        return scandir(path)

    def counted_listdir(path: Any = ".") -> Any:
        listed[os.fspath(path)] += 1
        return listdir(path)

    def counted_walk(*args: Any, **kwargs: Any) -> Any:
        nonlocal walks
        walks += 1
        return walk(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "scandir", counted_scandir)
        patch.setattr(os, "listdir", counted_listdir)
        patch.setattr(os, "walk", counted_walk)
        patch.setattr(os.path, "realpath", counted_realpath)
        folders = discovery.discover(projects)
    assert all(f.flows and not f.problems for f in folders), folders
    return listed, walks, resolved


@pytest.mark.parametrize("folders", [3, 30])
def test_discovery_lists_each_directory_of_a_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: int
) -> None:
    projects = repository(tmp_path, folders)
    listed, walks, resolved = listings(monkeypatch, projects)
    assert walks == 0  # os.walk would list again what the listing holds
    inside = {p: n for p, n in listed.items() if Path(p).is_relative_to(projects)}
    in_folders = {p: n for p, n in inside.items() if len(Path(p).relative_to(projects).parts) > 1}
    assert len(in_folders) == 2 * folders  # each folder and its lib/
    assert set(in_folders.values()) == {1}
    # No real path asked of the disk inside a folder, whatever its files and imports: the
    # projects root's is carried down (no link on the way), the listing tells the rest.
    asked = [p for p in resolved if Path(p).is_relative_to(projects)]
    assert [p for p in asked if len(Path(p).relative_to(projects).parts) > 1] == []
    assert len(asked) <= 1  # the projects root (repository_root asks it too)


def test_a_file_the_listing_does_not_hold_is_not_there(tmp_path: Path) -> None:
    folder = tree(tmp_path / "f")
    listing = list_folder(folder)
    assert listing.holds_file(str(folder / "flow.py"))
    assert listing.holds_file(str(folder / "dangling.py"))  # a link: opening it tells
    assert not listing.holds_file(str(folder / "pyproject.toml"))
    assert not listing.holds_file(str(folder / "lib"))  # a folder
    assert listing.holds_file(str(folder / "linked_dir" / "x.py"))  # not listed: cannot tell
