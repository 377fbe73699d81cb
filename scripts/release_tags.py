#!/usr/bin/env python3
"""Which floating tags (`vX.Y`, `vX`) a release moves: only forward.

    python3 scripts/release_tags.py [--latest] NEW_TAG [EXISTING_TAG ...]

Prints the floating tags to move to NEW_TAG, one a line (nothing for a prerelease, or for a
fix on an older line: v1.1.5 after v1.2.0 moves `v1.1`, never `v1`). With --latest, prints
`true` when NEW_TAG is the newest release of all (the GitHub Release to mark "Latest"), else
`false`. Exits 2, saying why, when
NEW_TAG is not `vMAJOR.MINOR.PATCH[-PRERELEASE]`. EXISTING_TAG arguments that are not release
versions (`v1`, `latest`, prereleases) are ignored. Standard library only: the release
workflow runs it with the runner's python3, before anything is installed.
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

# Semantic Versioning 2.0.0 (semver.org's own regular expression) with a leading `v`, without
# build metadata: `+` is not allowed in an image tag, and the release pushes one per version.
_NUMBER = r"0|[1-9]\d*"
_IDENTIFIER = r"0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*"
_VERSION = re.compile(
    rf"v(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>(?:{_IDENTIFIER})(?:\.(?:{_IDENTIFIER}))*))?"
)


class Version(NamedTuple):
    major: int
    minor: int
    patch: int
    prerelease: str | None


def parse(tag: str) -> Version | None:
    match = _VERSION.fullmatch(tag)
    if not match:
        return None
    return Version(
        int(match["major"]), int(match["minor"]), int(match["patch"]), match["pre"] or None
    )


def floating_tags(new: Version, existing: list[Version]) -> list[str]:
    """`vX.Y` when no release of X.Y is newer, `vX` when no release of X is newer."""
    if new.prerelease:
        return []
    releases = [v[:3] for v in existing if not v.prerelease]
    moves = []
    if all(v <= new[:3] for v in releases if v[:2] == new[:2]):
        moves.append(f"v{new.major}.{new.minor}")
    if all(v <= new[:3] for v in releases if v[0] == new.major):
        moves.append(f"v{new.major}")
    return moves


def is_latest(new: Version, existing: list[Version]) -> bool:
    return not new.prerelease and all(v[:3] <= new[:3] for v in existing if not v.prerelease)


def invalid_message(tag: str) -> str:
    return (
        f"{tag!r} is not a release tag: use vMAJOR.MINOR.PATCH (v1.2.3), or "
        "vMAJOR.MINOR.PATCH-PRERELEASE (v1.2.3-rc.1), without leading zeros or build "
        "metadata. Delete the tag (git push --delete origin TAG) and push a valid one."
    )


def main(argv: list[str]) -> int:
    latest = argv[:1] == ["--latest"]
    argv = argv[1:] if latest else argv
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    new = parse(argv[0])
    if new is None:
        print(f"release_tags: {invalid_message(argv[0])}", file=sys.stderr)
        return 2
    existing = [v for v in map(parse, argv[1:]) if v is not None]
    if latest:
        print("true" if is_latest(new, existing) else "false")
        return 0
    for tag in floating_tags(new, existing):
        print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
