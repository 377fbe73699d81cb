"""The plan comment's Markdown (pure): what a reviewer reads on the pull request."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from prefect_flow_deploy.core.model import (
    DeploymentPlan,
    DeploymentSpec,
    FlowFolder,
    ImagePlan,
    Plan,
    Problem,
)
from prefect_flow_deploy.reports.pr_comment import Links, marker, render

WORKSPACE = Path("/github/workspace")
SHA = "9f2c1e0b7a6d5c4b3a29180716253443526170ab"
LINKS = Links("https://github.com", "acme/flows", SHA, WORKSPACE)
COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment body


def folder(project: str, name: str, problems: list[Problem] | None = None) -> FlowFolder:
    return FlowFolder(
        project, name, WORKSPACE / "projects" / project / name, problems=problems or []
    )


def image(f: FlowFolder, action: str = "build", reason: str = "changed: flow.py") -> ImagePlan:
    return ImagePlan(f, f"ghcr.io/acme/flows/{f.project}/{f.name}", "0123abcd", {}, action, reason)  # type: ignore[arg-type]


def spec(f: FlowFolder, flow: str, schedules: int = 0) -> DeploymentSpec:
    return DeploymentSpec(
        flow, f.project, f.key, f.project, "flow.py:main", "docker-pool", "img:1", None, "1", [],
        schedules=[{"cron": "0 6 * * *"}] * schedules,
    )  # fmt: skip


def update(f: FlowFolder, flow: str, changes: dict[str, tuple[object, object]]) -> DeploymentPlan:
    return DeploymentPlan(
        spec(f, flow),
        f"{flow}/{f.project}",
        f.key,
        "update",
        list(changes),
        "id-1",
        changes=changes,
    )


def table_rows_are_whole(text: str) -> None:
    """Every table line has its three cells (unescaped pipes), every table has its header."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 4, line
            if line.startswith("|---"):
                assert lines[number - 1].startswith("| ")
    assert text.count("<details>") == text.count("</details>")


def test_the_plan_per_project_with_changes_old_to_new_and_linked_problems() -> None:
    sales = folder("sales", "daily_orders")
    broken = folder(
        "sales",
        "broken",
        [
            Problem(
                "error",
                "invalid syntax: a | pipe",
                WORKSPACE / "projects/sales/broken/flow.py",
                12,
                "Syntax",
            ),
            Problem("warning", "no flow here", WORKSPACE / "projects/sales/broken"),
        ],
    )
    plan = Plan(
        [sales, broken],
        [image(sales), image(broken, "failed", "syntax error")],
        [
            update(
                sales,
                "daily-orders",
                {
                    "job_variables": (
                        {"env": {"LOG_LEVEL": "INFO", "DB_PASSWORD": "hunter2"}},
                        {"env": {"LOG_LEVEL": "DEBUG", "DB_PASSWORD": "swordfish"}, "cpu": 2},
                    ),
                    "tags": (["sales"], ["sales", "nightly"]),
                    "triggers": (["on-upstream"], ["update on-upstream", "create on-file"]),
                },
            ),
            DeploymentPlan(spec(sales, "weekly", 2), "weekly/sales", sales.key, "create"),
            DeploymentPlan(None, "old-flow/sales", "sales/gone", "remove", deployment_id="x"),
        ],
    )
    text = render(plan, "prod", LINKS)

    assert text.splitlines()[0] == marker("prod") == "<!-- prefect-flow-deploy:plan tenant=prod -->"
    assert "### Prefect plan · tenant `prod`" in text
    assert "At `9f2c1e0`:" in text
    assert "🏗️ **1** image to build" in text and "❌ **1** folder failing" in text
    assert "#### sales" in text
    assert "| `daily_orders` | 🏗️ build | changed: flow.py |" in text
    assert "| `broken` | ❌ failed | syntax error |" in text
    # Each changed field, old → new; a mapping by its changed keys; secrets never shown.
    assert "`job_variables.env.LOG_LEVEL`: `INFO` → `DEBUG`" in text
    assert "`job_variables.cpu`: *(none)* → `2`" in text
    assert "`job_variables.env.DB_PASSWORD`: ••• → •••" in text
    assert "hunter2" not in text and "swordfish" not in text
    assert '`tags`: `["sales"]` → `["nightly", "sales"]`' in text or (
        '`tags`: `["sales"]` → `["sales", "nightly"]`' in text
    )
    assert "`triggers`: update on-upstream, create on-file" in text
    assert "| `weekly/sales` | 🆕 create | new, on work pool `docker-pool`, 2 schedules |" in text
    assert "| `old-flow/sales` | 🗑️ remove |" in text
    # Problems link to the file and line at the pull request's head commit.
    assert (
        f"- ❌ [`projects/sales/broken/flow.py:12`](https://github.com/acme/flows/blob/{SHA}/"
        "projects/sales/broken/flow.py#L12): invalid syntax: a \\| pipe"
    ) in text
    assert (
        f"- ⚠️ [`projects/sales/broken`](https://github.com/acme/flows/blob/{SHA}/projects/sales/broken): no flow here"
        in text
    )
    table_rows_are_whole(text)


def test_removal_without_prune_is_shown_as_kept() -> None:
    gone = DeploymentPlan(None, "old/sales", "sales/gone", "orphan", deployment_id="x")
    text = render(Plan([], [], [gone]), None, LINKS)
    assert (
        "| `old/sales` | 👻 orphaned | its folder or flow is gone; kept (`prune` is off) |" in text
    )
    assert text.splitlines()[0] == "<!-- prefect-flow-deploy:plan tenant=- -->"


