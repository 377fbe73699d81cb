"""Render the pictures of docs/pull-requests.md from the Markdown the code produces: the plan
comment on a pull request (pr_comment.render) and the job summary (action_report.summary),
for one example plan. Markdown → HTML with markdown-it-py (already installed: rich uses it),
styled like GitHub's, then a screenshot by headless Chromium (Debian: `apt-get install chromium`).

    apt-get install -y chromium fonts-noto-color-emoji   # once (the emoji need the font)
    .venv/bin/python scripts/render-docs.py   # writes docs/pr-comment.{md,png}, docs/job-summary.{md,png}
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

from prefect_flow_deploy.core.model import (
    DeploymentPlan,
    DeploymentSpec,
    FlowFolder,
    ImagePlan,
    Plan,
    Problem,
)
from prefect_flow_deploy.reports import action as action_report
from prefect_flow_deploy.reports import pr_comment

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = Path("/github/workspace")
HEAD_SHA = "9f2c1e0b7a6d5c4b3a29180716253443526170ab"
API_URL = "https://api.prefect.cloud/api/accounts/0ff44b2e/workspaces/9a1c5d7e"
CSS = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       color: #1f2328; background: #fff; margin: 16px; }
.box { border: 1px solid #d1d9e0; border-radius: 6px; max-width: 980px; }
.head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
        border-radius: 6px 6px 0 0; color: #59636e; }
.head b { color: #1f2328; }
.md { padding: 8px 16px 16px; }
h2, h3 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; margin: 16px 0 12px; }
h2 { font-size: 1.5em; } h3 { font-size: 1.25em; } h4 { font-size: 1em; margin: 16px 0 8px; }
table { border-collapse: collapse; margin: 0 0 12px; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; background: #f6f8fa; } tr:nth-child(2n) td { background: #f6f8fa; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: rgba(129,139,152,.12); border-radius: 6px; padding: .2em .4em; }
a { color: #0969da; text-decoration: none; }
ul { padding-left: 2em; margin: 0 0 12px; } p { margin: 0 0 12px; }
details { margin: 0 0 12px; } summary { cursor: pointer; }
sub { color: #59636e; }
"""


def example_plan() -> Plan:
    def folder(project: str, name: str, problems: list[Problem] | None = None) -> FlowFolder:
        return FlowFolder(
            project, name, WORKSPACE / "projects" / project / name, problems=problems or []
        )

    def spec(f: FlowFolder, flow: str, schedules: int = 0) -> DeploymentSpec:
        return DeploymentSpec(
            flow, f.project, f.key, f.project, "flow.py:main", "prod-docker", "img", None, "1",
            [], schedules=[{"cron": "0 6 * * *"}] * schedules,
        )  # fmt: skip

    orders, digest = folder("sales", "daily_orders"), folder("marketing", "weekly_digest")
    refunds = folder("sales", "refunds")
    broken = folder(
        "sales",
        "forecast",
        [
            Problem(
                "error",
                "invalid syntax: '(' was never closed",
                WORKSPACE / "projects/sales/forecast/flow.py",
                14,
            ),
            Problem(
                "warning",
                "projects/sales/forecast/.env looks like a credentials file, and the build "
                "copies it into the image: add it to .dockerignore.",
                WORKSPACE / "projects/sales/forecast/.env",
            ),
        ],
    )

    def image(f: FlowFolder, action: str, reason: str) -> ImagePlan:
        return ImagePlan(
            f, f"ghcr.io/acme/flows/{f.project}/{f.name}", "5be1c0de", {}, action, reason
        )  # type: ignore[arg-type]

    update = DeploymentPlan(
        spec(orders, "daily-orders"), "daily-orders/sales", orders.key, "update",
        ["version", "schedules", "job_variables"], "d1",
        changes={
            "version": ("5be1c0de04a1", "9c27aa31e5f0"),
            "schedules": ([{"cron": "0 6 * * *", "timezone": "UTC"}], [{"cron": "30 5 * * *", "timezone": "Europe/Paris"}]),
            "job_variables": (
                {"env": {"LOG_LEVEL": "INFO", "WAREHOUSE_TOKEN": "{{ prefect.blocks.secret.wh }}"}},
                {"env": {"LOG_LEVEL": "DEBUG", "WAREHOUSE_TOKEN": "{{ prefect.blocks.secret.wh2 }}"}, "mem_limit": "2g"},
            ),
        },
    )  # fmt: skip
    return Plan(
        [orders, refunds, broken, digest],
        [
            image(orders, "build", "changed: flow.py, requirements.txt"),
            image(refunds, "exists", ""),
            image(broken, "failed", "invalid syntax"),
            image(digest, "build", "new: no deployed image for this folder yet"),
        ],
        [
            update,
            DeploymentPlan(spec(refunds, "refunds"), "refunds/sales", refunds.key, "unchanged", deployment_id="d2"),
            DeploymentPlan(spec(digest, "weekly-digest", 1), "weekly-digest/marketing", digest.key, "create"),
            DeploymentPlan(None, "campaign-sync/marketing", "marketing/campaign_sync", "remove", deployment_id="d3"),
        ],
    )  # fmt: skip


def page(title: str, markdown: str) -> str:
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    html = html.replace("<details>", "<details open>")  # the picture shows what unfolds
    return (
        f"<!doctype html><meta charset=utf-8><style>{CSS}</style>"
        f"<div class=box><div class=head>{title}</div><div class=md>{html}</div></div>"
    )


def screenshot(html: str, out: Path, height: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("headless Chromium is needed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(html, encoding="utf-8")
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--screenshot={out}", f"--window-size=1012,{height}", source.as_uri()],
            check=True, capture_output=True,
        )  # fmt: skip
    print(out)


def main() -> None:
    plan = example_plan()
    links = pr_comment.Links("https://github.com", "acme/flows", HEAD_SHA, WORKSPACE)
    comment = pr_comment.render(plan, "prod", links)
    summary = action_report.summary(
        action_report.planned_results(plan), API_URL, "prefect-flow-deploy plan (dry run) · prod"
    )
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "pr-comment.md").write_text(comment)
    (docs / "job-summary.md").write_text(summary)
    screenshot(page("<b>github-actions</b> bot commented", comment), docs / "pr-comment.png", 900)
    screenshot(
        page("<b>Plan flow deploys</b> / plan (prod) · summary", summary),
        docs / "job-summary.png",
        560,
    )


if __name__ == "__main__":
    main()
