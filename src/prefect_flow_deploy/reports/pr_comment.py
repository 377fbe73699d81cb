"""The plan as a pull request comment, for one tenant: Markdown only (pure; `github_api`
posts it). Per project: the images that would be built and why, the deployments created,
updated (each changed field, old → new, secret-looking values hidden) or removed, and the
problems linked to their file and line at the pull request's head commit.

GitHub refuses a comment over 65,536 characters: a long plan is summarised in steps (whole
projects folded into `<details>`, then changed fields without their values, then one line
per project), never cut in the middle of a table."""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import DeploymentPlan, ImagePlan, Plan, Problem
from prefect_flow_deploy.core.results import listed
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.reports.action import cell
from prefect_flow_deploy.settings.options import SECRET_NAME

BUDGET = 60_000  # below GitHub's 65,536, for what the caller adds (redaction lengthens nothing)
FOLD_ROWS = 10  # a project with more rows than this is folded into <details>
MAX_LEAVES = 6  # changed values shown per field
MAX_VALUE = 60  # characters shown of one value
HIDDEN = "•••"
LEVELS = ("values", "fields", "projects")


@dataclass(frozen=True)
class Links:
    """Where the repository's files are shown at the pull request's head commit."""

    server_url: str  # https://github.com, or a GitHub Enterprise Server's root
    repository: str  # owner/name
    head_sha: str
    workspace: Path  # the checkout the problems' paths are under

    def path(self, file: Path) -> str:
        try:
            return file.relative_to(self.workspace).as_posix()
        except ValueError:
            return file.as_posix()

    def url(self, file: Path, line: int | None) -> str:
        anchor = f"#L{line}" if line else ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/blob/{self.head_sha}/{self.path(file)}{anchor}"


def marker(tenant: str | None) -> str:
    """The hidden line that finds this tenant's comment again: one comment per tenant, so
    matrix jobs planning several tenants never write the same comment."""
    return f"<!-- prefect-flow-deploy:plan tenant={tenant or '-'} -->"


def render(plan: Plan, tenant: str | None, links: Links, plan_hash: str = "") -> str:
    """The whole comment body, within BUDGET characters. `plan_hash`: the plan's hash
    (plan_hash.py), which `deploy --plan` applies only when a plan made then has it too."""
    counts = _counts(plan)
    title = "Prefect plan" + (f" · tenant `{tenant}`" if tenant else "")
    at = f"`{links.head_sha[:7]}`"
    approved = hash_line(plan_hash)
    if not _has_news(counts):
        return (
            f"{marker(tenant)}\n✅ **{title}** at {at}: nothing to build, create, update or "
            f"remove ({counts['unchanged']} deployments up to date).\n"
            + (f"\n{approved}\n" if approved else "")
        )
    head = [marker(tenant), f"### {title}", "", f"At {at}: {_headline(counts)}.", ""]
    head += [
        f"- ⚠️ Creates pool `{cell(p.name)}` (type `{cell(p.type)}`); no worker serves it yet: "
        f"start one (`prefect worker start --pool {cell(shlex.quote(p.name))}`)."
        for p in plan.pools_to_create
    ] + ([""] if plan.pools_to_create else [])
    head += _problem_lines(plan.problems, links)
    foot = ["", "<sub>Dry run: nothing was changed. Updated on every push.</sub>", ""]
    if approved:
        foot[1:1] = [approved, ""]
    projects = _projects(plan)
    body = _fit(projects, plan, links, BUDGET - len("\n".join(head + foot)) - 200)
    if any(re.match(r"- (📦|❌) \*\*|- … and", line) for line in body):
        foot[1] = foot[1].replace(
            "</sub>", " Projects in one line are in full in the job summary.</sub>"
        )
    return "\n".join(head + body + foot)


def hash_line(plan_hash: str) -> str:
    """What a reviewer approves: the plan's hash, which `deploy --plan` checks."""
    if not plan_hash:
        return ""
    return (
        f"<sub>Plan `sha256:{plan_hash}`: `prefect-flow-deploy deploy --plan` applies a plan "
        "file only when the repository, the registry and the server still make this plan.</sub>"
    )


