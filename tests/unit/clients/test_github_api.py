"""The GitHub REST calls (PyGithub over HTTP) against the local fake of GitHub's API
(tests/github_fake.py: GitHub's OpenAPI shapes; pagination, 403, 404, 422, secondary rate
limits, Enterprise Server's /api/v3 prefix)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.github_api import (
    GitHubClient,
    GitHubEnv,
    GitHubError,
    GitHubRefused,
    github_env,
    status_description,
)
from prefect_flow_deploy.core.model import Plan, Problem
from prefect_flow_deploy.reports.github import DeploymentRecord, post_plan
from tests.unit.reports.test_pr_comment import folder, image

from ...github_fake import FakeGitHub

REPO = "acme/flows"
MARKER = "<!-- prefect-flow-deploy:plan tenant=prod -->"


@pytest.fixture(params=["", "/api/v3"], ids=["github.com", "enterprise-server"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeGitHub]:
    with FakeGitHub(prefix=request.param) as github:
        yield github


def client(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(fake.token, fake.api_url, seconds_between_writes=0)


def test_one_comment_found_across_pages_and_edited_in_place(fake: FakeGitHub) -> None:
    for n in range(250):  # a busy pull request: our comment is on page 3 of 100
        fake.add_comment(REPO, 7, f"review remark {n}")
    github = client(fake)
    assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 1") == "created"
    ours = [c for c in fake.comments_on(REPO, 7) if MARKER in c["body"]]
    assert len(ours) == 1 and ours[0]["user"]["login"] == "github-actions[bot]"

    fake.requests.clear()
    assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 2") == "updated"
    pages = [r.query.get("page", ["1"])[0] for r in fake.requests if r.method == "GET"]
    assert pages == ["1", "2", "3"]  # followed the Link header to the last page
    assert [r.method for r in fake.requests if r.method != "GET"] == ["PATCH"]
    assert fake.requests[-1].path == f"/repos/{REPO}/issues/comments/{ours[0]['id']}"
    mine = [c for c in fake.comments_on(REPO, 7) if MARKER in c["body"]]
    assert [c["body"] for c in mine] == [f"{MARKER}\nplan 2"] and len(
        fake.comments_on(REPO, 7)
    ) == 251

    fake.requests.clear()
    assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 2") == "unchanged"
    assert all(r.method == "GET" for r in fake.requests)


def test_each_tenant_has_its_own_comment(fake: FakeGitHub) -> None:
    github = client(fake)
    github.upsert_comment(REPO, 3, MARKER, f"{MARKER}\nprod")
    other = MARKER.replace("prod", "dev")
    github.upsert_comment(REPO, 3, other, f"{other}\ndev")
    github.upsert_comment(REPO, 3, MARKER, f"{MARKER}\nprod again")
    assert sorted(c["body"] for c in fake.comments_on(REPO, 3)) == sorted(
        [f"{MARKER}\nprod again", f"{other}\ndev"]
    )


def test_copies_left_by_two_racing_runs_are_merged_into_the_oldest(fake: FakeGitHub) -> None:
    first = fake.add_comment(REPO, 4, f"{MARKER}\nold", "github-actions[bot]")
    fake.add_comment(REPO, 4, f"{MARKER}\nraced", "github-actions[bot]")
    client(fake).upsert_comment(REPO, 4, MARKER, f"{MARKER}\nnew")
    assert [(c["id"], c["body"]) for c in fake.comments_on(REPO, 4)] == [(first, f"{MARKER}\nnew")]


def test_read_only_token_and_missing_pull_request_are_refusals(fake: FakeGitHub) -> None:
    fake.read_only = True  # a fork's pull request
    with pytest.raises(GitHubRefused, match="403: Resource not accessible by integration"):
        client(fake).upsert_comment(REPO, 5, MARKER, "x")
    fake.read_only = False
    fake.fail("GET", "/issues/6/comments$", 404, {"message": "Not Found", "documentation_url": "x"})
    with pytest.raises(GitHubRefused, match="404: Not Found"):
        client(fake).upsert_comment(REPO, 6, MARKER, "x")
    wrong = GitHubClient("ghs_wrong", fake.api_url, seconds_between_writes=0)
    with pytest.raises(GitHubRefused, match="401: Bad credentials"):
        wrong.upsert_comment(REPO, 6, MARKER, "x")


def test_a_body_over_githubs_limit_is_a_validation_error(fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="422: Validation Failed") as caught:
        client(fake).upsert_comment(REPO, 8, MARKER, MARKER + "x" * 70_000)
    assert not isinstance(caught.value, GitHubRefused)
    assert fake.comments_on(REPO, 8) == []


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_is_waited_out(fake: FakeGitHub, status: int) -> None:
    fake.secondary_rate_limit("POST", "/issues/9/comments$", status, retry_after=1)
    started = time.monotonic()
    assert client(fake).upsert_comment(REPO, 9, MARKER, f"{MARKER}\nplan") == "created"
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    posts = [r for r in fake.requests if r.method == "POST"]
    assert len(posts) == 2 and len(fake.comments_on(REPO, 9)) == 1


def test_deployment_with_statuses(fake: FakeGitHub) -> None:
    github = client(fake)
    sha = "a" * 40
    deployment_id = github.create_deployment(
        REPO, sha, "prod", "prefect-flow-deploy", {"tenant": "prod"}
    )
    github.set_deployment_status(REPO, deployment_id, "in_progress", "deploying", "http://127.0.0.1:4200/deployments", "https://github.com/acme/flows/actions/runs/1")  # fmt: skip
    github.set_deployment_status(REPO, deployment_id, "success", status_description(2, 3, 0, "prod"), "http://127.0.0.1:4200/deployments", "https://github.com/acme/flows/actions/runs/1")  # fmt: skip
    request = fake.deployments[deployment_id]["request"]
    assert request == {
        "ref": sha,
        "task": "deploy",
        "auto_merge": False,
        "required_contexts": [],
        "environment": "prod",
        "description": "prefect-flow-deploy",
        "payload": {"tenant": "prod"},
    }
    states = [
        (s["state"], s["description"], s["environment_url"]) for s in fake.statuses[deployment_id]
    ]
    assert states == [
        ("in_progress", "deploying", "http://127.0.0.1:4200/deployments"),
        (
            "success",
            "built 2, changed 3, failed 0 (tenant prod)",
            "http://127.0.0.1:4200/deployments",
        ),
    ]


def test_status_description_fits_githubs_140_characters(fake: FakeGitHub) -> None:
    text = status_description(10**6, 10**6, 10**6, "t" * 200)
    assert len(text) == 140
    github = client(fake)
    deployment_id = github.create_deployment(REPO, "b" * 40, "prod", "d", {})
    github.set_deployment_status(REPO, deployment_id, "failure", "x" * 500, None, "https://x/1")
    assert len(fake.statuses[deployment_id][0]["description"]) == 140


def github_for(fake: FakeGitHub, tmp_path: Path, event: str = "pull_request") -> GitHubEnv:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"pull_request": {"number": 12, "head": {"sha": "c" * 40}}}))
    found = github_env(
        {
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": fake.api_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": "d" * 40,
            "GITHUB_EVENT_NAME": event,
            "GITHUB_RUN_ID": "77",
            "GITHUB_EVENT_PATH": str(payload),
        }
    )
    assert found is not None
    return found


def test_plan_comment_links_at_the_head_commit(fake: FakeGitHub, tmp_path: Path) -> None:
    github = github_for(fake, tmp_path)
    assert (github.pull_number, github.head_sha) == (12, "c" * 40)
    broken = folder("sales", "broken", [Problem("error", "bad", Path("/github/workspace/projects/sales/broken/flow.py"), 4)])  # fmt: skip
    plan = Plan([broken], [image(broken, "failed")], [])
    post_plan(plan, github, client(fake), "prod", Path("/github/workspace"))
    [comment] = fake.comments_on(REPO, 12)
    assert comment["body"].startswith(MARKER)
    assert (
        f"https://github.com/{REPO}/blob/{'c' * 40}/projects/sales/broken/flow.py#L4"
        in comment["body"]
    )


def test_no_permission_is_a_notice_not_a_failure(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.read_only = True
    plan = Plan([], [], [])
    post_plan(plan, github_for(fake, tmp_path), client(fake), "prod", tmp_path)
    record = DeploymentRecord(github_for(fake, tmp_path, "push"), client(fake), "prod", "prod")
    record.start("http://127.0.0.1:4200/api")
    record.finish(True, {"built": 0, "changed": 0, "failed": 0}, None)
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "notice" in text and "pull-requests: write" in text and "deployments: write" in text
    assert fake.comments_on(REPO, 12) == [] and fake.deployments == {}


def test_other_events_post_no_comment(fake: FakeGitHub, tmp_path: Path) -> None:
    post_plan(Plan([], [], []), github_for(fake, tmp_path, "push"), client(fake), "prod", tmp_path)  # fmt: skip
    assert fake.requests == []


def test_a_failed_deploy_ends_its_github_deployment_in_failure(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    github = github_for(fake, tmp_path, "push")
    record = DeploymentRecord(github, client(fake), "staging", "dev")
    record.start("https://api.prefect.cloud/api/accounts/A/workspaces/W")
    record.finish(False, {"built": 1, "changed": 0, "failed": 2}, "https://api.prefect.cloud/api/accounts/A/workspaces/W")  # fmt: skip
    [(deployment_id, deployment)] = fake.deployments.items()
    assert deployment["environment"] == "staging" and deployment["sha"] == "d" * 40
    assert [(s["state"], s["description"]) for s in fake.statuses[deployment_id]] == [
        ("in_progress", "deploying"),
        ("failure", "built 1, changed 0, failed 2 (tenant dev)"),
    ]
    ui = "https://app.prefect.cloud/account/A/workspace/W/deployments"
    assert {s["environment_url"] for s in fake.statuses[deployment_id]} == {ui}
    assert {s["log_url"] for s in fake.statuses[deployment_id]} == {
        "https://github.com/acme/flows/actions/runs/77"
    }
    # A run stopped by a fatal error (no counts) says so.
    stopped = DeploymentRecord(github, client(fake), "staging", "dev")
    stopped.start(None)
    stopped.finish(False, None, None)
    last = fake.statuses[max(fake.statuses)][-1]
    assert (last["state"], last["environment_url"]) == ("failure", "")
    assert "stopped before deploying" in last["description"]


def test_the_prefect_ui_deployments_page_from_the_api_url() -> None:
    from prefect_flow_deploy.reports.action import deployments_page

    assert (
        deployments_page("https://api.prefect.cloud/api/accounts/A/workspaces/W")
        == "https://app.prefect.cloud/account/A/workspace/W/deployments"
    )
    assert (
        deployments_page("http://prefect.internal:4200/api/")
        == "http://prefect.internal:4200/deployments"
    )
    assert deployments_page("https://example.com/prefect") is None
    assert deployments_page(None) is None


def test_a_persons_comment_quoting_the_marker_is_never_edited_nor_deleted(
    fake: FakeGitHub,
) -> None:
    """Found by marker AND author: the token's own identity (an installation token, which
    may not read /user, acts as github-actions[bot])."""
    quoted = f"{MARKER}\nWhy does the plan say this? (quoting the bot)"
    person = fake.add_comment(REPO, 7, quoted, login="octocat")
    github = client(fake)
    assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 1") == "created"
    assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 2") == "updated"
    assert fake.comments[person]["body"] == quoted  # untouched, and still there
    ours = [c for c in fake.comments_on(REPO, 7) if c["user"]["login"] == "github-actions[bot]"]
    assert [c["body"] for c in ours] == [f"{MARKER}\nplan 2"]
    assert [r.path for r in fake.requests if r.method == "DELETE"] == []


def test_with_a_users_token_the_comment_is_that_users() -> None:
    with FakeGitHub(token_login="deployer") as fake:
        theirs = fake.add_comment(REPO, 7, f"{MARKER}\nan old copy by someone", login="octocat")
        github = client(fake)
        assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan") == "created"
        assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan") == "unchanged"
        assert theirs in fake.comments
        assert sum(r.path == "/user" for r in fake.requests) == 1  # asked once


def test_another_apps_installation_token_writes_as_its_own_bot() -> None:
    from ...github_fake import user

    with FakeGitHub() as fake:
        fake.actor = user("flows-app[bot]", 77, fake.api_url)  # the app the token is of
        other = fake.add_comment(
            REPO, 7, f"{MARKER}\nby the workflow's token", "github-actions[bot]"
        )
        github = GitHubClient(
            fake.token, fake.api_url, seconds_between_writes=0, bot_login="flows-app[bot]"
        )
        assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan") == "created"
        assert github.upsert_comment(REPO, 7, MARKER, f"{MARKER}\nplan 2") == "updated"
        assert fake.comments[other]["body"] == f"{MARKER}\nby the workflow's token"
