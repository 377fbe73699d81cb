"""(split from ownership.py)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# scp-like (`git@host:owner/name.git`) or URL (`https://host/owner/name(.git)`) remotes.
_REMOTE = re.compile(
    r"^(?:[a-z+]+://[^/]+/|[^@/:]+@[^:/]+:|[^:/]+:(?!//))(?P<path>.+?)(?:\.git)?/?$"
)


def normalise_repository(value: str) -> str:
    """`Acme/Flows` and `acme/flows` are one repository on GitHub: compare in lower case."""
    return value.strip().strip("/").lower()


def repository_from_remote(url: str) -> str | None:
    match = _REMOTE.match(url.strip())
    return normalise_repository(match["path"]) if match else None


def origin_repository(checkout: Path) -> str | None:
    """The repository of the checkout's `origin` remote, or None (no git, no remote)."""
    try:
        answer = subprocess.run(
            ["git", "-C", str(checkout), "remote", "get-url", "origin"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None  # no git: the run records no repository
    return repository_from_remote(answer.stdout) if answer.returncode == 0 else None