def _fit(projects: list[_Project], plan: Plan, links: Links, room: int) -> list[str]:
    """Each project (failing ones first) as fully as the room left allows, keeping a line for
    every project after it: full values, then changed field names, then one line."""
    lines = [[line for line in _project(p, plan, links, "projects")] for p in projects]
    reserve = [sum(len(x) + 1 for x in group) for group in lines]
    body: list[str] = []
    for index, project in enumerate(projects):
        after = sum(reserve[index + 1 :])
        for level in LEVELS:
            section = _project(project, plan, links, level)
            size = sum(len(x) + 1 for x in section)
            if size <= room - after or level == "projects":
                break
        if size > room:  # not even one line per project fits (thousands of projects)
            body.append(f"- … and {len(projects) - index} more projects: see the job summary.")
            return body
        body += section
        room -= size
    return body


# -- counting ---------------------------------------------------------------------------------


def _counts(plan: Plan) -> Counter[str]:
    counts: Counter[str] = Counter()
    for image in plan.images:
        if image.action == "build":
            counts["build"] += 1
    for deployment in plan.deployments:
        counts[listed(deployment.action)] += 1  # an orphan among "to remove"
    counts["failing"] = sum(1 for f in plan.folders if f.failed)
    counts["problems"] = len(plan.problems) + sum(len(f.problems) for f in plan.folders)
    return counts


def _has_news(counts: Counter[str]) -> bool:
    return any(counts[k] for k in ("build", "create", "update", "remove", "failing", "problems"))


def _headline(counts: Counter[str]) -> str:
    parts = [
        (counts["build"], "🏗️", "image to build", "images to build"),
        (counts["create"], "🆕", "deployment to create", "deployments to create"),
        (counts["update"], "🔄", "to update", "to update"),
        (counts["remove"], "🗑️", "to remove", "to remove"),
        (counts["failing"], "❌", "folder failing", "folders failing"),
        (counts["unchanged"], "✅", "unchanged", "unchanged"),
    ]
    return " · ".join(
        f"{icon} **{n}** {one if n == 1 else many}" for n, icon, one, many in parts if n
    )


# -- one project ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Project:
    name: str
    images: list[ImagePlan]
    deployments: list[DeploymentPlan]
    problems: list[Problem]
    unchanged: int


def _projects(plan: Plan) -> list[_Project]:
    images: dict[str, list[ImagePlan]] = defaultdict(list)
    deployments: dict[str, list[DeploymentPlan]] = defaultdict(list)
    problems: dict[str, list[Problem]] = defaultdict(list)
    unchanged: Counter[str] = Counter()
    for image in plan.images:
        if image.action in ("build", "failed"):
            images[image.folder.project].append(image)
    for d in plan.deployments:
        project = d.folder_key.partition("/")[0]
        if d.action == "unchanged":
            unchanged[project] += 1
        else:
            deployments[project].append(d)
    for folder in plan.folders:
        problems[folder.project] += folder.problems
    names = set(images) | set(deployments) | set(problems)
    projects = [
        _Project(
            n,
            sorted(images[n], key=lambda i: i.folder.name),
            sorted(deployments[n], key=lambda d: (d.action, d.full_name)),
            sorted(problems[n], key=lambda p: (p.severity != "error", str(p.file), p.line or 0)),
            unchanged[n],
        )
        for n in names
    ]
    return sorted(
        projects, key=lambda p: (not any(x.severity == "error" for x in p.problems), p.name)
    )


def _project(project: _Project, plan: Plan, links: Links, level: str) -> list[str]:
    failing = sum(1 for i in project.images if i.action == "failed")
    changes = len(project.deployments)
    counts = (
        f"{len(project.images) - failing} to build, {changes} deployment "
        f"change{'s' * (changes != 1)}, {len(project.problems)} "
        f"problem{'s' * (len(project.problems) != 1)}"
    )
    if level == "projects":
        return [f"- {'❌' if failing else '📦'} **{cell(project.name)}**: {counts}"]
    problems = _problem_lines(project.problems, links)
    tables = _images_table(project.images) + _deployments_table(project, level, plan.pools)
    if project.unchanged:
        tables.append(f"{project.unchanged} deployment{'s' * (project.unchanged != 1)} unchanged.")
        tables.append("")
    rows = len(project.images) + len(project.deployments)
    if rows <= FOLD_ROWS and level == "values":
        return [f"#### {cell(project.name)}", "", *problems, *tables]
    return [
        f"#### {cell(project.name)}",
        "",
        *problems,
        "<details>",
        f"<summary>{_html(project.name)}: {counts}</summary>",
        "",
        *tables,
        "</details>",
        "",
    ]


