"""The pieces of a plan that are one folder's business: its build recipe and content tag,
why its image is built, the deployments it wants (fitted to their work pools).

Used by gather (recipes and tags: they read files) and decide (everything else: pure).
Planning needs no Docker engine: tags are content hashes and the registry is asked over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from prefect_flow_deploy.core.model import (
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImageAnswer,
    ImagePlan,
    Problem,
    config_matches,
)
from prefect_flow_deploy.core.naming import INPUTS_LABEL, flow_name_from_function
from prefect_flow_deploy.core.server_state import Pool, ServerState
from prefect_flow_deploy.deployment.diff import ours
from prefect_flow_deploy.deployment.field_loops import spec_values
from prefect_flow_deploy.deployment.field_types import Source
from prefect_flow_deploy.rules.pools import (
    IMAGE_VARIABLE,
    cannot_run_images,
    missing_pool,
    unknown_variables,
)
from prefect_flow_deploy.rules.pools import job_variables as pool_job_variables
from prefect_flow_deploy.rules.previews import as_preview
from prefect_flow_deploy.settings.options import Options


def previous_images(state: ServerState, options: Options) -> dict[str, str]:
    """Per folder, the image its deployments run now (this tenant's and repository's, in
    production: a pull request's preview is not what the folder runs)."""
    from prefect_flow_deploy.rules.previews import is_preview

    previous: dict[str, str] = {}
    for existing in state.deployments.values():
        key = existing.folder_key()
        if is_preview(existing):
            continue
        if key and existing.image and ours(existing, options.tenant, options.repository):
            previous.setdefault(key, existing.image)
    return previous


def why_build(answer: ImageAnswer, previous_image: str | None) -> str:
    """Why an image is built: new, from another repository, or which inputs changed since
    the deployed image (its inputs label, read by gather)."""
    if not previous_image:
        return "new: no deployed image for this folder yet"
    if not previous_image.startswith(answer.repository + ":"):
        return f"the deployed image {previous_image} is from another repository"
    before = answer.previous_inputs or {}
    if not before:
        return f"content changed since {previous_image.rsplit(':', 1)[1]}"
    now = {k: v[:12] for k, v in answer.inputs.items()}
    changed = sorted(k for k in set(now) | set(before) if now.get(k) != before.get(k))
    return (
        "changed: "
        + ", ".join(_describe(k, k in now, k in before) for k in changed[:8])
        + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    )


def previous_inputs(labels: dict[str, str]) -> dict[str, str]:
    """The inputs label of an image (what its tag was a hash of), {} when unreadable."""
    try:
        before = json.loads(labels.get(INPUTS_LABEL, "{}"))
    except ValueError:
        return {}
    return before if isinstance(before, dict) else {}


def _describe(key: str, now: bool, before: bool) -> str:
    kind, _, name = key.partition(":")
    label = {
        "file": name,
        "base": f"base image {name} digest",
        "build-arg": f"build arg {name}",
        "secret": f"build secret {name}",
    }.get(kind, "the default recipe" if key == "recipe" else key)
    if now and not before:
        return f"{label} (added)"
    if before and not now:
        return f"{label} (removed)"
    return label


def compact_inputs(inputs: dict[str, str]) -> str:
    """The inputs label: short digests, enough to name what changed next time."""
    return json.dumps({k: v[:12] for k, v in inputs.items()}, sort_keys=True, separators=(",", ":"))


# -- deployments ---------------------------------------------------------------------------


# The title of an entry naming no flow of its folder: it fails alone, and its folder keeps
# its deployments from removal (which one the entry meant is unknown: a typo'd entrypoint of
# a deployed entry must not prune it).
NO_SUCH_FLOW = "prefect.yaml entry names no flow"


def deployment_specs(
    folder: FlowFolder, image: ImagePlan, options: Options, pools: dict[str, Pool] | None = None
) -> tuple[list[DeploymentSpec], list[Problem]]:
    """One deployment per flow, or one per prefect.yaml entry that names the flow. With the
    work pools known, each deployment's job variables are fitted to its pool (a pool that
    cannot run an image, or a variable it does not declare, fails the folder; the deployment
    alone when its entry names the pool)."""
    specs, problems = [], []
    for flow in folder.flows:
        configs = [c for c in folder.deployment_configs if config_matches(c, flow)]
        for config in configs or [DeploymentConfig()]:
            spec = _spec(folder, flow, config, image, options)
            if pools is not None and spec.work_pool in pools:
                spec, problem = fit_pool(spec, pools[spec.work_pool], options)
                if problem is not None and "work_pool.name" in spec.source_lines:
                    problem = replace(problem, flow=spec.full_name)  # this entry's own pool
                if problem is not None and problem not in problems:
                    problems.append(problem)
            specs.append(spec)
    for config in folder.deployment_configs:
        if not any(config_matches(config, flow) for flow in folder.flows):
            # The entry fails alone, by its name: the folder's other entries deploy, as with
            # `prefect deploy --all` (one typo'd entrypoint failed the whole folder, its good
            # entries in no output: trial round 11 b 11)
            placeholder = _spec(folder, _named_flow(config), config, image, options)
            specs.append(placeholder)
            problems.append(
                Problem(
                    "error",
                    f"deployment {config.name or '(unnamed)'} names "
                    f"{config.entrypoint or config.flow_name!r}, "
                    + (
                        _as_file(config.entrypoint, folder.flows)
                        or "which is not a @flow in this folder (flows read there: "
                        f"{', '.join(f.entrypoint for f in folder.flows) or 'none'}). Fix the "
                        "function's name, or decorate it with @flow."
                    ),
                    folder.prefect_yaml,
                    config.line,
                    NO_SUCH_FLOW,
                    flow=placeholder.full_name,
                )
            )
    return specs, problems


def _named_flow(config: DeploymentConfig) -> FlowSpec:
    """The flow an entry names that the folder does not have: what its failed row shows."""
    file, _, function = (config.entrypoint or "").rpartition(":")
    function = function or config.flow_name or "?"
    name = config.flow_name or flow_name_from_function(function)
    return FlowSpec(name, function, file or "?", config.line or 0, None, schema_pending="none")


def unbuilt_specs(folder: FlowFolder, options: Options) -> list[DeploymentSpec]:
    """The deployments a folder that fails before its image would make, by name (its flows
    and its prefect.yaml entries, as `deployment_specs` names them), each to be reported
    failed with the folder's error: it was one row `-` for the whole folder, and the action's
    `deployments` and `failed` outputs lost its flows (trial round 11 a 4)."""
    unbuilt = ImagePlan(folder, repository="", tag="", inputs={}, action="failed")
    specs = deployment_specs(folder, unbuilt, options)[0]
    if options.preview is None:
        return specs
    return [as_preview(s, options.preview, options.preview_work_pool) for s in specs]


def _as_file(entrypoint: str | None, flows: Sequence[FlowSpec]) -> str | None:
    """For a module path (`pkg.flows.etl:main`, `pkg.flows.etl.main`, which Prefect imports
    as an installed module), the flow file it names, as the entrypoint to write instead."""
    if not entrypoint or ".py:" in entrypoint:
        return None
    module, colon, function = entrypoint.rpartition(":")
    if not colon:
        module, _, function = entrypoint.rpartition(".")
    for flow in flows:
        dotted = flow.file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        # the folder's path of the module (src/pkg/etl.py), or the module's of the folder's
        # file (pkg.etl: the folder is the package)
        same = (
            dotted == module or f".{module}".endswith(f".{dotted}") or dotted.endswith(f".{module}")
        )
        if flow.function == function and same:
            return (
                "a module path, which this tool does not read (it loads the flow from its "
                f"file in the folder's image): write it as `{flow.entrypoint}`."
            )
    return None


def wanted_names(folder: FlowFolder, preview: int | None = None) -> list[str]:
    """The full names of the deployments the folder wants (as deployment_specs names them;
    a pull request's previews of them with `preview`), without fitting anything: what
    gather asks the server about."""
    from prefect_flow_deploy.rules.previews import preview_name

    names = []
    for flow in folder.flows:
        if flow.name_pending:
            continue  # named in the built image: nothing to ask the server yet
        configs = [c for c in folder.deployment_configs if config_matches(c, flow)]
        for config in configs or [DeploymentConfig()]:
            name = config.name or folder.project
            names.append(
                f"{flow.name}/{preview_name(name, preview) if preview is not None else name}"
            )
    return names


def fit_pool(
    spec: DeploymentSpec, pool: Pool, options: Options
) -> tuple[DeploymentSpec, Problem | None]:
    """The spec with the image (and pull policy) where the pool's template takes it; the
    problem when the pool cannot run an image or a job variable is not one of its
    template's."""
    if not pool.exists and not options.creates_pool(pool.name):
        return spec, _missing_pool_problem(spec, pool, options)
    reason = cannot_run_images(pool)
    if reason is not None:
        line = spec.source_lines.get("work_pool.name", spec.source_line)
        return spec, Problem("error", reason, spec.source_file, line, "Work pool")
    wanted = {k: v for k, v in spec.job_variables.items() if k != IMAGE_VARIABLE}
    spec = replace(spec, job_variables=pool_job_variables(wanted, spec.image, pool))
    unknown = unknown_variables(wanted, pool)
    if not unknown:
        return spec, None
    return spec, variable_problem(
        spec, unknown[0], options,
        f"the job variable `{unknown[0]}` is not one of those of the work pool "
        f"{pool.name!r} (type {pool.type}): the worker would never read it. Its variables: "
        f"{', '.join(sorted(pool.properties))}.",
    )  # fmt: skip


def _missing_pool_problem(spec: DeploymentSpec, pool: Pool, options: Options) -> Problem:
    """A work pool that does not exist, at the prefect.yaml line that names it, or naming
    the option, input or config file line that set it."""
    line = spec.source_lines.get("work_pool.name")
    if line is not None and spec.source_file is not None:
        where = f"{spec.source_file.name}:{line} (work_pool.name)"
        return Problem("error", missing_pool(pool, where), spec.source_file, line, "Work pool")
    source = options.source("work_pool")
    where = f"the default work-pool, {pool.name}" if source == "default" else source
    return Problem("error", missing_pool(pool, where), None, None, "Work pool")


def variable_problem(
    spec: DeploymentSpec, variable: str, options: Options, message: str
) -> Problem:
    """A job variable's problem at its prefect.yaml line, or naming the tenant file."""
    top = variable.split(".")[0]
    if top in options.job_variables or variable in options.job_variables:
        message += " (It comes from the tenant's job-variables in prefect-flow-deploy.yaml.)"
        return Problem("error", message, None, None, "Job variables")
    line = spec.source_lines.get(
        f"job_variables.{variable}",
        spec.source_lines.get(f"job_variables.{top}", spec.source_lines.get("work_pool")),
    )
    return Problem("error", message, spec.source_file, line or spec.source_line, "Job variables")


def _spec(
    folder: FlowFolder, flow: FlowSpec, config: DeploymentConfig, image: ImagePlan, options: Options
) -> DeploymentSpec:
    """Each field's value as deployment_fields.FIELDS makes it, and where it was written."""
    return DeploymentSpec(
        **spec_values(Source(folder, flow, config, image, options)),
        folder_key=folder.key,
        project=folder.project,
        image=image.reference,
        source_file=folder.prefect_yaml if config.line else folder.path / flow.file,
        source_line=config.line or flow.line,
        source_lines=dict(config.lines),
    )
