"""Which Prefect servers the engine refuses, before planning anything else."""

from __future__ import annotations

import httpx
import pytest

from prefect_flow_deploy.clients.prefect_api import ApiSettings, is_cloud, read_server_version
from prefect_flow_deploy.rules.server_version import (
    OLDEST_SUPPORTED,
    TRIGGERS_SINCE,
    triggers_unsupported,
    unsupported_server,
)

URL = "http://prefect.internal:4200/api"


@pytest.mark.parametrize("found", ["3.1.15", "3.0.0", "3.2.0rc1", "3.2.0.dev3", "2.20.3"])
def test_older_than_the_oldest_supported_is_refused_with_what_to_do(found: str) -> None:
    message = unsupported_server(found, URL)
    assert message is not None
    assert f"runs Prefect {found};" in message and URL in message
    assert f"{OLDEST_SUPPORTED} and newer" in message
    assert "Upgrade the server" in message and "pin a release of this action" in message


@pytest.mark.parametrize("found", [OLDEST_SUPPORTED, "3.2.15", "3.9.1", "3.10.0", "4.0.0"])
def test_the_oldest_supported_and_newer_pass(found: str) -> None:
    assert unsupported_server(found, URL) is None


def test_a_version_that_does_not_parse_is_not_refused() -> None:
    assert unsupported_server("custom-build", URL) is None


def test_prefect_cloud_is_never_asked_for_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's client skips its own version check for Cloud ("Cloud is always compatible as
    a server": PrefectClient.raise_for_api_version_mismatch), and so do we."""
    cloud = ApiSettings("https://api.prefect.cloud/api/accounts/a1/workspaces/w1", key="k")

    def no_request(self: ApiSettings) -> httpx.Client:
        raise AssertionError("Prefect Cloud was asked for its version")

    monkeypatch.setattr(ApiSettings, "http_client", no_request)
    assert is_cloud(cloud.url) and not is_cloud(URL)
    assert read_server_version(cloud) is None


def test_a_server_whose_automations_have_no_tags_holds_no_tagged_automation() -> None:
    """Prefect 3.2.0's answer to `POST /automations/filter` with a tags filter, verbatim."""
    from prefect_flow_deploy.clients.prefect_api import no_automation_tags

    detail = {"type": "extra_forbidden", "loc": ["body", "automations", "tags"],
              "msg": "Extra inputs are not permitted", "input": {"all_": ["x"]}}  # fmt: skip
    old = httpx.Response(422, json={"exception_message": "Invalid request received.",
                                    "exception_detail": [detail]})  # fmt: skip
    assert no_automation_tags(old)
    other = {**detail, "loc": ["body", "limit"]}
    assert not no_automation_tags(httpx.Response(422, json={"exception_detail": [other]}))
    assert not no_automation_tags(httpx.Response(200, json=[]))


@pytest.mark.parametrize("found", [OLDEST_SUPPORTED, "3.4.6"])
def test_triggers_need_a_server_whose_automations_have_tags(found: str) -> None:
    message = triggers_unsupported(found, URL)
    assert message is not None and f"runs Prefect {found}" in message
    assert f"{TRIGGERS_SINCE} or later" in message and "remove `triggers:`" in message


@pytest.mark.parametrize("found", [TRIGGERS_SINCE, "3.9.1", None, "custom-build"])
def test_triggers_pass_on_newer_cloud_or_unknown_servers(found: str | None) -> None:
    assert triggers_unsupported(found, URL) is None
