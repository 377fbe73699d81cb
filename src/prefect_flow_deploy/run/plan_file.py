"""The plan as a file, for a review before the deploy: `plan --out plan.json` writes it;
`deploy --plan plan.json` applies exactly it, or refuses (exit 8) when the world it was made
from has moved: the repository (a folder's content tag), the registry (an image the plan says
exists is gone) or the server (a deployment it read was changed, created or deleted).

The file is the Plan as JSON (pydantic's reading of the dataclasses in model.py), versioned,
with the options that shaped it and its hash (plan_hash.py). It holds no secret value: the
registry password, the API key and build-secret values are never in a Plan (build secrets
are ids only), build args under credential-looking names are blanked, every value the logger
masks is masked, and the API URL holds no login.

Whoever can edit the file (the author of a pull request, in the README's review recipe) must
not steer a deploy with it. So it is read strictly (a key or an entry given twice, a field
the plan has no place for, a hash that is not its content's: refused, plan_file_checks.py),
and what a deploy runs is never the file's: it is a plan made afresh from the world, applied
only when its hash equals the file's (every image, deployment, removal id and pool template
alike). `what_moved` says, for the usual moves, what moved (pure)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect_flow_deploy.core.errors import ConfigurationError, PlanMovedError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import DeploymentPlan, Plan
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.core.urls import without_credentials
from prefect_flow_deploy.rules.plan_file_checks import (
    DuplicateKey,
    duplicate_entries,
    duplicate_keys,
    outside_registry,
    unknown_fields,
)
from prefect_flow_deploy.rules.plan_hash import differences, essence, plan_hash
from prefect_flow_deploy.settings.options import SECRET_NAME, Options

if TYPE_CHECKING:
    from pydantic import TypeAdapter

FORMAT = "prefect-flow-deploy plan"
VERSION = 3  # 2: the plan's hash, checked strictly; 3: orphans, pools to create, checks, keep-images decided
HIDDEN = "(hidden)"
AGAIN = "Make the plan again (`prefect-flow-deploy plan --out FILE`), review it, and deploy that."


@dataclass(frozen=True)
class PlanFile:
    format: str
    version: int
    options: dict[str, Any]  # the options that shape a plan (no secret among them)
    plan: Plan
    hash: str = ""  # plan_hash of `plan` with `options`: what the reviewer approved


@cache
def _adapter() -> TypeAdapter[PlanFile]:
    from pydantic import TypeAdapter  # only for a plan file

    return TypeAdapter(PlanFile)


def shaping_options(options: Options) -> dict[str, Any]:
    """The options a deploy of the plan must share with the plan: they decide what is built
    and written (the rest of the configuration shows in the plan's own decisions)."""
    return {
        "registry": options.registry,
        "tenant": options.tenant,
        "repository": options.repository,
        "flows": options.flows,
        "force": options.force,
        "force_order": options.force_order,
        "prune": options.prune,
        "platforms": list(options.platform_list),
        "keep_images": options.keep_images,
        "preview": options.preview,  # a pull request's previews are not its deployments
        "preview_closed": options.preview_closed,
        "build_secrets": sorted(options.build_secrets),  # ids only
    }


def hash_of(plan: Plan, options: Options) -> str:
    """The plan's hash (plan_hash.py) with these options."""
    return plan_hash(plan, shaping_options(options))


def dump(plan: Plan, options: Options) -> str:
    recipes = {
        key: replace(
            recipe,
            build_args={
                k: HIDDEN if SECRET_NAME.search(k) else v for k, v in recipe.build_args.items()
            },
        )
        for key, recipe in plan.recipes.items()
    }
    api_url = without_credentials(plan.api_url) if plan.api_url else None
    plan = replace(plan, recipes=recipes, api_url=api_url)
    document = PlanFile(FORMAT, VERSION, shaping_options(options), plan, hash_of(plan, options))
    data = _adapter().dump_python(document, mode="json")
    return log.redact(json.dumps(data, indent=1)) + "\n"


def load(path: Path) -> PlanFile:
    """The plan file at `path`, read strictly; ConfigurationError for a file that is not a
    plan of this version, PlanMovedError for one that is not as `plan --out` wrote it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=duplicate_keys)
    except DuplicateKey as exc:
        raise _refused(path, [f"the file: {exc}"]) from exc
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read this plan file ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigurationError(
            f"{path}: not a plan file of prefect-flow-deploy (write one with `prefect-flow-deploy "
            "plan --out FILE`)."
        )
    if data.get("version") != VERSION:
        raise ConfigurationError(
            f"{path}: a plan file of version {data.get('version')!r}; this prefect-flow-deploy "
            f"reads version {VERSION}. Make the plan again with this version."
        )
    from pydantic import ValidationError

    try:
        saved = _adapter().validate_python(data)
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: this plan file is damaged: {exc}") from exc
    back = _adapter().dump_python(saved, mode="json")
    problems = [f"{field}: unknown field (no plan has it)" for field in unknown_fields(data, back)]
    problems += duplicate_entries(saved.plan)
    if not problems and saved.hash != plan_hash(saved.plan, saved.options):
        problems.append(
            f"the file: its content does not have the hash it records (sha256:{saved.hash}): "
            "it was edited after it was made"
        )
    if problems:
        raise _refused(path, problems)
    return saved


def refusals(saved: PlanFile, options: Options) -> list[str]:
    """What makes the saved plan one this run would never make, whatever the world: an
    image outside its registry prefix, a deployment running another image."""
    return outside_registry(saved.plan, options.registry)


def _refused(path: Path, problems: list[str]) -> PlanMovedError:
    return PlanMovedError(
        f"{path} is not a plan as `prefect-flow-deploy plan --out` wrote it, so it is not "
        "applied (nothing was built or written):\n"
        + "\n".join(f"- {line}" for line in problems)
        + f"\n{AGAIN}"
    )


# -- what moved ------------------------------------------------------------------------------


def what_moved(saved: PlanFile, fresh: Plan, options: Options) -> list[str]:
    """Why the saved plan can no longer be applied as it is, one line each; [] when the
    repository, the registry and the server are as it saw them, and a plan made now is the
    saved one on every field that matters (its hash)."""
    moved = _options_moved(saved.options, shaping_options(options))
    moved += _repository_moved(saved.plan, fresh)
    moved += _registry_moved(saved.plan, fresh)
    moved += _server_moved(saved.plan, fresh, options)
    if not moved:  # anything else that would make another plan (the config file, …)
        moved += _decisions_moved(saved.plan, fresh)
    if not moved and saved.hash != hash_of(fresh, options):
        moved += differences(
            essence(saved.plan, saved.options), essence(fresh, shaping_options(options))
        ) or ["plan: a plan made now has another hash than the file's"]
    return moved


def _options_moved(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [
        f"options: {name} was {before.get(name)!r} for the plan and is {now[name]!r} now"
        for name in now
        if before.get(name) != now[name]
    ]


def _repository_moved(saved: Plan, fresh: Plan) -> list[str]:
    before = {f.key: f for f in saved.folders}
    now = {f.key: f for f in fresh.folders}
    moved = [f"repository: {key} is new" for key in sorted(now.keys() - before.keys())]
    moved += [f"repository: {key} is gone" for key in sorted(before.keys() - now.keys())]
    tags = {i.folder.key: i for i in saved.images}
    for image in fresh.images:
        old = tags.get(image.folder.key)
        if old is None or old.tag == image.tag:
            continue
        changed = sorted(
            k for k in old.inputs.keys() | image.inputs.keys()
            if old.inputs.get(k) != image.inputs.get(k)
        )  # fmt: skip
        what = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        moved.append(
            f"repository: {image.folder.key} changed ({what or 'its content'}): content tag "
            f"{old.tag} → {image.tag}"
        )
    return moved


def _registry_moved(saved: Plan, fresh: Plan) -> list[str]:
    now = {i.reference: i for i in fresh.images}
    return [
        f"registry: {image.reference} is gone (the plan uses it as it is)"
        for image in saved.images
        if image.action == "exists"
        and (found := now.get(image.reference)) is not None
        and found.action == "build"
    ]


def _server_moved(saved: Plan, fresh: Plan, options: Options) -> list[str]:
    """The deployments the plan read, or that bear on it (its names; this tenant's and
    repository's managed ones), as the server holds them now."""
    from prefect_flow_deploy.deployment.diff import ours

    before = saved.snapshot.deployments if saved.snapshot else {}
    now = fresh.snapshot.deployments if fresh.snapshot else {}
    names = {d.full_name for d in [*saved.deployments, *fresh.deployments]} | {
        n for n, e in [*before.items(), *now.items()] if ours(e, options.tenant, options.repository)
    }
    moved = []
    for name in sorted(names):
        old, new = before.get(name), now.get(name)
        if old is None and new is not None:
            moved.append(f"server: the deployment {name} was created since the plan")
        elif old is not None and new is None:
            moved.append(f"server: the deployment {name} was deleted since the plan")
        elif old is not None and new is not None and _state(old) != _state(new):
            moved.append(f"server: the deployment {name} was changed since the plan")
    return moved


def _state(existing: ExistingDeployment) -> tuple[Any, ...]:
    """What of a deployment the plan depends on (not its `updated` time)."""
    return (
        existing.id,
        sorted(existing.tags),
        existing.comparable,
        existing.image,
        existing.code_dir,
        sorted(a.get("id", "") for a in existing.automations),
    )


def _decisions_moved(saved: Plan, fresh: Plan) -> list[str]:
    before = {(d.folder_key, d.full_name): d for d in saved.deployments}
    now = {(d.folder_key, d.full_name): d for d in fresh.deployments}
    moved = []
    for key in sorted(before.keys() | now.keys()):
        old, new = before.get(key), now.get(key)
        if old is not None and new is not None and old.action == new.action:
            fields = _fields_differing(old, new)
            if fields:
                moved.append(
                    f"plan: the deployment {key[1]} ({key[0]}) would be {new.action} with "
                    f"other values now ({', '.join(fields)})"
                )
        elif old is None or new is None or _decision(old) != _decision(new):
            was = old.action if old else "not in the plan"
            moved.append(
                f"plan: the deployment {key[1]} ({key[0]}) was {was} in the plan and would be "
                f"{new.action if new else 'left alone'} now"
            )
    images = {i.folder.key: (i.reference, i.action) for i in saved.images}
    for image in fresh.images:
        if images.get(image.folder.key, (image.reference, image.action)) != (
            image.reference,
            image.action,
        ):
            moved.append(f"plan: the image of {image.folder.key} would be {image.action} now")
    return moved


def _decision(deployment: DeploymentPlan) -> tuple[Any, ...]:
    spec = deployment.spec
    wanted = replace(spec, source_file=None, source_line=None, source_lines={}) if spec else None
    return (deployment.action, deployment.changes, deployment.deployment_id, wanted)


def _fields_differing(old: DeploymentPlan, new: DeploymentPlan) -> list[str]:
    """The fields of two decisions of one action that differ (spec fields by name)."""
    before, after = _decision(old), _decision(new)
    found = [
        name
        for name, a, b in zip(("action", "changes", "deployment_id"), before, after, strict=False)
        if a != b
    ]
    if before[3] != after[3]:
        a, b = asdict(before[3]) if before[3] else {}, asdict(after[3]) if after[3] else {}
        found += sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return found
