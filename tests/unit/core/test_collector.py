from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from prefect_flow_deploy.core.collector import collector_paused


@pytest.fixture
def restore_collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("restore_collector")
def test_paused_inside_and_on_again_after_even_when_it_raises() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


@pytest.mark.usefixtures("restore_collector")
def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.usefixtures("restore_collector")
def test_no_automatic_collection_inside() -> None:
    gc.enable()
    started: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        with collector_paused():
            cycles = []
            for _ in range(50_000):  # far past the first generation's threshold (700)
                pair: list[object] = []
                pair.append(pair)
                cycles.append(pair)
            inside = list(started)
    finally:
        gc.callbacks.remove(counted)
    assert inside == []
