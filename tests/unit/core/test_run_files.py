"""The run's temporary files: one private folder per run, named after the run so that a later
run can tell whose a leftover folder is; under RUNNER_TEMP on a GitHub runner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.run_files import RUN_DIR_PREFIX, RunId, dir_owner


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(run_files, "_run_dir", [])
    monkeypatch.setattr(run_files, "_root", [str(tmp_path)])
    return tmp_path


def test_a_run_id_is_written_and_read_back() -> None:
    run = RunId("runner-1.example", 4242, 987654, 4026531836)
    assert str(run) == "4242.987654.ns4026531836.runner-1.example"
    assert RunId.parse(str(run)) == run
    bare = RunId("host", 7, 0)
    assert RunId.parse(str(bare)) == bare
    assert RunId.parse("x.1.host") is None and RunId.parse("1.2.") is None


def test_pids_mean_the_same_process_on_one_host_and_namespace() -> None:
    here = RunId("h", 1, 1, 10)
    assert here.shares_pids_with(RunId("h", 2, 2, 10))
    assert here.shares_pids_with(RunId("h", 2, 2, 0))  # unknown namespace: the same
    assert not here.shares_pids_with(RunId("h", 2, 2, 11))
    assert not here.shares_pids_with(RunId("other", 2, 2, 10))


def test_this_process_is_a_run_with_a_start_time() -> None:
    run = run_files.this_run()
    assert run.pid == os.getpid() and run.started == run_files.process_start(os.getpid())
    assert run_files.process_start(2**22 + 12345) is None  # no such process


def test_the_run_s_folder_is_private_made_once_and_names_its_run(fresh: Path) -> None:
    folder = run_files.run_dir()
    assert run_files.run_dir() == folder and Path(folder).parent == fresh
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert dir_owner(Path(folder).name) == run_files.this_run()
    inner = run_files.temp_dir("pfd-docker-config-")
    assert Path(inner).parent == Path(folder)
    run_files.remove_run_dir()
    assert not Path(folder).exists()


def test_a_folder_name_tells_its_run_or_nothing() -> None:
    assert dir_owner(f"{RUN_DIR_PREFIX}12.34.host.abcd") == RunId("host", 12, 34)
    assert dir_owner("pfd-run.nonsense") is None
    assert dir_owner("other.12.34.host.abcd") is None


def test_on_a_github_runner_the_folder_goes_under_runner_temp(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner_temp = fresh / "runner_temp"
    runner_temp.mkdir()
    env = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp)}
    assert run_files.use_runner_temp({**env, "GITHUB_ACTIONS": "false"}) is None
    assert run_files.use_runner_temp({**env, "RUNNER_TEMP": str(fresh / "missing")}) is None
    assert run_files.use_runner_temp(env) == str(runner_temp)
    assert run_files.temp_root() == str(runner_temp)
    assert Path(run_files.run_dir()).parent == runner_temp
    run_files.remove_run_dir()
