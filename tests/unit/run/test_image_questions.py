"""The registry asked about each folder's image as soon as its recipe is made
(image_questions.py), against the OCI-spec registry stand-in the count tests use: a question
goes out before the answers are asked for, only the folders that count are answered, a registry that
answers nothing is one clear error, and past the threshold the catalog spares questions about
repositories that do not exist yet."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_flow_deploy.clients.docker_auth import load_logins
from prefect_flow_deploy.clients.http_retry import RetryTransport
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.core.model import FlowFolder
from prefect_flow_deploy.core.server_state import ServerState
from prefect_flow_deploy.reading.discovery import read_folder
from prefect_flow_deploy.run import image_questions
from prefect_flow_deploy.run.image_questions import ImageQuestions
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given
from tests.oci_registry import OciRegistry, OciServer, registry_through
from tests.unit.clients.test_http_retry import no_proxy_variables

FLOW = "from prefect import flow\n\n\n@flow\ndef {name}() -> None:\n    pass\n"


class Counted(httpx.BaseTransport):
    """The stand-in, with each request seen (method and path) and, when `refuse`, a 401."""

    def __init__(self, inner: OciRegistry, refuse: bool = False) -> None:
        self.inner, self.refuse, self.seen = inner, refuse, []  # type: list[str]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if self.refuse and "/manifests/" in request.url.path and "/base/" not in request.url.path:
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
        return self.inner.handle_request(request)


@pytest.fixture
def oci() -> OciRegistry:
    found = OciRegistry()
    found.put("base/prefect", "3")
    return found


def client(monkeypatch: pytest.MonkeyPatch, transport: httpx.BaseTransport) -> RegistryClient:
    registry_through(
        monkeypatch,
        lambda *_a, **_k: RetryTransport(transport),  # type: ignore[arg-type]
    )
    return RegistryClient(load_logins({}, {}))


def folders(root: Path, count: int) -> list[FlowFolder]:
    read = []
    for number in range(count):
        path = root / "team" / f"flow{number}"
        path.mkdir(parents=True)
        (path / "flow.py").write_text(FLOW.format(name=f"flow{number}"))
        read.append(read_folder("team", path, root))
    return read


def options(root: Path, host: str = "registry.test") -> Any:
    given = {"projects_root": root, "registry": f"{host}/flows",
             "base_image": f"{host}/base/prefect:3", "work_pool": "pool"}  # fmt: skip
    return resolve_options({name: Given(value, "test") for name, value in given.items()})


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as threads:
        yield threads


def empty_state() -> ServerState:
    return ServerState({})


def test_a_folder_is_asked_about_as_soon_as_it_is_read(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = Counted(oci)
    questions = ImageQuestions(options(tmp_path), client(monkeypatch, transport), empty_state, pool)
    first, second = folders(tmp_path, 2)
    questions.read(first)
    questions.read(second)
    deadline = time.monotonic() + 10
    while sum("/v2/flows/team/" in s for s in transport.seen) < 2:  # before `answers`
        assert time.monotonic() < deadline, transport.seen
        time.sleep(0.01)
    found = questions.answers()
    assert list(found.answers) == [first.key, second.key]
    assert all(a.tag and a.digest is None for a in found.answers.values())  # not built yet
    heads = [s for s in transport.seen if s.startswith("HEAD /v2/flows/")]
    assert len(heads) == 2
    # The base both build FROM is looked up once (docker/base_images.py answers each ask).
    assert transport.seen.count("HEAD /v2/base/prefect/manifests/3") == 1, transport.seen


def test_only_the_folders_read_are_answered_in_their_order(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gather reads only the folders that become images (no collision, no failure): a folder
    not read keeps no recipe and no answer."""
    questions = ImageQuestions(options(tmp_path), client(monkeypatch, oci), empty_state, pool)
    first, second, third = folders(tmp_path, 3)
    questions.read(third)
    questions.read(first)
    found = questions.answers()
    assert list(found.recipes) == list(found.answers) == [third.key, first.key]
    assert second.key not in found.recipes and found.recipe_errors == {}


