"""scripts/release_tags.py: floating tags move only forward (the release workflow calls it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "release_tags.py"
_spec = importlib.util.spec_from_file_location("release_tags", SCRIPT)
assert _spec and _spec.loader
release_tags = importlib.util.module_from_spec(_spec)
sys.modules["release_tags"] = release_tags
_spec.loader.exec_module(release_tags)


def moves(new: str, *existing: str) -> list[str]:
    """What the workflow reads: the script's stdout, one tag a line (run as the runner does)."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), new, *existing], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_first_release_moves_its_minor_and_major() -> None:
    assert moves("v1.0.0") == ["v1.0", "v1"]


def test_a_newer_patch_moves_both() -> None:
    assert moves("v1.2.4", "v1.2.3", "v1.2", "v1", "v1.1.9") == ["v1.2", "v1"]


def test_a_fix_on_an_older_minor_never_moves_the_major_back() -> None:
    assert moves("v1.1.5", "v1.1.4", "v1.2.0", "v1.1", "v1.2", "v1") == ["v1.1"]


def test_an_older_patch_pushed_late_moves_nothing() -> None:
    assert moves("v1.2.1", "v1.2.0", "v1.2.3") == []


def test_a_new_major_leaves_the_old_major_alone() -> None:
    assert moves("v2.0.0", "v1.9.9", "v1") == ["v2.0", "v2"]


def test_a_fix_on_an_older_major_moves_only_that_major() -> None:
    assert moves("v1.9.10", "v1.9.9", "v2.0.0") == ["v1.9", "v1"]


def test_versions_compare_as_numbers_not_text() -> None:
    assert moves("v1.10.0", "v1.9.0", "v1.2.0") == ["v1.10", "v1"]
    assert moves("v1.9.0", "v1.10.0") == ["v1.9"]


def test_a_rerun_of_the_same_release_moves_the_same_tags() -> None:
    """The tag being released is among the existing ones when the workflow lists them."""
    assert moves("v1.2.3", "v1.2.3", "v1.2.2") == ["v1.2", "v1"]


def test_a_prerelease_never_moves_floating_tags() -> None:
    assert moves("v1.3.0-rc.1", "v1.2.0") == []
    assert moves("v2.0.0-beta", "v1.2.0") == []


def test_prereleases_and_other_tags_do_not_hold_a_release_back() -> None:
    """v1.3.0-rc.1 exists; the real v1.2.5 still moves v1 (v1.3.0 is not released)."""
    assert moves("v1.2.5", "v1.3.0-rc.1", "v1.2.4", "latest", "v1", "nightly-2026") == [
        "v1.2",
        "v1",
    ]


@pytest.mark.parametrize(
    "tag",
    ["1.2.3", "v1.2", "v1", "v1.2.3.4", "v01.2.3", "v1.02.3", "v1.2.3+build.5", "v1.2.3-", "x"],
)
def test_an_invalid_tag_is_refused_with_what_to_do(tag: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), tag], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert repr(tag) in done.stderr and "vMAJOR.MINOR.PATCH" in done.stderr


def test_no_arguments_prints_the_usage() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "NEW_TAG" in done.stderr


def test_parse_reads_the_prerelease() -> None:
    assert release_tags.parse("v1.2.3-rc.1") == release_tags.Version(1, 2, 3, "rc.1")
    assert release_tags.parse("v0.0.0") == release_tags.Version(0, 0, 0, None)
    assert release_tags.parse("v1.2.3-01") is None  # numeric identifiers have no leading zero


def latest(new: str, *existing: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--latest", new, *existing],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_only_the_newest_release_of_all_is_marked_latest() -> None:
    assert latest("v1.2.4", "v1.2.3", "v1") == "true"
    assert latest("v1.1.5", "v1.2.0") == "false"  # a fix on an older line
    assert latest("v1.9.10", "v2.0.0") == "false"  # a fix on an older major
    assert latest("v2.0.0-rc.1", "v1.2.0") == "false"  # GitHub: a prerelease is never latest
    assert latest("v1.2.0", "v1.3.0-rc.1") == "true"
