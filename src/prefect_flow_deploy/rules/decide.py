"""Decide: every decision of a run as one pure function, `plan(inputs, options) -> Plan`.

Per folder one outcome (build, and why; exists; failed, with its problems), per deployment
one action (create; update with old → new per field; unchanged; remove; failed, and why),
from what `gather` read. The rules live here, each a small function of plain data:
ownership (tenant, repository), name collisions, take-over, removals and their scope
(`--flows`, shards, an unreadable project), the diff, job variables the work pool refuses,
triggers an old server cannot take, parameter schemas reused from the server. No I/O, no
threads: a unit test runs each rule in milliseconds (tests/unit/rules/test_decide.py)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from prefect_flow_deploy.core.model import (
    DeploymentPlan,
    DeploymentSpec,
    FlowFolder,
    ImageAnswer,
    ImagePlan,
    Plan,
    Problem,
)
from prefect_flow_deploy.core.server_state import ExistingDeployment, ServerState
from prefect_flow_deploy.deployment.commit_order import in_order
from prefect_flow_deploy.deployment.diff import diff
from prefect_flow_deploy.deployment.ownership import not_removed_problems
from prefect_flow_deploy.deployment.schedules import ScheduleError
from prefect_flow_deploy.deployment.triggers import TriggerError
from prefect_flow_deploy.rules import previews
from prefect_flow_deploy.rules.collisions import image_collisions, name_collisions
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.rules.job_variables import JobVariableCheck
from prefect_flow_deploy.rules.keep_images import retention
from prefect_flow_deploy.rules.pending_names import (
    awaiting_image,
    never_checked,
    pending_folders,
    reuse_name,
)
from prefect_flow_deploy.rules.pools import pools_to_create
from prefect_flow_deploy.rules.refusals import refused_variables, would_refuse
from prefect_flow_deploy.rules.removals import SUPERSEDED_BUILD, all_superseded, orphaned, removals
from prefect_flow_deploy.rules.server_variables import missing_variables, resolved
from prefect_flow_deploy.rules.server_version import triggers_unsupported, version_info_rule
from prefect_flow_deploy.rules.spec_checks import spec_problems
from prefect_flow_deploy.rules.specs import (
    NO_SUCH_FLOW,
    deployment_specs,
    fit_pool,
    previous_images,
    unbuilt_specs,
    why_build,
)
from prefect_flow_deploy.rules.takeover import other_folder, other_repository, other_tenant
from prefect_flow_deploy.settings.options import Options

__all__ = ["other_folder", "other_repository", "other_tenant", "plan"]

Problems = dict[str, list[Problem]]  # new problems by folder key (local to one decision)


def plan(inputs: Inputs, options: Options) -> Plan:
    problems: Problems = defaultdict(list)
    for key, found in image_collisions(list(inputs.folders), options).items():
        problems[key] += found
    images: dict[str, _Image] = {}
    known = _Known(inputs.snapshot, options)
    for folder in inputs.folders:
        image = _image(folder, inputs, options, known, problems)
        if image is not None:
            images[folder.key] = image
    refused: list[DeploymentPlan] = []  # of folders that fail as a whole, by name
    specs = _specs(inputs, options, images, problems, refused)
    by_key = {f.key: f for f in inputs.folders}
    for key, found in name_collisions(specs, by_key).items():
        problems[key] += found
    snapshot = inputs.snapshot
    for key, group in specs.items():  # before the checks: parameters are judged against it
        group = [reuse_name(s, snapshot) for s in group]
        specs[key] = [reuse_schema(s, snapshot.deployments.get(s.full_name)) for s in group]
    unnamed = pending_folders(s for group in specs.values() for s in group)
    unnamed |= {k for k, found in problems.items() if any(p.title == NO_SUCH_FLOW for p in found)}
    for key, group in specs.items():  # what the server would refuse (spec_checks.py)
        problems[key] += [
            p for s in group for p in spec_problems(by_key[key], s, options, inputs.parameters_at)
        ]
    deployments = refused + _failed_flows(inputs.folders, images, specs, problems)
    read = {f.key for f in inputs.folders}
    checks = {name: JobVariableCheck(p.template) for name, p in inputs.pools.items()}  # once a pool
    for folder in inputs.folders:
        wanted, image = specs.get(folder.key), images.get(folder.key)
        if wanted is None or image is None or image.failed:
            continue
        deployments += _folder_deployments(
            folder, image, wanted, inputs, options, read, checks, problems
        )
    have = {d.folder_key for d in deployments}  # a folder failed before: each one by name
    deployments += [
        failed_plan(spec, _first_error(f, problems))
        for f in inputs.folders
        if f.flows and f.key not in have and _failed(f, problems)
        for spec in unbuilt_specs(f, options)
    ]
    unrecorded: list[tuple[str, str]] = []
    if options.preview is None:
        failed = functools.partial(_failed, problems=problems)
        deployments += removals(inputs, options, deployments, failed, unnamed, unrecorded)
    kept = {f.key for f in inputs.folders if _failed(f, problems) or f.key not in inputs.recipes}
    kept |= unnamed  # a flow named after the build: which deployment is gone is unknown
    deployments += previews.removals(
        snapshot, options, {d.full_name for d in deployments}, kept, inputs.pull_states
    )
    deployments, ordering = in_order(
        deployments, {n: e.tags for n, e in snapshot.deployments.items()}, inputs.commit,
        inputs.relations, inputs.now, options.force_order,
    )  # fmt: skip
    deployments = orphaned(deployments, options)
    for key in all_superseded(deployments):
        if key in images and images[key].action == "build":
            images[key].action, images[key].reason = "skipped", SUPERSEDED_BUILD
    folders = [_with_problems(f, problems.get(f.key, [])) for f in inputs.folders]
    by_key = {f.key: f for f in folders}
    checked = awaiting_image(deployments) | never_checked(deployments, snapshot)
    frozen = [
        image.frozen(by_key[key], key in checked, known.previous.get(key))
        for key, image in images.items()
    ]
    version_info, why_not = version_info_rule(inputs.api_is_cloud)
    return Plan(
        folders=folders,
        images=frozen,
        deployments=deployments,
        problems=[
            *ordering,
            *not_removed_problems(
                unrecorded, options.repository, {f.project for f in inputs.folders}
            ),
        ],
        recipes={k: inputs.recipes[k] for k in images if k in inputs.recipes},
        snapshot=snapshot,
        pools=dict(inputs.pools),
        api_url=inputs.api_url,
        build=options.build_plan(),
        pools_to_create=pools_to_create(inputs.pools, deployments),
        version_info=version_info,
        version_info_reason=why_not,
        retention=retention(frozen, deployments, snapshot, options),
    )


# -- images ----------------------------------------------------------------------------------

# An image whose content tag was not computed nor the registry asked (validate, new): a
# world not asked is not checked, not missing.
NOT_CHECKED = "not checked: neither the base images nor the registry were asked"


class _Image:
    """One folder's image while the decision is being made (frozen into an ImagePlan)."""

    def __init__(self, answer: ImageAnswer, action: str, reason: str, code_dir: str | None):
        self.answer, self.action, self.reason, self.code_dir = answer, action, reason, code_dir

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    def fail(self, reason: str) -> None:
        self.action, self.reason = "failed", reason

    @property
    def reference(self) -> str:
        return f"{self.answer.repository}:{self.answer.tag or 'unknown'}"

    def frozen(
        self, folder: FlowFolder, awaited: bool = False, previous: str | None = None
    ) -> ImagePlan:
        """`awaited`: a deployment to write waits for what only the image tells (a schema, a
        flow name); `previous`: the image the folder runs now (a build's cache source)."""
        answer = self.answer
        exists = self.action == "exists"
        return ImagePlan(
            folder, answer.repository, answer.tag or "unknown", dict(answer.inputs),
            self.action, self.reason, self.code_dir, answer.digest,  # type: ignore[arg-type]
            check=exists and (self.code_dir is None or awaited),
            cache_from=previous if self.action == "build" else None,
            last_build_seconds=answer.previous_build_seconds,
        )  # fmt: skip


