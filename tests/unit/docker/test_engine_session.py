"""The engine a run checks and pushes on: the open builder's client while a site is open, this
runner's engine otherwise; the engine's platform in Docker's `os/architecture` names."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.docker import engine_session
from prefect_flow_deploy.docker.engine_session import Site


class FakeEngine:
    def __init__(self, info: dict[str, Any]) -> None:
        self._info = info

    def info(self) -> dict[str, Any]:
        return self._info


def test_the_open_site_s_client_is_the_engine_until_it_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = FakeEngine({})
    remote = FakeEngine({})
    monkeypatch.setattr(engine_session, "_site", [])
    monkeypatch.setattr(engine_session, "local_client", lambda: ours)
    assert engine_session.current() is None
    assert engine_session.docker_client() is ours
    site = Site(BuildPlan(), "/cfg", client=remote)  # type: ignore[arg-type]
    engine_session.set_current(site)
    assert engine_session.current() is site
    assert engine_session.docker_client() is remote
    engine_session.set_current(Site(BuildPlan(), None))  # a local site: no client of its own
    assert engine_session.docker_client() is ours
    engine_session.set_current(None)
    assert engine_session.current() is None


@pytest.mark.parametrize(
    ("info", "platform"),
    [
        ({"OSType": "linux", "Architecture": "x86_64"}, "linux/amd64"),
        ({"OSType": "linux", "Architecture": "aarch64"}, "linux/arm64"),
        ({"OSType": "linux", "Architecture": "armv7l"}, "linux/arm/v7"),
        ({"Architecture": "s390x"}, "linux/s390x"),  # no OSType: linux
    ],
)
def test_the_engine_s_platform_in_docker_s_names(
    monkeypatch: pytest.MonkeyPatch, info: dict[str, Any], platform: str
) -> None:
    monkeypatch.setattr(engine_session, "docker_client", lambda: FakeEngine(info))
    assert engine_session.native_platform() == platform
