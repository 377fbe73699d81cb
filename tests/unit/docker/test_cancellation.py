"""What a cancelled run cleans up before it exits: the temporary folders it tracks (the Docker
config holding the registry login first), the builds it started, and its check containers on
the engine (those labelled with this run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.docker import cancellation, engine_session, leftovers


class Containers:
    def __init__(self) -> None:
        self.filters: dict[str, str] = {}
        self.removed = 0

    def list(self, all: bool, filters: dict[str, str]) -> list[Any]:
        self.filters = filters
        return [self, self]

    def remove(self, force: bool) -> None:
        self.removed += 1


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cancellation, "_dirs", [])
    monkeypatch.setattr(cancellation, "_processes", set())
    monkeypatch.setattr(run_files, "remove_run_dir", lambda: None)


@pytest.mark.usefixtures("tracked")
def test_tracked_folders_and_builds_are_removed_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login, done, untracked = tmp_path / "login", tmp_path / "done", tmp_path / "kept"
    for folder in (login, done, untracked):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    cancellation.track_dir(str(login))
    cancellation.track_dir(str(done))
    cancellation.untrack_dir(str(done))
    cancellation.track_dir(str(tmp_path / "already-gone"))
    build = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], text=True)
    cancellation.track_process(build)
    engine = type("Engine", (), {"containers": Containers()})()
    monkeypatch.setattr(engine_session, "docker_client", lambda: engine)
    said = cancellation.cleanup()
    assert said == (
        "1 temporary folders (the Docker config with the registry login among them), "
        "1 builds stopped, 2 check containers removed"
    )
    assert not login.exists() and done.exists() and untracked.exists()
    assert build.poll() is not None
    assert engine.containers.filters == {"label": f"{leftovers.RUN_LABEL}={run_files.this_run()}"}


@pytest.mark.usefixtures("tracked")
def test_without_an_engine_no_container_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> Any:
        raise ConnectionError("no engine")

    monkeypatch.setattr(engine_session, "docker_client", unreachable)
    assert cancellation.cleanup().endswith("0 builds stopped, 0 check containers removed")


def test_the_progress_said_on_interruption_is_the_last_one_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cancellation, "_progress", [])
    cancellation.report_progress(lambda: "first")
    cancellation.report_progress(lambda: "2 deployments written")
    assert [say() for say in cancellation._progress] == ["2 deployments written"]
