"""Report: the plan and the outcome as a table on a terminal, JSON for machines."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from prefect_flow_deploy.core.model import DeploymentSpec, ImageDeletion, Plan
from prefect_flow_deploy.core.results import RunResult, listed
from prefect_flow_deploy.deployment.field_loops import shown

SHORT = 60  # characters of a value shown in a plan line
SHOWN_PATHS = 3  # of a mapping's changed entries, the first few shown
_NONE = object()  # a key one side does not have


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> list[str]:
    """`field: old → new` per changed field, long values shortened. Of a mapping (the
    parameters, the schema, the job variables), the entries that changed, each at its
    path (`parameter_openapi_schema.properties.region.default: "eu-west" → "eu-north"`):
    the whole values, cut at the same length, showed the same start on both sides."""
    lines = []
    for name, (old, new) in changes.items():
        if name == "triggers":
            lines.append(f"triggers: {', '.join(new)}")
            continue
        found = _differences(old, new, name)
        shown = [f"{path}: {_short(a)} → {_short(b)}" for path, a, b in found[:SHOWN_PATHS]]
        more = len(found) - SHOWN_PATHS
        lines.append("; ".join(shown) + (f"; {more} more in {name}" if more > 0 else ""))
    return lines


def _differences(old: Any, new: Any, path: str) -> list[tuple[str, Any, Any]]:
    """The changed leaves of two values, by path; a key only one side has is `none` on the
    other."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [(path, None if old is _NONE else old, None if new is _NONE else new)]
    found = []
    for key in sorted(set(old) | set(new), key=str):
        before, after = old.get(key, _NONE), new.get(key, _NONE)
        if before != after:
            found += _differences(before, after, f"{path}.{key}")
    return found


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def desired(spec: DeploymentSpec | None) -> dict[str, Any] | None:
    """The whole deployment a reviewer approves: what will be registered (the fields
    deployment_fields.FIELDS shows, and the image)."""
    if spec is None:
        return None
    return {**shown(spec), "image": spec.image}


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    images = {i.folder.key: i for i in plan.images}
    failed = {f.key for f in plan.folders if f.failed}  # before any image: "failed" too
    rows = []
    for deployment in plan.deployments:
        image = images.get(deployment.folder_key)
        unbuilt = "failed" if deployment.folder_key in failed else None
        rows.append(
            {
                "folder": deployment.folder_key,
                "deployment": deployment.full_name,
                "image": image.reference if image else None,
                "image_action": image.action if image else unbuilt,
                "image_reason": image.reason if image else None,
                # the folder's last build, in seconds (the fan-out's cost), when known
                "image_build_seconds": image.last_build_seconds if image else None,
                "deployment_action": listed(deployment.action),
                "owner": deployment.owner,
                "changed_fields": deployment.changed_fields,
                "changes": {
                    name: {"old": old, "new": new}
                    for name, (old, new) in deployment.changes.items()
                },
                "desired": desired(deployment.spec),
                **({"error": deployment.error} if deployment.error else {}),
            }
        )
    planned = {d.folder_key for d in plan.deployments}  # those rows say why, by name
    for folder in plan.folders:
        if folder.failed and folder.key not in planned:
            rows.append(
                {
                    "folder": folder.key,
                    "deployment": None,
                    "image": None,
                    "image_action": "failed",
                    "image_reason": "; ".join(
                        p.message for p in folder.problems if p.severity == "error"
                    ),
                    "deployment_action": "failed",
                    "changed_fields": [],
                    "changes": {},
                    "desired": None,
                }
            )
    return rows


def pool_lines(plan: Plan) -> list[str]:
    """What the plan says of each work pool it creates: no worker serves it yet."""
    return [
        f"creates pool {pool.name} (type {pool.type}); no worker serves it yet: start one "
        f"with `prefect worker start --pool {shlex.quote(pool.name)}`"
        for pool in plan.pools_to_create
    ]


def json_text(value: object, pretty: bool) -> str:
    """Indented for a person at a terminal; one line for a program in a pipe, which json
    writes with its C encoder: an indented plan of 5,000 folders took 0.33 s, one line 0.07 s
    (2026-12-05)."""
    return json.dumps(value, indent=2 if pretty else None)


def plan_json(plan: Plan, pretty: bool = True) -> str:
    summary = {
        "folders": len(plan.folders),
        "builds": sum(1 for i in plan.images if i.action == "build"),
        "existing_images": sum(1 for i in plan.images if i.action == "exists"),
        "deployments": {
            action: sum(1 for d in plan.deployments if listed(d.action) == action)
            for action in ("create", "update", "unchanged", "remove")
        },
        "failed_folders": [f.key for f in plan.folders if f.failed],
        "work_pools_to_create": [{"name": p.name, "type": p.type} for p in plan.pools_to_create],
        "build": {**asdict(plan.build), "describe": plan.build.describe()},
    }
    deletions = [asdict(d) for d in plan.image_deletions]
    return json_text(
        {"summary": summary, "items": plan_rows(plan), "image_deletions": deletions}, pretty
    )


