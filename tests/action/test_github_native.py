"""The action's GitHub-native reports, run as the runner runs the action, against the local
fake of GitHub's REST API (tests/github_fake.py) reached on 127.0.0.1 through the harness's
host network, as GitHub Enterprise Server (`GITHUB_API_URL` ending in /api/v3):

- a `pull_request` event with dry-run posts the plan as one comment, and a later push edits
  that same comment;
- a deploy records a GitHub deployment with in_progress → success statuses;
- a fork's read-only token is a notice, never a failed step.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import Scenario, Stack
from ..github_fake import FakeGitHub, pull_request_event
from .runner import run_action
from .test_action import action_image, annotations, assert_no_secret, inputs, workspace_for

__all__ = ["action_image"]  # the module-scoped fixture, shared with test_action.py
pytestmark = [pytest.mark.stack, pytest.mark.action]

REPO = "acme/flows"
PR = 42


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(prefix="/api/v3") as fake:
        yield fake


def head(workspace: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(workspace), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def commit(workspace: Path, message: str) -> str:
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(workspace)]
    subprocess.run([*git, "commit", "-qam", message], check=True)
    return head(workspace)


def pr_env(github: FakeGitHub, sha: str) -> dict[str, str]:
    return {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_API_URL": github.api_url,
        "GITHUB_SERVER_URL": "https://ghe.example.com",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SHA": "f" * 40,  # the test merge commit; links use the head commit
        "GITHUB_REF": f"refs/pull/{PR}/merge",
    }


def test_plan_comment_on_a_pull_request_is_edited_on_the_next_push(
    action_image: str, stack: Stack, scenario: Scenario, tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = workspace_for(
        scenario, tmp_path, [("sales", "daily_orders"), ("sales", "two_flows")]
    )
    github.add_comment(REPO, PR, "Looks good to me")  # a reviewer's comment stays untouched
    quoted = f"<!-- prefect-flow-deploy:plan tenant={scenario.tenant} -->\nWhy this plan?"
    github.add_comment(REPO, PR, quoted)  # a person quoting the marker: not ours either
    project = scenario.project("sales")
    given = inputs(scenario, stack, **{"dry-run": "true"})

    sha = head(workspace)
    first = run_action(
        action_image, workspace, tmp_path / "run1", given, context=pr_env(github, sha),
        event=pull_request_event(REPO, PR, sha, "b" * 40),
    )  # fmt: skip
    assert first.exit_code == 0, first.log
    [comment] = [
        c for c in github.comments_on(REPO, PR) if c["user"]["login"] == "github-actions[bot]"
    ]
    body = comment["body"]
    assert re.search(r"Plan `sha256:[0-9a-f]{64}`", body), body  # what the reviewer approves
    assert body.startswith(f"<!-- prefect-flow-deploy:plan tenant={scenario.tenant} -->\n")
    assert f"### Prefect plan · tenant `{scenario.tenant}`" in body
    assert f"At `{sha[:7]}`: 🏗️ **2** images to build · 🆕 **3** deployments to create" in body
    assert f"#### {project}" in body
    assert "| `daily_orders` | 🏗️ build | new: no deployed image for this folder yet |" in body
    assert (
        f"| `daily-orders/{project}` | 🆕 create | new, on work pool `{scenario.work_pool}`" in body
    )
    assert_no_secret(stack, body, first.stdout, first.stderr)

    # The next push breaks a flow: the same comment now shows the problem, linked at the
    # pull request's new head commit.
    flow = workspace / "projects" / project / "two_flows" / "flows.py"
    assert flow.exists()
    flow.write_text(flow.read_text() + "\n\ndef broken(:\n    pass\n")
    sha2 = commit(workspace, "break a flow")
    second = run_action(
        action_image, workspace, tmp_path / "run2", given, context=pr_env(github, sha2),
        event=pull_request_event(REPO, PR, sha2, "b" * 40),
    )  # fmt: skip
    assert second.exit_code != 0  # the plan has a failing folder: the check fails as before
    comments = github.comments_on(REPO, PR)
    assert len(comments) == 3  # the reviewer's, the quoting one and ours: no second plan
    assert quoted in [c["body"] for c in comments]
    ours = [c for c in comments if c["user"]["login"] == "github-actions[bot]"]
    assert [c["id"] for c in ours] == [comment["id"]]
    edited = ours[0]["body"]
    assert edited != body and f"At `{sha2[:7]}`" in edited
    link = re.search(
        rf"\[`projects/{project}/two_flows/flows.py:(\d+)`\]\(https://ghe\.example\.com/{REPO}/blob/{sha2}/projects/{project}/two_flows/flows\.py#L(\d+)\)",
        edited,
    )
    assert link and link.group(1) == link.group(2), edited
    assert [r.method for r in github.requests if r.method != "GET"] == ["POST", "PATCH"]

    # `comment: false`: the plan stays in the job summary; GitHub's API is not called.
    github.requests.clear()
    quiet = run_action(
        action_image, workspace, tmp_path / "run3", {**given, "comment": "false"},
        context=pr_env(github, sha2), event=pull_request_event(REPO, PR, sha2, "b" * 40),
    )  # fmt: skip
    assert "two_flows" in quiet.summary and github.requests == []


def test_a_forks_read_only_token_is_a_notice(
    action_image: str, stack: Stack, scenario: Scenario, tmp_path: Path, github: FakeGitHub
) -> None:
    github.read_only = True
    workspace = workspace_for(scenario, tmp_path, [("sales", "daily_orders")])
    sha = head(workspace)
    step = run_action(
        action_image, workspace, tmp_path / "run", inputs(scenario, stack, **{"dry-run": "true"}),
        context=pr_env(github, sha), event=pull_request_event(REPO, PR, sha, "b" * 40),
    )  # fmt: skip
    assert step.exit_code == 0, step.log
    notices = annotations(step.stdout, "notice")
    assert any("403: Resource not accessible by integration" in n["message"] for n in notices)
    assert any("pull-requests: write" in n["message"] for n in notices)
    assert github.comments_on(REPO, PR) == []


def test_a_deploy_records_a_github_deployment(
    action_image: str, stack: Stack, scenario: Scenario, tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = workspace_for(scenario, tmp_path, [("sales", "daily_orders")])
    sha = head(workspace)
    env = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_API_URL": github.api_url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SHA": sha,
        "GITHUB_RUN_ID": "4242",
    }
    step = run_action(
        action_image, workspace, tmp_path / "run", inputs(scenario, stack), context=env
    )
    assert step.exit_code == 0, step.log
    [(deployment_id, deployment)] = github.deployments.items()
    assert deployment["request"]["ref"] == sha
    assert deployment["environment"] == scenario.tenant  # the default: the tenant
    states = [
        (s["state"], s["description"], s["environment_url"], s["log_url"])
        for s in github.statuses[deployment_id]
    ]
    run_url = f"https://github.com/{REPO}/actions/runs/4242"
    ui = "http://127.0.0.1:4200/deployments"
    assert states == [
        ("in_progress", "deploying", ui, run_url),
        ("success", f"built 1, changed 1, failed 0 (tenant {scenario.tenant})", ui, run_url),
    ]
    assert (step.outputs["built"], step.outputs["changed"]) == ("1", "1")