def _failed(folder: FlowFolder, problems: Problems) -> bool:
    return folder.failed or any(
        p.severity == "error" and p.flow is None for p in problems.get(folder.key, [])
    )


class _Known:
    """What the server's deployments tell about images, read once per plan: where an image
    holds its code, and the image each folder runs now."""

    def __init__(self, snapshot: ServerState, options: Options) -> None:
        deployments = snapshot.deployments.values()
        self.code_dirs = {e.image: e.code_dir for e in deployments if e.image and e.code_dir}
        self.previous = previous_images(snapshot, options)


def _image(
    folder: FlowFolder, inputs: Inputs, options: Options, known: _Known, problems: Problems
) -> _Image | None:
    """The folder's image: failed (base image, registry), exists, or build and why. None for
    a folder that does not become an image (failed already, no flow, unreadable inputs)."""
    key = folder.key
    if _failed(folder, problems) or not folder.flows:
        return None
    if key in inputs.recipe_errors:
        problems[key].append(
            Problem(
                "error", f"cannot read the build inputs: {inputs.recipe_errors[key]}", folder.path
            )
        )
        return None
    recipe, answer = inputs.recipes.get(key), inputs.images.get(key)
    if recipe is None or answer is None:
        return None
    if options.preview is not None and (
        options.preview_closed
        or not previews.changed(f"{answer.repository}:{answer.tag}", known.previous.get(key))
    ):
        return None  # a pull request's preview: only what differs from production
    problems[key] += inputs.file_warnings.get(key, ())
    if answer.base_error is not None:
        message, line = answer.base_error
        problems[key].append(
            Problem("error", message, folder.dockerfile, line or None, "Base image")
        )
        return _Image(answer, "failed", message, None)
    if answer.tag is None:  # validate, new: the registry was not asked (an unknown world)
        return _Image(answer, "build", NOT_CHECKED, recipe.expected_code_dir)
    reference = f"{answer.repository}:{answer.tag}"
    code_dir = recipe.expected_code_dir or known.code_dirs.get(reference)
    if answer.registry_error is not None:
        problems[key].append(Problem("error", answer.registry_error, folder.path, title="Registry"))
        return _Image(answer, "failed", answer.registry_error, code_dir)
    if answer.digest and not options.force:
        where = "registry" if options.registry else "local engine"
        return _Image(
            answer, "exists", f"an image with this content is already in the {where}", code_dir
        )
    reason = "--force" if options.force else why_build(answer, known.previous.get(key))
    return _Image(answer, "build", reason, code_dir)


