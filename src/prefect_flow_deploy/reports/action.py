"""What the action leaves on GitHub: step outputs (JSON, counts, the fan-out matrix) and the
step summary (a Markdown table per project, failures first, within GitHub's 1 MiB limit)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from prefect_flow_deploy.core.model import ImageDeletion, Plan
from prefect_flow_deploy.core.results import FlowResult, RunResult, planned_rows
from prefect_flow_deploy.core.urls import without_credentials
from prefect_flow_deploy.reports.terminal import human_size, total_freed
from prefect_flow_deploy.rules.shards import group as cost_groups

SUMMARY_BUDGET = 900_000  # bytes; GitHub drops a step summary over 1 MiB
STATUS_ICON = {
    "failed": "❌", "skipped": "⏭️", "created": "🆕", "updated": "🔄", "unchanged": "✅",
    "removed": "🗑️", "orphaned": "👻", "create": "📝", "update": "📝", "remove": "📝",
}  # fmt: skip


def deployments_output(rows: list[FlowResult]) -> list[dict[str, Any]]:
    return [
        {
            "project": r.project,
            "folder": r.folder,
            "flow": r.flow,
            "deployment": f"{r.flow}/{r.deployment}",
            "deployment_id": r.deployment_id,
            "image": r.image,
            "digest": r.digest,
            "status": r.status,
            **({"error": r.error} if r.error else {}),
        }
        for r in rows
    ]


def images_output(rows: list[FlowResult]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(
            (r.project, r.folder),
            {
                "project": r.project,
                "folder": r.folder,
                "image": r.image,
                "digest": r.digest,
                "status": r.image_status,
            },
        )
    return list(seen.values())


def counts(rows: list[FlowResult], built: int) -> dict[str, int]:
    return {
        "built": built,
        "changed": sum(
            1
            for r in rows
            if r.status in ("created", "updated", "removed", "create", "update", "remove")
        ),
        "failed": sum(1 for r in rows if r.status == "failed"),
    }


def planned_results(plan: Plan) -> list[FlowResult]:
    """Rows for a dry run: the status is what a deploy would do."""
    return planned_rows(plan)


def matrix(
    plan: Plan, shards: int, failed: frozenset[str] = frozenset()
) -> dict[str, list[dict[str, str]]]:
    """The folders that need work (a build or a deployment write), in at most `shards`
    groups of about equal cost (shards.py: each build by its last measured time); each
    group's `flows` is an anchored regex for the action's `flows` input, `seconds` its
    estimated build time. `failed`: folders whose build failed in this run (not work
    another shard could do)."""
    builds = {
        i.folder.key: i.last_build_seconds
        for i in plan.images
        if i.action == "build" and i.folder.key not in failed
    }
    # (an orphan's folder too, as before the plan told orphans apart: its shard writes nothing)
    writes = {
        d.folder_key
        for d in plan.deployments
        if d.action in ("create", "update", "remove", "orphan")
    }
    groups = cost_groups(builds, writes - set(builds), shards)
    return {
        "include": [
            {
                "shard": str(n + 1),
                "flows": "^(?:" + "|".join(re.escape(k) for k in group.folders) + ")$",
                "folders": " ".join(group.folders),
                "seconds": f"{group.seconds:.0f}",
            }
            for n, group in enumerate(groups)
        ]
    }


def ui_base(api_url: str | None) -> str | None:
    """The Prefect UI's root for an API URL, when the URL tells where that is: Prefect Cloud's
    `api.prefect.cloud/api/accounts/A/workspaces/W` → `app.prefect.cloud/account/A/workspace/W`,
    a self-hosted server's `http://host:4200/api` → `http://host:4200`. A login in the
    URL is never part of a link (url_credentials.py)."""
    if not api_url:
        return None
    api_url = without_credentials(api_url)
    cloud = re.match(
        r"https://api\.prefect\.(cloud|dev)/api/accounts/([^/]+)/workspaces/([^/]+)", api_url
    )
    if cloud:
        domain, account, workspace = cloud.groups()
        return f"https://app.prefect.{domain}/account/{account}/workspace/{workspace}"
    if api_url.rstrip("/").endswith("/api"):
        return api_url.rstrip("/")[:-4]
    return None


def deployments_page(api_url: str | None) -> str | None:
    """The UI's list of deployments (a GitHub environment's URL)."""
    base = ui_base(api_url)
    return f"{base}/deployments" if base else None


def ui_url(api_url: str | None, deployment_id: str | None) -> str | None:
    """The deployment's page in the Prefect UI, when the API URL tells where that is."""
    base = ui_base(api_url)
    return f"{base}/deployments/deployment/{deployment_id}" if base and deployment_id else None


