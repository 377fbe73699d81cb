"""Is a plan file one prefect-flow-deploy would have written? The structural checks made
before a plan file is even compared with the world (plan_file.py), each a pure function
returning one line per thing wrong:

- a key given twice in one JSON object (`duplicate_keys`, the parser's hook);
- a field the plan has no place for, at any depth (`unknown_fields`: the file against the
  typed plan read back, so nothing is silently dropped);
- an entry given twice (`duplicate_entries`: a folder's image, a deployment to write or
  remove, an id to remove): a deploy acts on every entry, so every entry must be unique;
- an image or a deployment's image outside the run's own registry prefix, or not the
  image of its folder (`outside_registry`).

The plan a deploy applies is then made afresh and must have the file's hash (plan_hash.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect_flow_deploy.core.model import Plan
from prefect_flow_deploy.core.naming import image_repository

WRITES = ("create", "update", "remove")


class DuplicateKey(ValueError):
    """A JSON object of the file names one key twice."""


def duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object_pairs_hook: the object, or DuplicateKey naming the key."""
    counts = Counter(key for key, _ in pairs)
    twice = sorted(key for key, n in counts.items() if n > 1)
    if twice:
        raise DuplicateKey(f"the key {twice[0]!r} is given twice in one object")
    return dict(pairs)


def unknown_fields(given: Any, known: Any, where: str = "") -> list[str]:
    """Paths of the fields in `given` (the file) that `known` (the typed plan written back
    as JSON) does not have."""
    found: list[str] = []
    if isinstance(given, dict) and isinstance(known, dict):
        for key, value in given.items():
            path = f"{where}.{key}" if where else str(key)
            if key not in known:
                found.append(path)
            else:
                found += unknown_fields(value, known[key], path)
    elif isinstance(given, list) and isinstance(known, list):
        for index, (value, back) in enumerate(zip(given, known, strict=False)):
            found += unknown_fields(value, back, f"{where}[{index}]")
    return found


def duplicate_entries(plan: Plan) -> list[str]:
    """Entries a deploy would act on more than once."""
    lines = []
    folders = Counter(f.key for f in plan.folders)
    images = Counter(i.folder.key for i in plan.images)
    lines += [f"folders: {key} is in the plan twice" for key, n in folders.items() if n > 1]
    lines += [f"images: {key} is in the plan twice" for key, n in images.items() if n > 1]
    writes = [d for d in plan.deployments if d.action in (*WRITES, "orphan")]
    names = Counter(d.full_name for d in writes)
    lines += [f"deployments: {name} is in the plan twice" for name, n in names.items() if n > 1]
    ids = Counter(d.deployment_id for d in writes if d.deployment_id)
    lines += [
        f"deployments: the deployment id {i} is in the plan twice" for i, n in ids.items() if n > 1
    ]
    return sorted(lines)


def outside_registry(plan: Plan, registry: str) -> list[str]:
    """Images not named as this run names its folders' images (`<registry>/<project>/
    <folder>`), and deployments to write that would run another image than their folder's."""
    lines = []
    references: dict[str, str] = {}
    for image in plan.images:
        try:
            wanted = image_repository(registry, image.folder.project, image.folder.name)
        except ValueError:
            wanted = ""
        references[image.folder.key] = image.reference
        if image.repository != wanted:
            lines.append(
                f"images: {image.folder.key} names {image.reference}, outside this run's "
                f"registry {registry or '(local images)'} (its image is {wanted or 'none'})"
            )
    for deployment in plan.deployments:
        spec = deployment.spec
        if spec is None or deployment.action not in WRITES:
            continue
        if spec.image != references.get(spec.folder_key):
            lines.append(
                f"deployments: {deployment.full_name} would run {spec.image}, which is not "
                f"this run's image of {spec.folder_key} under {registry or '(local images)'}"
            )
    return lines
