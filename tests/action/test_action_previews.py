"""Previews run as the runner runs the action, with `pull_request` event payloads of GitHub's
shape and the fake GitHub (GitHub's wire format) on 127.0.0.1: opened → the changed folder's
paused previews, a comment listing them with their run commands, a GitHub deployment to
`preview/pr-<n>`; closed → the previews removed, the comment says so, the environment is
marked inactive; production untouched throughout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack
from ..github_fake import FakeGitHub, pull_request_event
from ..helpers import deploy, server_deployment
from .runner import run_action
from .test_action import action_image, assert_no_secret, inputs, workspace_for
from .test_github_native import commit

__all__ = ["action_image"]
pytestmark = [pytest.mark.stack, pytest.mark.action]

REPO = "acme/flows"
PR = 77


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(prefix="/api/v3") as fake:
        yield fake


def context(github: FakeGitHub) -> dict[str, str]:
    return {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_API_URL": github.api_url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": f"refs/pull/{PR}/merge",
        "GITHUB_RUN_ID": "5151",
    }


def test_a_pull_request_s_previews_through_the_action_then_its_close(
    action_image: str, stack: Stack, scenario: Scenario, tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = workspace_for(
        scenario, tmp_path, [("sales", "daily_orders"), ("sales", "two_flows")]
    )
    given = inputs(scenario, stack, preview="true")
    # Production, as the tenant's deploy left it (same registry, repository and tenant).
    prod = deploy(
        scenario, stack, projects_root=workspace / "projects", repository=REPO,
        registry=given["registry"], registry_username=given["registry-username"],
        registry_password=given["registry-password"],
    )  # fmt: skip
    assert not prod.failed, prod.results
    project = scenario.project("sales")
    production = {
        n: (d["id"], d["updated"])
        for n in (f"daily-orders/{project}", f"refresh-prices/{project}")
        if (d := server_deployment(n))
    }

    flows = workspace / "projects" / project / "two_flows" / "flows.py"
    flows.write_text(flows.read_text() + "\n\nREVIEWED = True\n")
    sha = commit(workspace, "change two flows")
    opened = run_action(
        action_image, workspace, tmp_path / "run1", given, context=context(github),
        event=pull_request_event(REPO, PR, sha, "b" * 40, action="opened"),
    )  # fmt: skip
    assert opened.exit_code == 0, opened.log
    assert (opened.outputs["built"], opened.outputs["changed"]) == ("1", "2"), opened.outputs
    names = [f"refresh-prices/{project}-pr-{PR}", f"archive-invoices/{project}-pr-{PR}"]
    for name in names:
        data = server_deployment(name)
        assert data["paused"] is True and f"preview:pr-{PR}" in data["tags"]
    [comment] = github.comments_on(REPO, PR)
    body = comment["body"]
    assert f"### Prefect previews of #{PR} · tenant `{scenario.tenant}`" in body
    preview_id = server_deployment(names[0])["id"]
    assert f"http://127.0.0.1:4200/deployments/deployment/{preview_id}" in body
    assert f"`prefect deployment run refresh-prices/{project}-pr-{PR}`" in body
    [(deployment_id, deployment)] = github.deployments.items()
    assert deployment["environment"] == f"preview/pr-{PR}"
    assert deployment["request"]["ref"] == "f" * 40
    assert deployment["request"]["transient_environment"] is True
    assert [s["state"] for s in github.statuses[deployment_id]] == ["in_progress", "success"]
    assert_no_secret(stack, body, opened.stdout, opened.stderr)

    closed = run_action(
        action_image, workspace, tmp_path / "run2", given, context=context(github),
        event=pull_request_event(REPO, PR, sha, "b" * 40, action="closed"),
    )  # fmt: skip
    assert closed.exit_code == 0, closed.log
    assert (closed.outputs["built"], closed.outputs["changed"]) == ("0", "2"), closed.outputs
    for name in names:
        with pytest.raises(Exception, match="404"):
            server_deployment(name)
    [comment] = github.comments_on(REPO, PR)  # the same comment, edited
    assert "The pull request is closed: its 2 preview deployments were removed" in comment["body"]
    assert [s["state"] for s in github.statuses[deployment_id]] == [
        "in_progress", "success", "inactive"
    ]  # fmt: skip
    assert len(github.deployments) == 1  # the close records no new deployment
    after = {n: (d["id"], d["updated"]) for n in production if (d := server_deployment(n))}
    assert after == production