def summary(
    rows: list[FlowResult], api_url: str | None, title: str, seconds: float | None = None
) -> str:
    """Full tables when they fit; otherwise unchanged rows become a count per project, then
    whole projects become one line each: summarised, never cut mid-table."""
    for level in ("full", "changes", "projects"):
        text = _summary(rows, api_url, title, seconds, level)
        if len(text.encode()) <= SUMMARY_BUDGET:
            return text
    return text[:SUMMARY_BUDGET]


def _summary(
    rows: list[FlowResult], api_url: str | None, title: str, seconds: float | None, level: str
) -> str:
    by_status: dict[str, int] = defaultdict(int)
    for r in rows:
        by_status[r.status] += 1
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    lines = [
        f"## {title}",
        "",
        f"{len(rows)} deployments{took}: "
        + ", ".join(f"{STATUS_ICON.get(k, '')} {v} {k}" for k, v in sorted(by_status.items())),
        "",
    ]
    projects: dict[str, list[FlowResult]] = defaultdict(list)
    for r in rows:
        projects[r.project].append(r)
    order = sorted(projects, key=lambda p: (not any(r.status == "failed" for r in projects[p]), p))
    for project in order:
        group = sorted(projects[project], key=lambda r: (r.status != "failed", r.folder, r.flow))
        failed = sum(1 for r in group if r.status == "failed")
        if level == "projects":
            lines.append(f"- **{cell(project)}**: {len(group)} deployments, {failed} failed")
            continue
        lines += [
            f"### {cell(project)}",
            "",
            "| folder | flow | image | deployment | |",
            "|---|---|---|---|---|",
        ]
        hidden = 0
        for r in group:
            if level == "changes" and r.status == "unchanged":
                hidden += 1
                continue
            link = ui_url(api_url, r.deployment_id)
            name = (
                f"[{cell(r.flow)}/{cell(r.deployment)}]({link})"
                if link
                else f"{cell(r.flow)}/{cell(r.deployment)}"
            )
            status = f"{STATUS_ICON.get(r.status, '')} {r.status}"
            if r.changed_fields and r.status in ("updated", "update"):
                status += f" ({', '.join(r.changed_fields)})"
            if r.error:
                status += f": {cell(r.error)[:300]}"
            lines.append(f"| {cell(r.folder)} | {name} | {r.image_status} | {status} | |")
        if hidden:
            lines.append(f"| … | {hidden} unchanged deployments | | ✅ unchanged | |")
        lines.append("")
    return "\n".join(lines) + "\n"


def deletions_summary(deletions: Sequence[ImageDeletion]) -> str:
    """keep-images: what was (or, in a dry run, would be) deleted, and the space freed."""
    if not deletions:
        return ""
    lines = [
        "### Images deleted (keep-images)",
        "",
        "| image | tags | created | frees | |",
        "|---|---|---|---|---|",
    ]
    for d in deletions:
        lines.append(
            f"| {cell(d.repository)}@{d.digest[:19]} | {cell(', '.join(d.tags))} | {d.created[:19]} "
            f"| {human_size(d.freed)} | {cell(d.outcome)} |"
        )
    total = total_freed(deletions)
    lines += [
        "",
        f"{len(deletions)} images, {human_size(total)} freed (after the registry's garbage collection)."
        if total is not None
        else f"{len(deletions)} images.",
        "",
    ]
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def outputs(
    rows: list[FlowResult],
    built: int,
    plan: Plan,
    shards: int,
    failed: frozenset[str] = frozenset(),
) -> dict[str, str]:
    values = {
        "deployments": json.dumps(deployments_output(rows)),
        "images": json.dumps(images_output(rows)),
        "matrix": json.dumps(matrix(plan, shards, failed)),
    }
    values.update({k: str(v) for k, v in counts(rows, built).items()})
    return values


def run_outputs(result: RunResult, shards: int) -> dict[str, str]:
    failed = frozenset(k for k, o in result.images.items() if o.status == "failed")
    return outputs(result.results, result.counters.built, result.plan, shards, failed)
