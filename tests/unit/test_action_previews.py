"""The action's previews, without Docker: the pull request and its closing come from the
event; a fork's pull request and pull_request_target (unless the workflow opts in by name)
get a notice and nothing runs; the config file's keys; GitHub's calls for the sweep and the
environment against the fake GitHub (GitHub's wire format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy import action
from prefect_flow_deploy.action import options_from_inputs, preview_refused
from prefect_flow_deploy.clients.github_api import GitHubClient, github_env
from prefect_flow_deploy.core.errors import ConfigurationError
from tests.unit.test_action import set_inputs, workspace

from ..github_fake import FakeGitHub, pull_request_event

__all__ = ["workspace"]
REPO = "acme/flows"


def event(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, payload: dict[str, Any]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    monkeypatch.setenv("GITHUB_EVENT_NAME", name)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)


def preview_options(workspace: Path, monkeypatch: pytest.MonkeyPatch, **inputs: str) -> Any:
    set_inputs(
        monkeypatch,
        registry="localhost:5000/flows",
        **{"prefect-api-url": "http://p/api", "preview": "true", **inputs},
    )
    found = github_env(dict(__import__("os").environ))
    return options_from_inputs(workspace, found)[0], found


def test_a_pull_request_event_gives_the_pull_request_and_its_closing(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event(monkeypatch, workspace, "pull_request", pull_request_event(REPO, 12, "c" * 40, "b" * 40))
    options, found = preview_options(workspace, monkeypatch)
    assert (options.preview, options.preview_closed) == (12, False)
    assert options.source("pull_request") == "event pull_request (synchronize)"
    assert preview_refused(options, found) is None
    closed = pull_request_event(REPO, 12, "c" * 40, "b" * 40, action="closed", merged=True)
    event(monkeypatch, workspace, "pull_request", closed)
    options, found = preview_options(workspace, monkeypatch)
    assert (options.preview, options.preview_closed) == (12, True) and found.merged
    # Without `preview`, a pull request's run is the plan or deploy it always was.
    set_inputs(monkeypatch, registry="r.example/f", **{"prefect-api-url": "http://p/api"})
    plain, _ = options_from_inputs(workspace, found)
    assert plain.preview is None and not plain.preview_closed


def test_a_forks_pull_request_gets_no_previews_and_a_notice(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forked = pull_request_event(REPO, 12, "c" * 40, "b" * 40, head_repository="evil/flows")
    event(monkeypatch, workspace, "pull_request", forked)
    options, found = preview_options(workspace, monkeypatch)
    why = preview_refused(options, found)
    assert why is not None and "comes from a fork (evil/flows)" in why
    monkeypatch.setattr(action, "deploy", None)  # nothing may run: neither command
    monkeypatch.setattr(action, "make_plan", None)
    summary = workspace / "summary.md"
    summary.write_text("")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    assert action.run() == 0
    out = "".join(capsys.readouterr())
    assert "notice: no previews for pull request #12: it comes from a fork" in out
    assert "comes from a fork" in summary.read_text()


def test_pull_request_target_needs_the_opt_in_by_name(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = pull_request_event(REPO, 12, "c" * 40, "b" * 40)
    event(monkeypatch, workspace, "pull_request_target", payload)
    options, found = preview_options(workspace, monkeypatch)
    why = preview_refused(options, found)
    assert why is not None and "`preview-pull-request-target: true`" in why
    options, found = preview_options(
        workspace, monkeypatch, **{"preview-pull-request-target": "true"}
    )
    assert preview_refused(options, found) is None and options.preview == 12


def test_the_tenant_file_turns_previews_on_with_its_pool_and_limit(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "prefect-flow-deploy.yaml").write_text(
        "tenants:\n  dev:\n    preview: true\n    preview-work-pool: previews\n"
        "    max-previews: 3\n"
    )
    event(monkeypatch, workspace, "pull_request", pull_request_event(REPO, 5, "c" * 40, "b" * 40))
    options, _ = preview_options(workspace, monkeypatch, preview="", tenant="dev")
    assert (options.preview, options.preview_work_pool, options.max_previews) == (5, "previews", 3)
    assert options.source("previews") == "prefect-flow-deploy.yaml:3 (tenant dev)"
    (workspace / "prefect-flow-deploy.yaml").write_text("tenants:\n  dev:\n    max-previews: 0\n")
    with pytest.raises(ConfigurationError, match="max-previews must be at least 1"):
        preview_options(workspace, monkeypatch, tenant="dev")
    (workspace / "prefect-flow-deploy.yaml").write_text(
        "tenants:\n  dev:\n    preview: yes please\n"
    )
    with pytest.raises(ConfigurationError, match=r"prefect-flow-deploy.yaml:3: `preview` must be"):
        preview_options(workspace, monkeypatch, tenant="dev")


def test_the_sweep_asks_github_each_pull_requests_state() -> None:
    with FakeGitHub(prefix="/api/v3") as fake:
        fake.pulls.update({(REPO, 3): "open", (REPO, 4): "closed", (REPO, 5): "merged"})
        client = GitHubClient(fake.token, fake.api_url, seconds_between_writes=0)
        states = client.pull_states(REPO, [3, 4, 5, 6])  # 6: GitHub answers 404
        assert states == {3: "open", 4: "closed", 5: "merged"}
        asked = [r.path for r in fake.requests]
        assert asked == [f"/repos/{REPO}/pulls/{n}" for n in (3, 4, 5, 6)]


def test_the_preview_environment_is_transient_and_marked_inactive_when_removed() -> None:
    with FakeGitHub() as fake:
        client = GitHubClient(fake.token, fake.api_url, seconds_between_writes=0)
        first = client.create_deployment(REPO, "a" * 40, "preview/pr-12", "d", {}, transient=True)
        client.create_deployment(REPO, "b" * 40, "dev", "d", {})
        second = client.create_deployment(REPO, "c" * 40, "preview/pr-12", "d", {}, transient=True)
        request = fake.deployments[first]["request"]
        assert request["transient_environment"] is True
        assert request["production_environment"] is False
        assert client.deactivate(REPO, "preview/pr-12", "previews removed") == 2
        assert [s["state"] for s in fake.statuses[second]] == ["inactive"]
        assert [s["state"] for s in fake.statuses[first]] == ["inactive"]
        listed = [r for r in fake.requests if r.method == "GET"]
        assert listed[0].query["environment"] == ["preview/pr-12"]
