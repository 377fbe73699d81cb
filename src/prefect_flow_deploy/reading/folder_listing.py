"""A flow folder's entries, listed once: one walk (os.scandir per directory, links not
followed, in os.walk's top-down order) that the entry checks (folder_entries.py), the flow
finder (its .py files) and the module resolver (python_source.py) all read, instead of a walk
each. Each entry keeps what the directory listing already told (a folder? a link?), so that
no reader stats an entry again to ask."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    directory: str  # the directory it is in, under the folder as given
    name: str
    is_dir: bool  # as os.walk sorts it: a link to a folder is a folder here
    is_symlink: bool

    @property
    def path(self) -> str:
        return os.path.join(self.directory, self.name)


@dataclass(frozen=True)
class Directory:
    path: str  # under the folder as given
    dirs: tuple[Entry, ...]  # its folders (os.walk's `dirs`)
    files: tuple[Entry, ...]  # its other entries (os.walk's `files`)
    error: OSError | None = None  # why it could not be listed (then it has no entries)


@dataclass(frozen=True)
class FolderListing:
    folder: str  # as given
    resolved: str  # its real path (os.path.realpath), taken once
    # In os.walk's top-down order, those it could not list where its onerror would say so.
    directories: tuple[Directory, ...]

    def real_path(self, path: str) -> str | None:
        """os.path.realpath of a path in the folder, told by the listing (no disk asked)
        when it shows the path is no link in a listed, so real, directory; else None."""
        if path == self.folder:
            return self.resolved
        directory, name = os.path.split(path)
        if directory == self.folder or directory.startswith(self.folder + os.sep):
            listed = self._by_path.get(directory)
            if listed is not None and not any(
                e.name == name and e.is_symlink for e in (*listed.dirs, *listed.files)
            ):
                return self.resolved + path[len(self.folder) :]
        return None

    def holds_file(self, path: str) -> bool:
        """Whether the listing may have a file at `path` (a non-folder entry, a link
        included); True outside what it listed, where it cannot tell."""
        directory, name = os.path.split(path)
        listed = self._by_path.get(directory)
        return listed is None or any(e.name == name for e in listed.files)

    @functools.cached_property
    def _by_path(self) -> dict[str, Directory]:
        return {d.path: d for d in self.directories if d.error is None}

    def files_under(self, keep_dir: Callable[[str], bool], *, ordered: bool) -> Iterator[str]:
        """The paths of the non-folder entries in the directories `keep_dir` keeps (by name,
        the folder itself always), as os.walk with that pruning would give them; `ordered`:
        folders and files by name (sorted), else in the listing's order."""
        by_directory = self._by_path
        if self.folder not in by_directory:
            return iter(())
        return _files_under(by_directory, self.folder, keep_dir, ordered)


# The walks below are module functions, not nested ones: a nested function that calls itself
# refers to itself through its closure, a cycle that held each folder's listing until the
# cycle collector ran (test_discovery.py).


def _files_under(
    by_directory: dict[str, Directory],
    directory: str,
    keep_dir: Callable[[str], bool],
    ordered: bool,
) -> Iterator[str]:
    dirs, files = by_directory[directory].dirs, by_directory[directory].files
    names = [f.name for f in files]
    for name in sorted(names) if ordered else names:
        yield os.path.join(directory, name)
    subdirs = [d for d in dirs if keep_dir(d.name)]
    for sub in sorted(subdirs, key=lambda d: d.name) if ordered else subdirs:
        if sub.path in by_directory:  # not a link, and listed
            yield from _files_under(by_directory, sub.path, keep_dir, ordered)


def real_path(listing: FolderListing | None, path: str) -> str:
    """os.path.realpath of a path: told by the folder's listing when it can, else asked of
    the disk (no listing, a link on the way, a path outside what it listed)."""
    known = listing.real_path(path) if listing is not None else None
    return known if known is not None else os.path.realpath(path)


def list_folder(folder: Path, resolved: str | None = None) -> FolderListing:
    """The folder's entries, as os.walk(folder) finds them (links to folders not entered);
    `resolved`: its real path when the caller knows it (else os.path.realpath asks)."""
    directories: list[Directory] = []
    given = str(folder)
    _list(given, directories)
    real = resolved if resolved is not None else os.path.realpath(given)
    return FolderListing(given, real, tuple(directories))


def _list(directory: str, directories: list[Directory]) -> None:
    """List `directory` into `directories`, then the folders in it (os.walk's order)."""
    try:
        with os.scandir(directory) as found:
            listed = list(found)
    except OSError as exc:
        directories.append(Directory(directory, (), (), exc))
        return
    dirs: list[Entry] = []
    files: list[Entry] = []
    for item in listed:
        try:
            is_dir = item.is_dir()
        except OSError:
            is_dir = False
        try:
            is_symlink = item.is_symlink()
        except OSError:
            is_symlink = True  # unsure: its readers ask the disk, as without a listing
        (dirs if is_dir else files).append(Entry(directory, item.name, is_dir, is_symlink))
    directories.append(Directory(directory, tuple(dirs), tuple(files)))
    for entry in dirs:  # os.walk enters what os.path.islink says is no link
        if not entry.is_symlink or not os.path.islink(entry.path):
            _list(entry.path, directories)
