"""The environments whose worker command started: kept for the run and the next runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.docker import started_commands

A, B = "a" * 64, "b" * 64


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(started_commands, "_known", None)  # a new run
    return tmp_path / "prefect-flow-deploy" / "worker-command-started"


def test_a_started_environment_is_known_to_this_run_and_the_next(_cache: Path) -> None:
    assert started_commands.known() == set()
    started_commands.add(A)
    started_commands.add(A)  # once
    assert started_commands.known() == {A}
    assert _cache.read_text() == A + "\n"
    started_commands._known = None  # the next run on this machine
    assert started_commands.known() == {A}


def test_what_is_not_a_digest_is_neither_kept_nor_read(_cache: Path) -> None:
    _cache.parent.mkdir(parents=True)
    _cache.write_text(f"{B}\nnot a digest\n{'c' * 10}\n")
    started_commands.add("../../etc")
    assert started_commands.known() == {B}


def test_a_cache_that_cannot_be_written_keeps_the_run_s(
    _cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        Path, "mkdir", lambda *a, **k: (_ for _ in ()).throw(OSError("ro"))
    )  # read-only
    started_commands.add(A)
    assert started_commands.known() == {A} and not _cache.exists()
