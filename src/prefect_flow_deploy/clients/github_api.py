"""What the action writes to GitHub through its REST API (PyGithub), on github.com and on
GitHub Enterprise Server (`GITHUB_API_URL`, e.g. `https://ghe.example.com/api/v3`):

- the plan as one comment on the pull request, found again by its hidden marker and edited
  in place on every later push;
- a GitHub Deployment per deploy run, with statuses in_progress → success / failure, so the
  repository's Environments page shows what each tenant runs.

- for previews (previews.py): a pull request's state (the sweep), and its environment's
  deployments marked inactive once its previews are removed.

Only these REST calls are made: who the token is (`GET /user`), list, create, edit and
delete issue comments; create and list deployments; create a deployment status; get a pull
request. The plan comment is found by its marker AND its author, the token's own identity: a
person's comment quoting the marker is never edited or deleted. An app installation token
(the workflow's GITHUB_TOKEN) may not read /user (403 "Resource not accessible by
integration"): it acts as the app's bot, `<app-slug>[bot]` (`github-actions[bot]` for the
workflow's token). A refusal (a fork's read-only token, a missing
permission) is a GitHubRefused, which the action reports as a notice: the job never fails
because of GitHub's API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.rules.previews import PullState

STATUS_DESCRIPTION_LIMIT = 140  # characters GitHub keeps of a deployment status description
WORKFLOW_BOT = "github-actions[bot]"  # the login the workflow's GITHUB_TOKEN acts as
PR_EVENTS = ("pull_request", "pull_request_target")


class GitHubError(Exception):
    """GitHub's API failed for another reason (validation, server error, network)."""


class GitHubRefused(GitHubError):
    """403/404: the token may not do this (a fork's pull request, missing `permissions:`)."""


@dataclass(frozen=True)
class GitHubEnv:
    """The run as the runner describes it: its environment and the event payload."""

    api_url: str
    server_url: str
    repository: str
    sha: str
    event_name: str
    run_id: str
    pull_number: int | None = None
    head_sha: str | None = None
    action: str = ""  # the event's activity: opened, synchronize, reopened, closed, …
    # The pull request's head repository (`owner/name`); None when GitHub gives none (a
    # deleted fork). Not the repository: a fork's pull request.
    head_repository: str | None = None
    merged: bool = False

    @property
    def from_fork(self) -> bool:
        return self.pull_number is not None and (
            self.head_repository is None or self.head_repository.lower() != self.repository.lower()
        )

    @property
    def run_url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"