def test_an_existing_image_is_found_with_its_digest(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = ImageQuestions(options(tmp_path), client(monkeypatch, oci), empty_state, pool)
    (folder,) = folders(tmp_path, 1)
    questions.read(folder)
    tag = questions.answers().answers[folder.key].tag
    assert tag
    oci.put("flows/team/flow0", tag)
    again = ImageQuestions(options(tmp_path), client(monkeypatch, oci), empty_state, pool)
    again.read(folder)
    answer = again.answers().answers[folder.key]
    assert answer.tag == tag and str(answer.digest).startswith("sha256:")


def test_a_registry_that_answers_no_question_is_one_clear_error(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = Counted(oci, refuse=True)
    questions = ImageQuestions(options(tmp_path), client(monkeypatch, refusing), empty_state, pool)
    read = folders(tmp_path, 3)
    for folder in read:
        questions.read(folder)
    with pytest.raises(RegistryError, match="refused access"):
        questions.answers()


def test_past_the_threshold_the_catalog_spares_questions_about_new_repositories(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_questions, "CATALOG_THRESHOLD", 1)
    transport = Counted(oci)
    questions = ImageQuestions(options(tmp_path), client(monkeypatch, transport), empty_state, pool)
    read = folders(tmp_path, 4)
    for folder in read:
        questions.read(folder)
    found = questions.answers()
    assert len(found.answers) == 4 and all(a.digest is None for a in found.answers.values())
    assert sum(s.startswith("GET /v2/_catalog") for s in transport.seen) == 1
    heads = [s for s in transport.seen if s.startswith("HEAD /v2/flows/")]
    assert len(heads) == 1  # the first, asked before the catalog was read


# -- asked from the reading thread (clients/pumped_heads.py), over a socket -------------------
@pytest.fixture
def served(oci: OciRegistry, monkeypatch: pytest.MonkeyPatch) -> Iterator[OciServer]:
    no_proxy_variables(monkeypatch)
    server = OciServer(oci).start(poll_interval=0.05)
    yield server
    server.stop()


def test_the_pump_asks_while_the_next_folders_are_read_and_answers_as_threads_do(
    tmp_path: Path, oci: OciRegistry, served: OciServer, pool: ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A folder's question is in the registry's hands before `answers` (polled between
    folders, as gather does); one HEAD a folder for N and 10·N folders; the answers are
    those the threads get through httpx."""
    monkeypatch.setattr(image_questions, "CATALOG_THRESHOLD", 10**6)
    root = tmp_path / "repo"
    read = folders(root, 30)
    registry = RegistryClient(load_logins({}, {}))
    for count in (3, 30):
        for folder in read[: count // 2]:  # half of them built already
            questions = ImageQuestions(options(root, served.host), registry, empty_state, pool)
            questions.read(folder)
            answer = questions.answers().answers[folder.key]
            oci.put(f"flows/team/{folder.name}", str(answer.tag))
        served.seen.clear()
        questions = ImageQuestions(options(root, served.host), registry, empty_state, pool)
        questions.read(read[0])
        deadline = time.monotonic() + 10
        while not any("/flows/team/flow0/" in seen for seen in served.seen):
            assert time.monotonic() < deadline, served.seen
            questions.poll()
        for folder in read[1:count]:
            questions.read(folder)
            questions.poll()
        pumped = questions.answers().answers
        heads = [s for s in served.seen if s.startswith("HEAD /v2/flows/")]
        assert len(heads) == count, served.seen
        threaded = ImageQuestions(
            options(root, served.host), client(monkeypatch, oci), empty_state, pool
        )
        for folder in read[:count]:
            threaded.read(folder)
        assert pumped == threaded.answers().answers
        assert sum(a.digest is not None for a in pumped.values()) == count // 2
        monkeypatch.undo()
        monkeypatch.setattr(image_questions, "CATALOG_THRESHOLD", 10**6)
        no_proxy_variables(monkeypatch)
    registry.close()


def test_a_registry_that_wants_a_login_is_pumped_once_then_asked_by_the_threads(
    tmp_path: Path, oci: OciRegistry, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first answer (401) stops the pump; the questions go to the registry client,
    whose error is the one a refusing registry always gave."""
    no_proxy_variables(monkeypatch)
    refusing = Counted(oci, refuse=True)
    server = OciServer(refusing).start(poll_interval=0.05)
    registry = RegistryClient(load_logins({}, {}))
    try:
        questions = ImageQuestions(options(tmp_path, server.host), registry, empty_state, pool)
        for folder in folders(tmp_path, 5):
            questions.read(folder)
            questions.poll()
        with pytest.raises(RegistryError, match="refused access"):
            questions.answers()
        heads = [s for s in refusing.seen if s.startswith("HEAD /v2/flows/")]
        assert len(heads) == 5 + 1  # each asked by the client, one pumped before
    finally:
        registry.close()
        server.stop()
