"""Provenance from the runner's environment, Cloud detection and Retry-After (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from prefect_flow_deploy.prefect_api import RetryAfterTransport, is_cloud, retry_after
from prefect_flow_deploy.provenance import github_version_info

ENV = {
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REPOSITORY": "acme/flows",
    "GITHUB_SERVER_URL": "https://github.example.com/",
}


def test_version_info_is_prefect_s_github_shape_with_the_content_tag(tmp_path: Path) -> None:
    from prefect._internal.versioning import GithubVersionInfo

    event = tmp_path / "event.json"
    event.write_text(json.dumps({"head_commit": {"message": "Fix the report\n\ndetails"}}))
    info = github_version_info({**ENV, "GITHUB_EVENT_PATH": str(event)}, "3f2a9c")
    assert info is not None
    assert GithubVersionInfo.model_validate(info).model_dump() == info  # Prefect's own model
    assert info["version"] == "3f2a9c" and info["message"] == "Fix the report"
    assert info["url"] == f"https://github.example.com/acme/flows/commit/{ENV['GITHUB_SHA']}"


def test_no_version_info_outside_a_github_run_and_no_message_without_an_event() -> None:
    assert github_version_info({}, "t") is None
    info = github_version_info(ENV, "t")
    assert info is not None and info["message"] == ""


def test_cloud_is_told_by_host_or_workspace_url() -> None:
    assert is_cloud("https://api.prefect.cloud/api/accounts/a/workspaces/w")
    assert is_cloud("http://127.0.0.1:9/api/accounts/a/workspaces/w")
    assert not is_cloud("http://127.0.0.1:4200/api")
    assert not is_cloud(None)


def test_retry_after_in_seconds_or_as_a_date_and_bounded() -> None:
    assert retry_after("3", 0) == 3.0
    assert retry_after("100000", 0) == 60.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0) == 0.0  # in the past
    assert retry_after(None, 2) == 4.0


def test_the_transport_waits_as_told_then_returns_the_answer() -> None:
    answers = iter([429, 503, 200])
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), headers={"Retry-After": "2"})

    transport = RetryAfterTransport(httpx.MockTransport(handler), sleep=slept.append)
    with httpx.Client(transport=transport) as client:
        assert client.get("http://x/").status_code == 200
    assert slept == [2.0, 2.0]


def test_a_504_and_a_dropped_connection_are_retried_then_the_error_stands() -> None:
    outcomes: list[object] = [httpx.ReadError("reset"), 504, httpx.RemoteProtocolError("gone"), 200]
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome)  # type: ignore[arg-type]

    transport = RetryAfterTransport(httpx.MockTransport(handler), sleep=slept.append)
    with httpx.Client(transport=transport) as client:
        assert client.post("http://x/", json={"a": 1}).status_code == 200
    assert slept == [1.0, 2.0, 4.0]  # no Retry-After: exponential

    outcomes[:] = [httpx.ReadError("reset")] * 6
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ReadError):
        client.get("http://x/")
    assert not outcomes  # the first try and five retries