def print_plan(plan: Plan, console: Console) -> None:
    """A table on a terminal; one plain, greppable line per deployment otherwise."""
    if not console.is_terminal:
        for row in plan_rows(plan):
            changed = _changed(row)
            image = row["image_action"] or "-"  # a removal has no image
            if row["image_reason"]:
                image += f": {row['image_reason']}"
            _line(
                console,
                f"{row['folder']}\t{row['deployment'] or '-'}\timage {image}"
                f"\tdeployment {row['deployment_action']}{changed}"
                + (f": {row['error']}" if row.get("error") else "")
                + (f"\towner {row['owner']}" if row.get("owner") else ""),
            )
        for line in pool_lines(plan):
            _line(console, line)
        print_deletions(plan.image_deletions, console, planned=True)
        _line(console, plan.build.describe())
        return
    table = Table(title="prefect-flow-deploy plan", caption=plan.build.describe(), show_lines=False)
    for column in ("folder", "deployment", "image", "why", "deployment action", "owner"):
        table.add_column(column, overflow="fold")
    for row in plan_rows(plan):
        action = row["deployment_action"]
        action += _changed(row)
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    row["folder"],
                    row["deployment"] or "-",
                    row["image_action"] or "-",
                    row["image_reason"] or "",
                    action,
                    row.get("owner") or "",
                )
            )
        )
    console.print(table)
    for line in pool_lines(plan):
        console.print(Text(line, style="yellow"))
    print_deletions(plan.image_deletions, console, planned=True)


def result_rows(result: RunResult) -> list[dict[str, Any]]:
    return [asdict(r) for r in result.results]


def print_result(result: RunResult, console: Console) -> None:
    c = result.counters
    if not console.is_terminal:
        for row in sorted(
            result.results, key=lambda r: (r.status != "failed", r.project, r.folder, r.flow)
        ):
            error = _first_line(row.error)
            _line(
                console,
                f"{row.project}/{row.folder}\t{row.flow}/{row.deployment}\timage {row.image_status}\t{row.status}{error}",
            )
        _line(
            console,
            f"{len(result.results)} deployments in {result.seconds:.1f}s: built {c.built}, pushed {c.pushed}, "
            f"deployment writes {c.deployment_writes}",
        )
        print_deletions(result.image_deletions, console, planned=False)
        return
    table = Table(
        title=f"prefect-flow-deploy: {len(result.results)} deployments in {result.seconds:.1f}s"
    )
    for column in ("project", "folder", "flow", "deployment", "image", "status"):
        table.add_column(column, overflow="fold")
    for row in sorted(
        result.results, key=lambda r: (r.status != "failed", r.project, r.folder, r.flow)
    ):
        # Text, not markup: an error may hold brackets ("[/bin/sh -c …]").
        error = _first_line(row.error)
        table.add_row(
            *(Text(cell) for cell in (row.project, row.folder, row.flow, row.deployment)),
            Text(row.image_status),
            Text(row.status + error, style="red" if row.status == "failed" else ""),
        )
    console.print(table)
    console.print(f"built {c.built}, pushed {c.pushed}, deployment writes {c.deployment_writes}")
    print_deletions(result.image_deletions, console, planned=False)


def _first_line(error: str | None) -> str:
    """A row's error, one line of it: the whole message (a build's log) was printed at its
    file and line already, and was repeated under every deployment of the folder (239 lines
    for one failed RUN of Stjefan/prefect-flows' 8 flows)."""
    lines = (error or "").strip().splitlines()
    if not lines:
        return ""
    return f": {lines[0]}" + (" (the rest above)" if len(lines) > 1 else "")


def _changed(row: dict[str, Any]) -> str:
    if row["changes"]:
        changes = {k: (v["old"], v["new"]) for k, v in row["changes"].items()}
        return f" ({'; '.join(describe_changes(changes))})"
    return f" ({', '.join(row['changed_fields'])})" if row["changed_fields"] else ""


def human_size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    raise AssertionError("unreachable")


def total_freed(deletions: Sequence[ImageDeletion]) -> int | None:
    sizes = [d.freed for d in deletions if d.freed is not None]
    return sum(sizes) if sizes else None


def print_deletions(deletions: Sequence[ImageDeletion], console: Console, planned: bool) -> None:
    """keep-images: one line per image (all its tags), then the total."""
    for d in deletions:
        verb = "would delete" if planned else d.outcome
        _line(
            console,
            f"{verb}\t{d.repository}:{','.join(d.tags)}\t{d.digest[:19]}\tcreated {d.created[:19] or '?'}"
            f"\tfrees {human_size(d.freed)}",
        )
    if deletions:
        total = total_freed(deletions)
        _line(
            console,
            f"keep-images: {len(deletions)} images {'to delete' if planned else 'deleted'}"
            + (
                f", {human_size(total)} freed after the registry's garbage collection"
                if total is not None
                else ""
            ),
        )


def _line(console: Console, text: str) -> None:
    """A plain line, tabs kept (rich would expand them)."""
    print(text, file=console.file, flush=True)
