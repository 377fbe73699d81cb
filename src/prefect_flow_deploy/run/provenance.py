"""Where a deployment, and its image, came from.

A deployment: the commit, branch and repository of the GitHub run that wrote it, as
Prefect's `vcs:github` version info (prefect/_internal/versioning.py, GithubVersionInfo).
Built from the runner's environment, never by running `git` (the action's container has
none, and the checkout may be shallow); `version` stays the image's content tag, so a re-run
of the same content on another commit is not a change. Only Prefect Cloud keeps
version_info (a self-hosted server drops it).

An image: the OCI annotations a registry's UI reads (GHCR links a package to the repository
in `org.opencontainers.image.source`), as labels given to the build. They are not inputs of
the content tag: a new commit with the same content is the same image, never rebuilt."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def github_version_info(env: Mapping[str, str], version: str) -> dict[str, Any] | None:
    """None outside a GitHub Actions run (the fields Prefect requires are missing)."""
    sha, repository = env.get("GITHUB_SHA"), env.get("GITHUB_REPOSITORY")
    branch = env.get("GITHUB_REF_NAME")
    if not (sha and repository and branch):
        return None
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return {
        "type": "vcs:github",
        "version": version,
        "commit_sha": sha,
        "message": _commit_message(env.get("GITHUB_EVENT_PATH")),
        "branch": branch,
        "repository": repository,
        "url": f"{server}/{repository}/commit/{sha}",
    }


OCI_SOURCE = "org.opencontainers.image.source"
OCI_REVISION = "org.opencontainers.image.revision"
OCI_CREATED = "org.opencontainers.image.created"


def image_labels(
    env: Mapping[str, str], repository: str | None, commit: str | None, created: datetime
) -> dict[str, str]:
    """The OCI labels of a flow image (https://github.com/opencontainers/image-spec,
    annotations.md): the repository's URL (`repository` is owner/name, on GITHUB_SERVER_URL,
    else github.com), the commit (GITHUB_SHA on a runner, else the checkout's HEAD) and the
    build's time (RFC 3339, UTC). A value nobody can tell is left out."""
    labels = {OCI_CREATED: created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if repository:
        server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
        labels[OCI_SOURCE] = f"{server}/{repository}"
    revision = env.get("GITHUB_SHA") or commit
    if revision:
        labels[OCI_REVISION] = revision
    return labels


def _commit_message(event_path: str | None) -> str:
    """The first line of the commit's message, from the event that started the run (a push
    carries `head_commit`); empty when the event does not say."""
    if not event_path:
        return ""
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    commit = event.get("head_commit") if isinstance(event, dict) else None
    message = commit.get("message") if isinstance(commit, dict) else None
    return message.splitlines()[0] if isinstance(message, str) and message else ""