def github_env(env: Mapping[str, str]) -> GitHubEnv | None:
    """None outside GitHub Actions (no repository to talk to)."""
    repository = env.get("GITHUB_REPOSITORY")
    if not repository:
        return None
    event = _event(env.get("GITHUB_EVENT_PATH"))
    pull = _object(event.get("pull_request"))
    number = pull.get("number")
    head = _object(pull.get("head"))
    return GitHubEnv(
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
        repository=repository,
        sha=env.get("GITHUB_SHA", ""),
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        run_id=env.get("GITHUB_RUN_ID", ""),
        pull_number=number if isinstance(number, int) else None,
        # GITHUB_SHA of a pull_request event is the test merge commit; files are linked at
        # the head commit, which is what the author pushed.
        head_sha=head.get("sha") if isinstance(head.get("sha"), str) else None,
        action=str(event.get("action") or ""),
        head_repository=_text(_object(head.get("repo")).get("full_name")),
        merged=pull.get("merged") is True,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def status_description(built: int, changed: int, failed: int, tenant: str | None) -> str:
    text = f"built {built}, changed {changed}, failed {failed}" + (
        f" (tenant {tenant})" if tenant else ""
    )
    return text[:STATUS_DESCRIPTION_LIMIT]


class GitHubClient:
    """The few REST calls the action makes, through PyGithub."""

    def __init__(
        self,
        token: str,
        api_url: str,
        *,
        seconds_between_writes: float = 1.0,  # GitHub asks for a second between writes
        max_rate_limit_wait: float = 120.0,
        bot_login: str = WORKFLOW_BOT,  # whom an app installation token acts as
    ) -> None:
        from github import Auth, Github, GithubRetry

        self._bot_login = bot_login
        self._login: str | None = None
        self._github = Github(
            auth=Auth.Token(token),
            base_url=api_url.rstrip("/"),
            per_page=100,
            timeout=30,
            seconds_between_writes=seconds_between_writes,
            # Secondary rate limits (403/429 with Retry-After) are waited out; never longer.
            retry=GithubRetry(total=5, max_rate_limit_wait=max_rate_limit_wait),
            user_agent="prefect-flow-deploy",
            lazy=True,  # no GET of the repository or the issue before each call
        )

    def login(self) -> str:
        """Whom the token acts as: `GET /user`, or for an app installation token (which may
        not read it) the app's bot login. Asked once."""
        from github import GithubException

        if self._login is None:
            with _translated("who the github-token is"):
                try:
                    self._login = str(self._github.get_user().login)
                except GithubException as exc:
                    if exc.status != 403:
                        raise
                    self._login = self._bot_login
        return self._login

    def upsert_comment(
        self, repository: str, number: int, marker: str, body: str
    ) -> Literal["created", "updated", "unchanged"]:
        """The one comment of the pull request that starts with `marker` and was written by
        this token's identity: edited, else created. Extra copies (two runs that raced to
        create it) are deleted, keeping the oldest; nobody else's comment is ever touched."""
        author = self.login()
        with _translated(f"comment on pull request #{number}"):
            issue = self._github.get_repo(repository).get_issue(number)
            ours = [
                c
                for c in issue.get_comments()
                if (c.body or "").startswith(marker) and c.user is not None
                and c.user.login == author
            ]  # fmt: skip
            if not ours:
                issue.create_comment(body)
                return "created"
            first, *extra = sorted(ours, key=lambda c: c.id)
            for comment in extra:
                comment.delete()
            if first.body == body:
                return "unchanged"
            first.edit(body)
            return "updated"

    def create_deployment(
        self,
        repository: str,
        sha: str,
        environment: str,
        description: str,
        payload: dict[str, Any],
        transient: bool = False,
    ) -> int:
        """`transient`: an environment that goes away (a pull request's previews)."""
        from github.GithubObject import NotSet

        with _translated(f"GitHub deployment to {environment!r}"):
            deployment = self._github.get_repo(repository).create_deployment(
                ref=sha,
                task="deploy",
                # Deploy exactly this commit, whatever other checks are still running.
                auto_merge=False,
                required_contexts=[],
                environment=environment,
                description=description,
                payload=payload,
                transient_environment=True if transient else NotSet,
                production_environment=False if transient else NotSet,
            )
            return int(deployment.id)

    def deactivate(
        self, repository: str, environment: str, description: str, limit: int = 5
    ) -> int:
        """Mark the newest deployments to `environment` inactive (its previews are gone):
        at most `limit` of them, one status each. Returns how many."""
        with _translated(f"GitHub deployments of {environment!r}"):
            repo = self._github.get_repo(repository)
            done = 0
            for deployment in repo.get_deployments(environment=environment):
                if done == limit:
                    break
                deployment.create_status(
                    "inactive", description=description[:STATUS_DESCRIPTION_LIMIT]
                )
                done += 1
            return done

    def pull_states(self, repository: str, numbers: list[int]) -> dict[int, PullState]:
        """open, closed or merged, per pull request; one GET each. One GitHub cannot tell
        (gone, refused) is left out: its previews stay until it can."""
        states: dict[int, PullState] = {}
        repo = self._github.get_repo(repository)
        for number in numbers:
            try:
                with _translated(f"pull request #{number}"):
                    pull = repo.get_pull(number)
                    states[number] = (
                        "merged"
                        if pull.merged
                        else ("closed" if pull.state == "closed" else "open")
                    )
            except GitHubError as exc:
                log.debug(f"{exc}: its previews stay")
        return states

    def set_deployment_status(
        self,
        repository: str,
        deployment_id: int,
        state: Literal["in_progress", "success", "failure", "error", "inactive"],
        description: str,
        environment_url: str | None,
        log_url: str,
    ) -> None:
        from github.GithubObject import NotSet

        with _translated(f"GitHub deployment status {state}"):
            deployment = self._github.get_repo(repository).get_deployment(deployment_id)
            deployment.create_status(
                state,
                target_url=log_url,
                description=description[:STATUS_DESCRIPTION_LIMIT],
                environment_url=environment_url or NotSet,
            )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """PyGithub's exceptions → GitHubRefused / GitHubError, saying what was attempted."""
    from github import GithubException

    try:
        yield
    except GithubException as exc:
        data = exc.data
        message = data.get("message") if isinstance(data, dict) else data
        text = f"{what}: GitHub answered {exc.status}: {message}"
        if exc.status in (401, 403, 404):
            raise GitHubRefused(text) from exc
        raise GitHubError(text) from exc
    except (OSError, ValueError) as exc:
        raise GitHubError(f"{what}: {type(exc).__name__}: {exc}") from exc
