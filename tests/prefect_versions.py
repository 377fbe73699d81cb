"""Which Prefect the tests run under: the lock's (the newest pyproject.toml allows, which the
action image and this venv use) or an older one (tests/integration/test_oldest_prefect.py).
A few answers of Prefect's own changed between them; the tests that use Prefect as their
oracle say which, and hold the rest."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def locked() -> Version:
    match = re.search(r"^prefect==([^\s;\\]+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, "no prefect pin in requirements.lock"
    return Version(match.group(1))


def installed() -> Version:
    return Version(version("prefect"))


def newest_allowed() -> bool:
    """The installed Prefect is the lock's: every answer must equal ours."""
    return installed() == locked()
