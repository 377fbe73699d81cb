"""A pull request's previews as one comment on it, per tenant (pure Markdown; github_api
posts it, edited in place on every push): each preview deployment linked in the Prefect UI
with the command that runs it, the ones that failed with why, and, once the pull request is
closed, that they were removed."""

from __future__ import annotations

from dataclasses import dataclass

from prefect_flow_deploy.core.model import Plan
from prefect_flow_deploy.core.results import FlowResult
from prefect_flow_deploy.reports.action import cell, ui_url
from prefect_flow_deploy.rules.previews import run_command

SHOWN = 200  # previews listed in full; more are counted (GitHub's 65,536 characters)


@dataclass(frozen=True)
class Previews:
    """What a preview run of one pull request did, for its comment."""

    number: int
    tenant: str | None
    head_sha: str
    api_url: str | None
    closed: bool = False


def marker(tenant: str | None) -> str:
    return f"<!-- prefect-flow-deploy:previews tenant={tenant or '-'} -->"


def render(plan: Plan, rows: list[FlowResult], about: Previews) -> str:
    """`rows`: the run's outcome, one per planned deployment (results.outcome_rows), or
    what a dry run would do (planned_rows)."""
    title = f"Prefect previews of #{about.number}" + (
        f" · tenant `{cell(about.tenant)}`" if about.tenant else ""
    )
    head = [marker(about.tenant), f"### {title}", ""]
    outcome = {f"{r.flow}/{r.deployment}": r for r in rows}
    mine = [d for d in plan.deployments if d.preview == about.number]
    removed = [d for d in mine if d.action == "remove" and _done(outcome.get(d.full_name))]
    if about.closed:
        return "\n".join(
            [*head, f"The pull request is closed: its {len(removed)} preview deployment"
             f"{'s' * (len(removed) != 1)} {'were' if len(removed) != 1 else 'was'} removed "
             "(their flow runs stay in Prefect's history).", ""]
        )  # fmt: skip
    live = [d for d in mine if d.action != "remove"]
    if not live:
        return "\n".join(
            [*head, f"At `{about.head_sha[:7]}` no flow folder differs from what production "
             "runs: no previews.", ""]
        )  # fmt: skip
    lines = [
        *head,
        f"At `{about.head_sha[:7]}`: {len(live)} paused deployment{'s' * (len(live) != 1)} "
        "of the flows this pull request changes, built from its code. They never run on "
        "their own: start a run in the Prefect UI, or with the command.",
        "",
        "| preview | | run it |",
        "|---|---|---|",
    ]
    for deployment in sorted(live, key=lambda d: d.full_name)[:SHOWN]:
        row = outcome.get(deployment.full_name)
        status = row.status if row else deployment.action
        link = ui_url(about.api_url, row.deployment_id if row else deployment.deployment_id)
        name = f"`{cell(deployment.full_name)}`"
        shown = f"[{name}]({link})" if link else name
        if status in ("failed", "skipped"):
            why = cell((row.error if row else deployment.error) or "")[:300]
            lines.append(f"| {shown} | ❌ {status} | {why} |")
        else:
            lines.append(
                f"| {shown} | {_icon(status)} | `{cell(run_command(deployment.full_name))}` |"
            )
    if len(live) > SHOWN:
        lines.append(f"\n… and {len(live) - SHOWN} more: see the job summary.")
    if removed:
        lines += ["", f"Removed {len(removed)} preview{'s' * (len(removed) != 1)} of folders "
                  "this pull request no longer changes."]  # fmt: skip
    lines += ["", "<sub>Updated on every push; removed when the pull request closes.</sub>", ""]
    return "\n".join(lines)


def _done(row: FlowResult | None) -> bool:
    return row is None or row.status in ("removed", "remove")


def _icon(status: str) -> str:
    return {"created": "🆕 new", "updated": "🔄 updated", "unchanged": "✅ up to date"}.get(
        status, f"📝 {status}"
    )