def test_nothing_to_do_is_one_line() -> None:
    sales = folder("sales", "daily_orders")
    unchanged = DeploymentPlan(spec(sales, "a"), "a/sales", sales.key, "unchanged", [], "id")
    text = render(Plan([sales], [image(sales, "exists")], [unchanged] * 3), "dev", LINKS)
    assert text.splitlines() == [
        marker("dev"),
        "✅ **Prefect plan · tenant `dev`** at `9f2c1e0`: nothing to build, create, update or "
        "remove (3 deployments up to date).",
    ]


def test_enterprise_server_links() -> None:
    links = Links("https://ghe.example.com/", "acme/flows", SHA, WORKSPACE)
    broken = folder("p", "f", [Problem("error", "bad", WORKSPACE / "projects/p/f/prefect.yaml", 3)])
    text = render(Plan([broken], [image(broken, "failed")], []), "prod", links)
    assert f"(https://ghe.example.com/acme/flows/blob/{SHA}/projects/p/f/prefect.yaml#L3)" in text


def big_plan(flows: int, projects: int) -> Plan:
    folders, images, deployments = [], [], []
    for i in range(flows):
        f = folder(f"project-{i % projects:04d}", f"folder-{i:04d}")
        folders.append(f)
        images.append(image(f, reason="changed: " + ", ".join(f"file{n}.py" for n in range(8))))
        deployments.append(
            update(
                f,
                f"flow-{i}",
                {
                    "parameters": ({"limit": 10, "region": "eu-west-1"}, {"limit": 20, "region": "us-east-1"}),
                    "schedules": ([{"schedule": {"cron": "0 6 * * *"}}], [{"schedule": {"cron": "0 7 * * *"}}]),
                    "description": ("the old description " * 5, "the new description " * 5),
                },
            )
        )  # fmt: skip
    return Plan(folders, images, deployments)


def test_a_thousand_flows_fit_in_one_comment_folded_never_cut_mid_table() -> None:
    text = render(big_plan(1000, 10), "prod", LINKS)
    assert len(text) <= COMMENT_LIMIT
    assert "🔄 **1000** to update" in text
    # Every project is there: as many as fit in full (folded), the others in one line each.
    full = re.findall(r"^#### (project-\d+)$", text, re.M)
    brief = re.findall(
        r"^- 📦 \*\*(project-\d+)\*\*: 100 to build, 100 deployment changes", text, re.M
    )
    assert full and brief and sorted(full + brief) == [f"project-{i:04d}" for i in range(10)]
    assert text.count("<details>") == len(full)
    assert text.rstrip().endswith("</sub>")
    table_rows_are_whole(text)


def test_failing_projects_come_first_in_full() -> None:
    plan = big_plan(1000, 10)
    last = plan.folders[999]
    failing = replace(last, problems=[Problem("error", "boom", last.path / "flow.py", 1)])
    plan = replace(plan, folders=[*plan.folders[:999], failing])
    text = render(plan, "prod", LINKS)
    assert len(text) <= COMMENT_LIMIT
    assert re.findall(r"^#### (project-\d+)$", text, re.M)[0] == "project-0009"
    assert f"blob/{SHA}/projects/project-0009/folder-0999/flow.py#L1): boom" in text


def test_a_plan_too_long_for_tables_becomes_one_line_per_project() -> None:
    text = render(big_plan(3000, 300), "prod", LINKS)
    assert len(text) <= COMMENT_LIMIT
    assert text.count("- 📦 **project-") + text.count("#### project-") == 300
    table_rows_are_whole(text)
    assert "- 📦 **project-0299**: 10 to build, 10 deployment changes, 0 problems" in text


def test_thousands_of_projects_keep_whole_lines() -> None:
    text = render(big_plan(9000, 9000), "prod", LINKS)
    assert len(text) <= COMMENT_LIMIT
    assert re.search(r"- … and \d+ more projects: see the job summary\.", text)
    assert all(
        line.endswith("problems") or not line.startswith("- 📦") for line in text.splitlines()
    )


def test_the_readme_pictures_show_what_the_code_writes() -> None:
    """docs/*.png are screenshots of docs/*.md, which must be today's output (else run
    scripts/render-docs.py again)."""
    import importlib.util

    root = Path(__file__).resolve().parents[3]
    spec_ = importlib.util.spec_from_file_location(
        "render_docs", root / "scripts" / "render-docs.py"
    )
    assert spec_ and spec_.loader
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    plan = module.example_plan()
    links = Links("https://github.com", "acme/flows", module.HEAD_SHA, module.WORKSPACE)
    assert (root / "docs" / "pr-comment.md").read_text() == render(plan, "prod", links)
    assert (root / "docs" / "pr-comment.png").stat().st_size > 10_000


def test_the_plan_s_hash_is_what_the_reviewer_approves() -> None:
    gone = DeploymentPlan(None, "old/sales", "sales/gone", "remove", deployment_id="x")
    digest = "ab" * 32
    text = render(Plan([], [], [gone]), "prod", LINKS, plan_hash=digest)
    assert f"Plan `sha256:{digest}`: `prefect-flow-deploy deploy --plan` applies" in text
    quiet = render(Plan([], [], []), "prod", LINKS, plan_hash=digest)
    assert "nothing to build" in quiet and f"`sha256:{digest}`" in quiet
    assert "sha256:" not in render(Plan([], [], [gone]), "prod", LINKS)
