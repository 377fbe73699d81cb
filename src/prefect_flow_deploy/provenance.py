"""Where a deployment came from: the commit, branch and repository of the GitHub run that
wrote it, as Prefect's `vcs:github` version info (prefect/_internal/versioning.py,
GithubVersionInfo). Built from the runner's environment, never by running `git` (the
action's container has none, and the checkout may be shallow); `version` stays the
image's content tag, so a re-run of the same content on another commit is not a change.
Only Prefect Cloud keeps version_info (a self-hosted server drops it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
