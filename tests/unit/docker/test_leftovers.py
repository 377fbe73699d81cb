"""What a killed run left, told apart from what a live run uses (leftovers.py): the rule is
pure; the process facts come from this machine's real /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.run_files import RunId, dir_owner, process_start
from prefect_flow_deploy.docker import leftovers
from prefect_flow_deploy.docker.leftovers import STALE_SECONDS, left_over

ME = RunId("runner-1", 100, 5000)


@pytest.mark.parametrize(
    ("owner", "started", "host_running", "age", "gone"),
    [
        (ME, 5000, None, 10 * STALE_SECONDS, False),  # this run's own, however old
        (RunId("runner-1", 200, 7000), 7000, None, 0, False),  # a live run on this host
        (RunId("runner-1", 200, 7000), None, None, 0, True),  # its process is gone
        (RunId("runner-1", 200, 7000), 9000, None, 0, True),  # its pid is another process now
        (RunId("0123456789ab", 1, 42), None, True, 10 * STALE_SECONDS, False),  # a running action
        (RunId("0123456789ab", 1, 42), None, False, 0, True),  # that container is gone
        (RunId("laptop", 300, 1), None, None, 60, False),  # another machine: too young to tell
        (RunId("laptop", 300, 1), None, None, STALE_SECONDS + 1, True),
        (None, None, None, 60, False),  # an older release's label (a pid only): by age
        (None, None, None, STALE_SECONDS + 1, True),
    ],
)
def test_left_over_only_when_its_run_is_gone(
    owner: RunId | None, started: int | None, host_running: bool | None, age: float, gone: bool
) -> None:
    assert left_over(owner, ME, started, host_running, age) is gone


def test_run_ids_and_folder_names_read_back() -> None:
    run = RunId("host.example-1", 4242, 123456)
    assert RunId.parse(str(run)) == run
    assert dir_owner(f"pfd-run.{run}.k3j_9x2a") == run
    assert dir_owner("pfd-run.notapid.1.host.abcdefgh") is None
    assert dir_owner("pfd-docker-config-abcdefgh") is None
    assert RunId.parse("4242") is None  # the pid-only label of an older release


def test_process_start_tells_a_live_process_from_a_dead_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = process_start(child.pid)
        assert started is not None and started > 0
        assert process_start(child.pid) == started  # stable: it is the process's, not now
    finally:
        child.kill()
        child.wait()
    assert process_start(child.pid) is None


def test_the_run_folder_is_named_after_this_run_and_swept_only_when_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(run_files, "_run_dir", [])
    monkeypatch.setattr(leftovers, "_sweep_containers", lambda: 0)  # no engine in unit tests
    login = Path(run_files.temp_dir("pfd-docker-config-"), "config.json")
    login.write_text("{}")
    mine = login.parent.parent
    assert dir_owner(mine.name) == run_files.this_run()

    # A dead run's folder (a real process, ended) and a live one's (this test's parent).
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_start = process_start(dead.pid)
    dead.wait()
    host = run_files.this_run().host
    gone = tmp_path / f"pfd-run.{RunId(host, dead.pid, dead_start or 1)}.abcdefgh"
    (gone / "pfd-docker-config-x").mkdir(parents=True)
    (gone / "pfd-docker-config-x" / "config.json").write_text('{"auths": {}}')
    parent = os.getppid()
    alive = tmp_path / f"pfd-run.{RunId(host, parent, process_start(parent) or 0)}.abcdefgh"
    alive.mkdir()

    said = leftovers.sweep()
    assert said is not None and "1 temporary folders" in said
    assert not gone.exists() and alive.exists() and login.exists()
    assert leftovers.sweep() is None

    run_files.remove_run_dir()
    assert not mine.exists()


def test_a_run_in_another_pid_namespace_on_the_same_host_name_is_not_judged_by_its_pid() -> None:
    """`docker run --network host` (the action harness; a self-hosted runner) gives the
    container the host's name but its own pids: pid 1 there is not pid 1 here. Its things are
    judged as another machine's (by age), never removed while young."""
    me = RunId("runner-1", 100, 5000, 4026531836)
    contained = RunId("runner-1", 1, 42, 4026532999)
    assert not contained.shares_pids_with(me)
    assert not left_over(contained, me, None, None, 60)
    assert left_over(contained, me, None, None, STALE_SECONDS + 1)
    assert RunId.parse(str(contained)) == contained
    assert RunId.parse("7.42.runner-1") == RunId("runner-1", 7, 42)  # no namespace recorded
    assert RunId("runner-1", 7, 42).shares_pids_with(me)  # unknown: as before


def test_threads_asking_for_the_run_folder_at_once_share_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(run_files, "_run_dir", [])
    with ThreadPoolExecutor(max_workers=16) as pool:
        folders = set(pool.map(lambda _: run_files.temp_dir("pfd-x-"), range(64)))
    assert len({Path(f).parent for f in folders}) == 1
    run_files.remove_run_dir()
    assert list(tmp_path.iterdir()) == []  # nothing left at exit


def test_on_a_runner_the_run_folder_goes_under_runner_temp(tmp_path: Path) -> None:

    try:
        assert run_files.use_runner_temp({"RUNNER_TEMP": str(tmp_path)}) is None  # not GitHub
        missing = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path / "not-mounted")}
        assert run_files.use_runner_temp(missing) is None  # an old runner's host path
        runner = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path)}
        assert run_files.use_runner_temp(runner) == str(tmp_path)
        assert run_files.temp_root() == str(tmp_path)
    finally:
        run_files._root.clear()


def test_the_cheap_look_for_labelled_containers_knows_what_it_cannot_tell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No socket: no engine, so none of our containers (False, and the SDK is never loaded);
    an engine over TCP or TLS: not told this way (None: the SDK's sweep runs)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    assert leftovers.labelled_locally() is False
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    assert leftovers.labelled_locally() is None
