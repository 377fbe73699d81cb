""".dockerignore as the Docker SDK applies it (docker-py's `docker.utils.build.exclude_paths`,
its PatternMatcher and its fnmatch, "heavily based on" moby's fileutils), here so that
reading a folder (`validate`, the pre-commit hook) needs no Docker SDK.

Adapted from docker-py 7.x (https://github.com/docker/docker-py, docker/utils/build.py and
docker/utils/fnmatch.py; Copyright Docker, Inc., Apache License 2.0, as this project):
typed, with the same rules. tests/unit/reading/test_dockerignore.py holds it equal to the SDK's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache


def exclude_paths(root: str, patterns: list[str], dockerfile: str = "Dockerfile") -> set[str]:
    """Every path (files and folders) under `root`, relative to it, that the patterns do not
    exclude; the Dockerfile and .dockerignore are always sent."""
    matcher = PatternMatcher([*patterns, f"!{dockerfile}"])
    return set(matcher.walk(root))


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


class Pattern:
    def __init__(self, text: str) -> None:
        self.exclusion = text.startswith("!")
        self.dirs = self.normalize(text[1:] if self.exclusion else text)
        self.cleaned = "/".join(self.dirs)

    @staticmethod
    def normalize(text: str) -> list[str]:
        """Trailing spaces, leading and trailing slashes and `.` are not relevant; `..`
        removes the component before it (Go's filepath.Clean)."""
        parts = _split(text.strip())
        index = 0
        while index < len(parts):
            if parts[index] == "..":
                del parts[index]
                if index > 0:
                    del parts[index - 1]
                    index -= 1
            else:
                index += 1
        return parts

    def match(self, path: str) -> bool:
        return _compiled(self.cleaned.lower()).match(path.lower()) is not None


class PatternMatcher:
    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [p for p in map(Pattern, patterns) if p.dirs]
        self.patterns.append(Pattern("!.dockerignore"))

    def matches(self, path: str) -> bool:
        matched = False
        parent = os.path.dirname(path)
        parent_dirs = _split(parent)
        for pattern in self.patterns:
            match = pattern.match(path)
            if not match and parent != "" and len(pattern.dirs) <= len(parent_dirs):
                match = pattern.match("/".join(parent_dirs[: len(pattern.dirs)]))
            if match:
                matched = not pattern.exclusion
        return matched

    def walk(self, root: str) -> Iterator[str]:
        # docker-py lists with os.listdir and asks isdir/islink of each entry, relpath each
        # time: the same walk from os.scandir's entries (what the listing already says) and
        # the relative folder carried down.
        return self._walk_in(root, "")

    def _walk_in(self, root: str, relative: str) -> Iterator[str]:
        # A method, not a nested function: one that calls itself refers to itself through
        # its closure, a cycle only the cycle collector frees (test_discovery.py).
        with os.scandir(os.path.join(root, relative) if relative else root) as listed:
            entries = list(listed)
        for entry in entries:
            path = f"{relative}/{entry.name}" if relative else entry.name
            excluded = self.matches(path)
            if not excluded:
                yield path
            try:
                is_real_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_real_dir = False
            if not is_real_dir:
                continue
            # An excluded folder is still walked when a `!pattern` reaches into it.
            if excluded and not any(
                p.exclusion and p.cleaned.startswith(path) for p in self.patterns
            ):
                continue
            yield from self._walk_in(root, path)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern))


def translate(pattern: str) -> str:
    """A .dockerignore pattern as a regular expression: `*` and `?` stop at `/`, `**`
    crosses folders (`**/` may match none), `[...]` and `[!...]` are classes."""
    index, size, out = 0, len(pattern), "^"
    while index < size:
        char = pattern[index]
        index += 1
        if char == "*":
            if index < size and pattern[index] == "*":
                index += 1
                if index < size and pattern[index] == "/":
                    index += 1
                out += ".*" if index >= size else "(.*/)?"
            else:
                out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = index
            if end < size and pattern[end] == "!":
                end += 1
            if end < size and pattern[end] == "]":
                end += 1
            while end < size and pattern[end] != "]":
                end += 1
            if end >= size:
                out += "\\["
            else:
                inner = pattern[index:end].replace("\\", "\\\\")
                index = end + 1
                if inner[0] == "!":
                    inner = "^" + inner[1:]
                elif inner[0] == "^":
                    inner = "\\" + inner
                out += f"[{inner}]"
        else:
            out += re.escape(char)
    return out + "$"
