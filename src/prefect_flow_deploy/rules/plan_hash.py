"""What of a plan matters, and its hash: the value a reviewer approves.

`essence` is every decision a deploy of the plan acts on, and nothing that depends on the
machine that made it (no absolute path, no message text): the options that shape a plan,
per folder its image (repository, tag, action, digest of one that exists), per deployment
its action with the whole deployment to write (the spec without its prefect.yaml positions),
the deployment id it updates or removes, each field's old and new value and the trigger
writes, the work pools it names (type, base job template, whether one is created) and the
Prefect API it was planned against. `plan_hash` is the SHA-256 of that as canonical JSON:
the plan comment shows it, `plan --out` records and prints it, and `deploy --plan` applies
a file only when a plan made afresh from the world has the same one. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from prefect_flow_deploy.core.model import DeploymentPlan, ImagePlan, Plan
from prefect_flow_deploy.core.urls import without_credentials

# The spec's prefect.yaml positions: where a value was read, not what is written.
_POSITIONS = ("source_file", "source_line", "source_lines")


def essence(plan: Plan, shaping: Mapping[str, Any]) -> dict[str, Any]:
    used = {d.spec.work_pool for d in plan.deployments if d.spec is not None}
    found: dict[str, Any] = _canonical(
        {
            "options": dict(shaping),
            "api_url": without_credentials(plan.api_url) if plan.api_url else None,
            "images": sorted((_image(i) for i in plan.images), key=_sort_key),
            "deployments": sorted((_deployment(d) for d in plan.deployments), key=_sort_key),
            "pools": {
                name: {"type": pool.type, "template": pool.template, "exists": pool.exists}
                for name, pool in sorted(plan.pools.items())
                if name in used
            },
        }
    )
    return found


def plan_hash(plan: Plan, shaping: Mapping[str, Any]) -> str:
    """The hex SHA-256 of the plan's essence as canonical JSON."""
    text = json.dumps(essence(plan, shaping), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs between two essences, one line each (the part and the entry)."""
    lines = [
        f"{part}: {before.get(part)!r} in the file, {after.get(part)!r} now"
        for part in ("options", "api_url")
        if before.get(part) != after.get(part)
    ]
    for part in ("images", "deployments"):
        old = {_name(e): e for e in before.get(part) or []}
        new = {_name(e): e for e in after.get(part) or []}
        lines += [
            f"{part}: {name} differs from the plan made from the world now"
            for name in sorted(old.keys() | new.keys())
            if old.get(name) != new.get(name)
        ]
    pools_before, pools_after = before.get("pools") or {}, after.get("pools") or {}
    lines += [
        f"pools: {name} (its type, template or creation) differs from what the server holds "
        "or would create now"
        for name in sorted(pools_before.keys() | pools_after.keys())
        if pools_before.get(name) != pools_after.get(name)
    ]
    return lines


def _image(image: ImagePlan) -> dict[str, Any]:
    return {
        "folder": image.folder.key,
        "repository": image.repository,
        "tag": image.tag,
        "action": image.action,
        "digest": image.digest if image.action == "exists" else None,
    }


def _deployment(deployment: DeploymentPlan) -> dict[str, Any]:
    spec = None
    if deployment.spec is not None:
        spec = {k: v for k, v in asdict(deployment.spec).items() if k not in _POSITIONS}
    return {
        "folder": deployment.folder_key,
        "name": deployment.full_name,
        "action": deployment.action,
        "deployment_id": deployment.deployment_id,
        "spec": spec,
        "changed_fields": list(deployment.changed_fields),
        "changes": deployment.changes,
        "trigger_writes": [list(w) for w in deployment.trigger_writes],
        "owner": deployment.owner,
    }


def _name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("name") or entry.get("folder"))


def _sort_key(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, default=str)


def _canonical(value: Any) -> Any:
    """JSON's own types, as a plan file holds them after a round trip (tuples are lists,
    keys are strings)."""
    result: Any = json.loads(json.dumps(value, sort_keys=True, default=str))
    return result