def _images_table(images: list[ImagePlan]) -> list[str]:
    if not images:
        return []
    lines = ["| image | | why |", "|---|---|---|"]
    for image in images:
        state = "❌ failed" if image.action == "failed" else "🏗️ build"
        why = image.reason or ""
        lines.append(f"| `{cell(image.folder.name)}` | {state} | {cell(_short(why, 300))} |")
    return [*lines, ""]


def _deployments_table(project: _Project, level: str, pools: Mapping[str, Pool]) -> list[str]:
    if not project.deployments:
        return []
    lines = ["| deployment | | changes |", "|---|---|---|"]
    for d in project.deployments:
        if d.action == "remove" and d.preview is not None:  # removed without prune
            state, what = "🗑️ remove", cell(d.reason or "")
        elif d.action == "remove":  # --prune
            state, what = "🗑️ remove", "its folder or flow is gone"
        elif d.action == "orphan":
            state, what = "👻 orphaned", "its folder or flow is gone; kept (`prune` is off)"
        elif d.action == "create":
            state, what = "🆕 create", _created(d, pools)
        elif d.action == "update":
            state = "🔄 update"
            what = (
                "<br>".join(
                    _field_change(f, *d.changes[f]) for f in d.changed_fields if f in d.changes
                )
                if level == "values" and d.changes
                else ", ".join(f"`{f}`" for f in d.changed_fields)
            )
        else:
            state, what = f"⏭️ {d.action}", cell(d.error or "")
        lines.append(f"| `{cell(d.full_name)}` | {state} | {what} |")
    return [*lines, ""]


def _created(d: DeploymentPlan, plan_pools: Mapping[str, Pool]) -> str:
    spec = d.spec
    if spec is None:
        return ""
    schedules = len(spec.schedules or [])
    pool = plan_pools.get(spec.work_pool)
    created = " (created by this run)" if pool is not None and not pool.exists else ""
    return f"new, on work pool `{cell(spec.work_pool)}`{created}" + (
        f", {schedules} schedule{'s' * (schedules != 1)}" if schedules else ""
    )


def _problem_lines(problems: Sequence[Problem], links: Links) -> list[str]:
    lines = []
    for problem in problems:
        icon = "❌" if problem.severity == "error" else "⚠️"
        where = ""
        if problem.file is not None:
            label = links.path(problem.file) + (f":{problem.line}" if problem.line else "")
            where = f"[`{cell(label)}`]({links.url(problem.file, problem.line)}): "
        lines.append(f"- {icon} {where}{_short(cell(problem.message), 600)}")
    return [*lines, ""] if lines else []


# -- values -----------------------------------------------------------------------------------


def _field_change(field: str, old: Any, new: Any) -> str:
    """`field`: old → new; for a mapping, each changed key (`job_variables.env.X`)."""
    if field == "triggers":  # (names on the server, the writes planned: "create X", ...)
        return "`triggers`: " + ", ".join(cell(str(write)) for write in new)
    if isinstance(old, dict) and isinstance(new, dict):
        before, after = _leaves(old), _leaves(new)
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        shown = [
            f"`{cell(_code(f'{field}.{k}'))}`: {_value(k, before.get(k, _ABSENT))} → {_value(k, after.get(k, _ABSENT))}"
            for k in keys[:MAX_LEAVES]
        ]
        more = f" and {len(keys) - MAX_LEAVES} more" if len(keys) > MAX_LEAVES else ""
        return "<br>".join(shown) + more
    return f"`{field}`: {_value(field, old)} → {_value(field, new)}"


class _Absent:
    pass


_ABSENT = _Absent()


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            found.update(_leaves(value, path + "."))
        else:
            found[path] = value
    return found


def _value(key: str, value: Any) -> str:
    if isinstance(value, _Absent):
        return "*(none)*"
    if SECRET_NAME.search(key) and value not in (None, ""):
        return HIDDEN
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"`{cell(_code(_short(text, MAX_VALUE)))}`"


def _code(text: str) -> str:
    return text.replace("`", "'")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
