"""Provenance from the runner's environment and Cloud detection (pure)."""

from __future__ import annotations

import json
from pathlib import Path

from prefect_flow_deploy.clients.prefect_api import is_cloud
from prefect_flow_deploy.run.provenance import github_version_info

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


def test_image_labels_name_the_repository_commit_and_time() -> None:
    from datetime import datetime, timedelta, timezone

    from prefect_flow_deploy.run.provenance import image_labels

    created = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    labels = image_labels(ENV, "acme/flows", "f" * 40, created)
    assert labels == {
        "org.opencontainers.image.source": "https://github.example.com/acme/flows",
        "org.opencontainers.image.revision": ENV["GITHUB_SHA"],  # the runner's, first
        "org.opencontainers.image.created": "2026-03-01T10:30:00Z",
    }
    local = image_labels({}, "acme/flows", "f" * 40, created)
    assert local["org.opencontainers.image.source"] == "https://github.com/acme/flows"
    assert local["org.opencontainers.image.revision"] == "f" * 40  # the checkout's HEAD
    assert set(image_labels({}, None, None, created)) == {"org.opencontainers.image.created"}