# -- deployments -----------------------------------------------------------------------------


def _specs(
    inputs: Inputs,
    options: Options,
    images: Mapping[str, _Image],
    problems: Problems,
    refused: list[DeploymentPlan],
) -> dict[str, list[DeploymentSpec]]:
    """The deployments each folder wants, fitted to their work pools. A folder whose pool
    cannot take them fails as a whole: its deployments go to `refused`, each by its name."""
    specs: dict[str, list[DeploymentSpec]] = {}
    for folder in inputs.folders:
        image = images.get(folder.key)
        if image is None or image.failed:
            continue
        if options.preview is None:
            group, found = deployment_specs(
                folder, image.frozen(folder), options, dict(inputs.pools)
            )
        else:
            group, found = _previews(folder, image, options, inputs)
        found += missing_variables(group, inputs.variables) if inputs.variables_asked else []
        group = [replace(s, parameters=resolved(s.parameters, inputs.variables)) for s in group]
        problems[folder.key] += found
        if _failed(folder, problems):
            image.fail(_first_error(folder, problems))
            refused += [failed_plan(spec, image.reason) for spec in group if found]
            continue
        specs[folder.key] = group
    return specs


def _previews(
    folder: FlowFolder, image: _Image, options: Options, inputs: Inputs
) -> tuple[list[DeploymentSpec], list[Problem]]:
    """The folder's deployments as the pull request's previews, fitted to their pool (the
    preview pool, when the tenant names one)."""
    assert options.preview is not None
    group, found = deployment_specs(folder, image.frozen(folder), options)
    specs = []
    for spec in group:
        spec = previews.as_preview(spec, options.preview, options.preview_work_pool)
        if spec.work_pool in inputs.pools:
            spec, problem = fit_pool(spec, inputs.pools[spec.work_pool], options)
            found += [problem] if problem else []
        specs.append(spec)
    return specs, found


def _first_error(folder: FlowFolder, problems: Problems) -> str:
    return next(
        p.message
        for p in [*folder.problems, *problems.get(folder.key, [])]
        if p.severity == "error"
    )


def _failed_flows(
    folders: Iterable[FlowFolder],
    images: Mapping[str, _Image],
    specs: dict[str, list[DeploymentSpec]],
    problems: Problems,
) -> list[DeploymentPlan]:
    """Take out of `specs` the deployments of flows that fail on their own (a collision), or
    that fail alone (a work pool their entry names), as failed plans; a folder left with
    nothing to deploy is not built."""
    failed: list[DeploymentPlan] = []
    for folder in folders:
        group = specs.get(folder.key)
        if group is None:
            continue
        errors = {
            p.flow: p.message
            for p in reversed([*folder.problems, *problems.get(folder.key, [])])
            if p.severity == "error" and p.flow is not None
        }
        # its flow's error, or its own
        why = {s.full_name: _flow_error(errors, s) for s in group}
        kept = [s for s in group if why[s.full_name] is None]
        for spec in (s for s in group if why[s.full_name] is not None):  # said in one pass
            failed.append(failed_plan(spec, why[spec.full_name] or ""))
            problems[folder.key] += would_refuse(spec, flow=spec.entrypoint)
        if not kept and len(kept) < len(group):
            images[folder.key].fail("every flow of the folder failed")
            del specs[folder.key]
        else:
            specs[folder.key] = kept
    return failed


