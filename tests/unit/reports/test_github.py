"""The GitHub-native reports never fail the job: a refusal (a fork's read-only token, missing
`permissions:`) is a notice naming the permission, any other API failure a warning. A GitHub
Deployment is created in progress and finished with the run's counts."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_flow_deploy.clients.github_api import GitHubEnv, GitHubError, GitHubRefused
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.reports.github import DeploymentRecord, deactivate_previews

GITHUB = GitHubEnv("https://api.github.com", "https://github.com", "acme/flows", "abc", "push", "7")


class Client:
    def __init__(self, fails: Exception | None = None) -> None:
        self.fails = fails
        self.calls: list[tuple[Any, ...]] = []

    def create_deployment(self, *args: Any, transient: bool) -> int:
        self.calls.append(("create", *args, transient))
        if self.fails:
            raise self.fails
        return 42

    def set_deployment_status(self, *args: Any) -> None:
        self.calls.append(("status", *args))

    def deactivate(self, *args: Any) -> int:
        self.calls.append(("deactivate", *args))
        if self.fails:
            raise self.fails
        return 1


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    monkeypatch.setattr(log, "annotate", lambda level, text, **_: found.append((level, text)))
    monkeypatch.setattr(log, "warning", lambda text, **_: found.append(("warning", text)))
    monkeypatch.setattr(log, "info", lambda text, **_: None)
    return found


def test_a_deployment_is_created_in_progress_and_finished_with_the_counts(
    said: list[tuple[str, str]],
) -> None:
    client = Client()
    record = DeploymentRecord(GITHUB, client, "production", "eu")  # type: ignore[arg-type]
    record.start("http://prefect:4200/api")
    record.finish(True, {"built": 2, "changed": 3, "failed": 0}, "http://prefect:4200/api")
    create, started, finished = client.calls
    assert create[:4] == ("create", "acme/flows", "abc", "production")
    assert create[4] == "prefect-flow-deploy (tenant eu)" and create[-1] is False
    assert started[1:4] == ("acme/flows", 42, "in_progress")
    assert finished[3:5] == ("success", "built 2, changed 3, failed 0 (tenant eu)")
    assert finished[-1] == "https://github.com/acme/flows/actions/runs/7"
    assert said == []


def test_a_run_that_stopped_early_finishes_its_deployment_as_failed(
    said: list[tuple[str, str]],
) -> None:
    client = Client()
    record = DeploymentRecord(GITHUB, client, "production", None)  # type: ignore[arg-type]
    record.start(None)
    record.finish(False, None, None)
    assert client.calls[-1][3:5] == ("failure", "the run stopped before deploying: see the log")


def test_a_refusal_is_a_notice_naming_the_permission_and_nothing_else_happens(
    said: list[tuple[str, str]],
) -> None:
    client = Client(GitHubRefused("403 Resource not accessible by integration"))
    record = DeploymentRecord(GITHUB, client, "production", None)  # type: ignore[arg-type]
    record.start(None)
    record.finish(True, {"built": 0, "changed": 0, "failed": 0}, None)
    assert [c[0] for c in client.calls] == ["create"]  # no status for no deployment
    assert said == [
        (
            "notice",
            "403 Resource not accessible by integration; skipped: the job needs "
            "`permissions: deployments: write`.",
        )
    ]


def test_another_failure_is_a_warning_and_each_pull_request_is_tried(
    said: list[tuple[str, str]],
) -> None:
    client = Client(GitHubError("502 Bad Gateway"))
    deactivate_previews([3, 4], GITHUB, client, "eu")  # type: ignore[arg-type]
    assert [c[2] for c in client.calls] == ["preview/pr-3", "preview/pr-4"]
    assert client.calls[0][3] == "previews removed (tenant eu)"
    assert said == [
        ("warning", "502 Bad Gateway; skipped."),
        ("warning", "502 Bad Gateway; skipped."),
    ]
