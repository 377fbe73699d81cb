"""The action's two GitHub-native reports, glued to a run: the plan comment on a pull request
(dry run) and a GitHub Deployment per deploy. Neither ever fails the job: without the
permission (a fork's read-only token) it is a notice, any other API failure a warning."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from prefect_flow_deploy.clients.github_api import (
    PR_EVENTS,
    GitHubClient,
    GitHubEnv,
    GitHubError,
    GitHubRefused,
    status_description,
)
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import Plan
from prefect_flow_deploy.core.results import FlowResult
from prefect_flow_deploy.reports import pr_comment, preview_comment
from prefect_flow_deploy.reports.action import deployments_page
from prefect_flow_deploy.rules import previews

PERMISSION_HINT = {
    "comment": "the job needs `permissions: pull-requests: write` (a pull request from a fork "
    "gets a read-only token: the plan is in the job summary instead)",
    "deployment": "the job needs `permissions: deployments: write`",
}


def post_plan(
    plan: Plan,
    github: GitHubEnv,
    client: GitHubClient,
    tenant: str | None,
    workspace: Path,
    plan_hash: str = "",
) -> None:
    """The plan as this tenant's comment on the pull request, created or edited in place,
    with the plan's hash (what the reviewer approves)."""
    if github.event_name not in PR_EVENTS or github.pull_number is None:
        log.debug(f"no pull request in a {github.event_name!r} event: no plan comment")
        return
    links = pr_comment.Links(
        github.server_url, github.repository, github.head_sha or github.sha, workspace
    )
    body = log.redact(pr_comment.render(plan, tenant, links, plan_hash))
    with _reported("comment"):
        outcome = client.upsert_comment(
            github.repository, github.pull_number, pr_comment.marker(tenant), body
        )
        log.info(f"plan comment on pull request #{github.pull_number}: {outcome}")


@dataclass
class DeploymentRecord:
    """One GitHub Deployment for this run: created in_progress, finished with its counts."""

    github: GitHubEnv
    client: GitHubClient
    environment: str
    tenant: str | None
    deployment_id: int | None = None
    transient: bool = False  # a pull request's previews: GitHub shows it on the pull request

    def start(self, api_url: str | None) -> None:
        with _reported("deployment"):
            self.deployment_id = self.client.create_deployment(
                self.github.repository,
                self.github.sha,
                self.environment,
                f"prefect-flow-deploy{f' (tenant {self.tenant})' if self.tenant else ''}",
                {"tool": "prefect-flow-deploy", "tenant": self.tenant},
                transient=self.transient,
            )
            self._status("in_progress", "deploying", api_url)

    def finish(self, ok: bool, counts: dict[str, int] | None, api_url: str | None) -> None:
        if self.deployment_id is None:
            return
        description = (
            status_description(counts["built"], counts["changed"], counts["failed"], self.tenant)
            if counts
            else "the run stopped before deploying: see the log"
        )
        with _reported("deployment"):
            self._status("success" if ok else "failure", description, api_url)

    def _status(
        self, state: Literal["in_progress", "success", "failure"], text: str, api_url: str | None
    ) -> None:
        assert self.deployment_id is not None
        self.client.set_deployment_status(
            self.github.repository,
            self.deployment_id,
            state,
            text,
            deployments_page(api_url),
            self.github.run_url,
        )


def post_previews(
    plan: Plan,
    rows: list[FlowResult],
    about: preview_comment.Previews,
    github: GitHubEnv,
    client: GitHubClient,
) -> None:
    """The pull request's previews as this tenant's comment on it, created or edited."""
    body = log.redact(preview_comment.render(plan, rows, about))
    with _reported("comment"):
        outcome = client.upsert_comment(
            github.repository, about.number, preview_comment.marker(about.tenant), body
        )
        log.info(f"previews comment on pull request #{about.number}: {outcome}")


def deactivate_previews(
    numbers: list[int], github: GitHubEnv, client: GitHubClient, tenant: str | None
) -> None:
    """The GitHub environments of pull requests whose previews are gone: inactive."""
    for number in numbers:
        environment = previews.environment(number)
        with _reported("deployment"):
            done = client.deactivate(
                github.repository,
                environment,
                f"previews removed{f' (tenant {tenant})' if tenant else ''}",
            )
            log.info(f"GitHub environment {environment}: {done} deployment(s) marked inactive")


@contextmanager
def _reported(kind: Literal["comment", "deployment"]) -> Iterator[None]:
    try:
        yield
    except GitHubRefused as exc:
        log.annotate("notice", f"{exc}; skipped: {PERMISSION_HINT[kind]}.", title="GitHub")
    except GitHubError as exc:
        log.warning(f"{exc}; skipped.", title="GitHub")
