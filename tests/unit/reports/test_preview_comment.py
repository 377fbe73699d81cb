"""The pull request's previews comment: each preview linked in the Prefect UI with the
command that runs it, failures with why, and the closing note (pure Markdown)."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.model import ImageAnswer
from prefect_flow_deploy.core.results import planned_rows
from prefect_flow_deploy.reports import preview_comment
from prefect_flow_deploy.reports.preview_comment import Previews, render
from prefect_flow_deploy.rules import decide
from tests.unit.rules.test_decide import ROOT, inputs
from tests.unit.rules.test_previews import PR, folder, preview, production

API = "http://prefect.example:4200/api"
ABOUT = Previews(7, "dev", "c" * 40, API)


def test_each_preview_links_the_ui_and_gives_its_run_command() -> None:
    two = folder("weekly", "refresh", "archive invoices")
    plan = decide.plan(inputs(two), PR)
    rows = planned_rows(plan)
    rows[0].deployment_id, rows[0].status = "1111", "created"
    rows[1].deployment_id, rows[1].status = "2222", "failed"
    rows[1].error = "registration failed: 422 | bad"
    body = render(plan, rows, ABOUT)
    assert body.startswith(preview_comment.marker("dev") + "\n### Prefect previews of #7")
    assert "At `ccccccc`: 2 paused deployments" in body
    link = f"[`{rows[0].flow}/sales-pr-7`](http://prefect.example:4200/deployments/deployment/1111)"
    assert f"| {link} | 🆕 new | `prefect deployment run {rows[0].flow}/sales-pr-7` |" in body
    quoted = "'archive invoices/sales-pr-7'"
    assert quoted not in body  # the failed one gets its error instead of a command
    assert "| ❌ failed | registration failed: 422 \\| bad |" in body


def test_nothing_changed_and_closed() -> None:
    daily = folder("daily")
    server = [*production(daily), preview("daily/sales-pr-7", "sales/daily", 7)]
    plan = decide.plan(inputs(daily, server=server), PR)  # back to production's content
    rows = planned_rows(plan)
    body = render(plan, rows, ABOUT)
    assert "no flow folder differs from what production runs: no previews." in body
    closing = decide.plan(
        inputs(daily, server=server, answers={daily.key: ImageAnswer("r/sales/daily", "t9", {})}),
        replace(PR, preview_closed=True),
    )
    rows = planned_rows(closing)
    rows[0].status = "removed"
    closed = render(closing, rows, replace(ABOUT, closed=True))
    assert "The pull request is closed: its 1 preview deployment was removed" in closed
    assert "flow runs stay" in closed


def test_the_plan_comment_shows_a_preview_removal_with_its_reason_without_prune() -> None:
    from prefect_flow_deploy.reports.pr_comment import Links
    from prefect_flow_deploy.reports.pr_comment import render as render_plan

    daily = folder("daily")
    server = [*production(daily), preview("daily/sales-pr-3", "sales/daily", 3)]
    world = replace(inputs(daily, server=server), pull_states={3: "closed"})
    plan = decide.plan(world, PR)
    body = render_plan(plan, "dev", Links("https://github.com", "acme/flows", "c" * 40, ROOT))
    assert "| `daily/sales-pr-3` | 🗑️ remove | pull request #3 is closed |" in body
    assert "orphaned" not in body