def _flow_error(errors: Mapping[str, str], spec: DeploymentSpec) -> str | None:
    """Why this deployment fails alone: its flow's error, its file's, or its own."""
    file = spec.entrypoint.rpartition(":")[0]
    return errors.get(spec.entrypoint) or errors.get(f"{file}:*") or errors.get(spec.full_name)


def failed_plan(spec: DeploymentSpec, error: str) -> DeploymentPlan:
    return DeploymentPlan(spec, spec.full_name, spec.folder_key, "failed", error=error)


def reuse_schema(spec: DeploymentSpec, existing: ExistingDeployment | None) -> DeploymentSpec:
    """A schema only the built image can compute (image_programs.image_schemas) was computed from
    this very content when the deployment holds this image's content tag: reuse it (a
    re-run with no change runs no container)."""
    if spec.parameter_schema is not None or existing is None:
        return spec
    held = existing.comparable
    if held.get("version") == spec.version and held.get("entrypoint") == spec.entrypoint:
        return replace(spec, parameter_schema=held.get("parameter_openapi_schema") or None)
    return spec


def _folder_deployments(
    folder: FlowFolder,
    image: _Image,
    specs: list[DeploymentSpec],
    inputs: Inputs,
    options: Options,
    read: set[str],
    checks: Mapping[str, JobVariableCheck],
    problems: Problems,
) -> list[DeploymentPlan]:
    """The folder's deployments against the server. One that belongs to someone else fails
    alone; a schedule, trigger or job variable the server would refuse fails the folder
    before anything is built."""
    state = inputs.snapshot
    failed: list[DeploymentPlan] = []
    mine: list[DeploymentSpec] = []
    for spec in specs:
        existing = state.deployments.get(spec.full_name)
        taken = (
            other_tenant(spec.full_name, existing, options.tenant)
            or other_repository(spec.full_name, existing, options.repository)
            or other_folder(spec, existing, read, inputs.other_folders)
            or (previews.rule(spec.full_name, existing.tags, options.preview) if existing else None)
        )
        if taken is None:
            mine.append(spec)
            continue
        problems[folder.key].append(
            Problem(
                "error", taken, spec.source_file, spec.source_line, "Name collision",
                flow=spec.entrypoint,
            )
        )  # fmt: skip
        failed.append(failed_plan(spec, taken))
    if not mine and failed:
        image.fail(failed[0].error or "")
        return failed
    plans: list[DeploymentPlan] = []
    refusals: dict[str, list[Problem]] = {}  # a refusal fails the folder; all said, in one pass
    for spec in mine:
        try:
            planned = diff(spec, state.deployments.get(spec.full_name))
        except (ScheduleError, TriggerError) as exc:
            refusals[spec.full_name] = would_refuse(spec, exc)
            continue
        refused = planned.trigger_writes and triggers_unsupported(
            state.server_version, inputs.api_url or ""
        )
        if refused:
            line = spec.source_lines.get("triggers", spec.source_line)
            refusals[spec.full_name] = [
                Problem("error", refused, spec.source_file, line, "prefect.yaml triggers")
            ]
            continue
        problem = refused_variables(planned, checks, options)
        if problem is not None:
            refusals[spec.full_name] = [problem]
            continue
        plans.append(replace(planned, preview=options.preview))
    said = [p for found in refusals.values() for p in found]
    if said:
        problems[folder.key] += said
        image.fail(said[0].message)
        # Each deployment of the folder by its name, with why it is not written (it was one
        # row "image failed" for a deployment named "-": tig0826/prefect-workflow).
        return failed + [
            failed_plan(spec, _not_written(refusals.get(spec.full_name), said[0])) for spec in mine
        ]
    return failed + plans


def _not_written(own: list[Problem] | None, first: Problem) -> str:
    if own:
        return own[0].message
    return f"not written: the folder's image is not built while another of its deployments is refused ({first.message})"


def _with_problems(folder: FlowFolder, found: list[Problem]) -> FlowFolder:
    return replace(folder, problems=[*folder.problems, *found]) if found else folder
