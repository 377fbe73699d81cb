"""The programs of `in_image/` run in a built image, against a stand-in engine: each run is a
labelled container without network, removed afterwards; its output becomes the check's
answer or the schemas, and a run that takes too long or prints nothing says so."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.docker import image_programs, leftovers
from prefect_flow_deploy.docker.image_programs import (
    ImageCheck,
    Loads,
    check_image,
    image_schemas,
)
from prefect_flow_deploy.in_image import check_image as check_program

SCHEMA = {"flows.py:etl": {"properties": {"day": {"type": "string"}}}}


class Container:
    def __init__(self, output: str, stderr: str = "", status: int = 0, hangs: bool = False):
        self.output, self.stderr, self.status, self.hangs = output, stderr, status, hangs
        self.removed = False

    def wait(self, timeout: float | None = None) -> dict[str, int]:
        if self.hangs:
            raise TimeoutError("read timed out")
        return {"StatusCode": self.status}

    def logs(self, stdout: bool = True, stderr: bool = True) -> bytes:
        parts = ([self.output] if stdout else []) + (
            [self.stderr] if stderr and self.stderr else []
        )
        return "\n".join(parts).encode()

    def remove(self, force: bool = False) -> None:
        self.removed = True


class Engine:
    def __init__(self, container: Container, config: dict[str, Any] | None = None) -> None:
        self.container = container
        self.started: list[dict[str, Any]] = []
        self.images = self
        self.containers = self
        self.attrs = {"Config": config or {"WorkingDir": "/app"}}

    def get(self, _reference: str) -> Engine:
        return self

    def run(self, reference: str, **options: Any) -> Container:
        self.started.append({"reference": reference, **options})
        return self.container


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(container: Container, config: dict[str, Any] | None = None) -> Engine:
        found = Engine(container, config)
        monkeypatch.setattr(image_programs, "docker_client", lambda: found)
        return found

    return use


def test_schemas_the_check_computed_are_used_as_they_are() -> None:
    checked = ImageCheck("3.1.0", "/app", "/app", [], schemas=SCHEMA)
    assert image_schemas("r/x:1", "/app", {"flows.py:etl": None}, checked) == SCHEMA
    failed = ImageCheck("3.1.0", "/app", "/app", [], schema_error="loading failed")
    with pytest.raises(FolderError, match="loading failed"):
        image_schemas("r/x:1", "/app", {"flows.py:etl": None}, failed)


def test_schemas_in_a_run_of_their_own(engine: Any) -> None:
    container = Container(f"some flow output\n{check_program.MARKER}{json.dumps(SCHEMA)}")
    used = engine(container)
    loads: Loads = {"flows.py:etl": None, "quick.py:q": [("git", []), ("x.y", ["z"])]}
    assert image_schemas("r/x:1", "/app", loads) == SCHEMA
    [run] = used.started
    assert run["network_disabled"] is True and run["working_dir"] == "/app"
    assert run["environment"] == {
        "PREFECT_API_URL": "", "PREFECT_API_KEY": "",
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
    }  # fmt: skip
    assert run["labels"] == leftovers.run_label()
    assert json.loads(run["command"][0]) == {
        "code_dir": "/app",
        "entrypoints": ["flows.py:etl", "quick.py:q"],
        "imports": {"quick.py:q": [["git", []], ["x.y", ["z"]]]},  # Prefect loads the first alone
    }
    assert container.removed


def test_a_schema_run_that_hangs_or_prints_no_result_says_so(engine: Any) -> None:
    hanging = Container("", hangs=True)
    engine(hanging)
    with pytest.raises(FolderError, match="took over 120s"):
        image_schemas("r/x:1", "/app", {"flows.py:etl": None})
    assert hanging.removed
    engine(Container("Traceback: ImportError"))
    with pytest.raises(FolderError, match="loading the flows in the image failed"):
        image_schemas("r/x:1", "/app", {"flows.py:etl": None})


def test_the_check_of_an_image_without_an_entrypoint(engine: Any) -> None:
    answer = {"prefect": "3.1.0", "code_dir": "/app", "cwd": "/app", "missing": ["pandas"]}
    container = Container(json.dumps(answer))
    used = engine(container)
    result = check_image("r/x:1", {"flows.py": "x"}, "/opt/code", ["pandas"])
    assert (result.prefect_version, result.code_dir, result.workdir) == ("3.1.0", "/app", "/app")
    assert result.missing_modules == ["pandas"] and result.entrypoint_ignoring_command is None
    [run] = used.started
    assert run["entrypoint"][:2] == ["python", "-c"] and run["network_disabled"] is True
    assert json.loads(run["command"][0])["candidates"] == ["/opt/code", "/app"]
    assert container.removed


def test_an_image_that_cannot_run_python_fails_its_check(engine: Any) -> None:
    engine(Container("", stderr="exec: python: not found", status=127))
    with pytest.raises(FolderError, match="cannot run Python"):
        check_image("r/x:1", {}, None, [])


def test_until_one_worker_command_is_known_to_start_checks_run_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cold run's folders mostly share one environment: checked side by side, each started
    its CLI (3 s of CPU) before any was known; after the first, the others run together."""
    import threading
    import time

    from prefect_flow_deploy.docker import image_programs, started_commands

    known: set[str] = set()
    monkeypatch.setattr(started_commands, "known", lambda: set(known))
    running, most = [0], [0]
    lock = threading.Lock()

    def check(*args: object, **kwargs: object) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "checked"

    monkeypatch.setattr(image_programs, "_check_under", check)

    def four() -> int:
        most[0] = 0
        threads = [
            threading.Thread(target=image_programs.check_image, args=("r", {}, None, []))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return most[0]

    assert four() == 1
    known.add("a" * 64)
    assert four() > 1
