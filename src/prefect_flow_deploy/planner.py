"""The pieces of a plan that are one folder's business: its build recipe and content tag,
why its image is built, the deployments it wants (fitted to their work pools).

Used by gather (recipes and tags: they read files) and decide (everything else: pure).
Planning needs no Docker engine: tags are content hashes and the registry is asked over HTTP.
"""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import file_reads
from .context import (
    content_tag,
    context_files,
    large_file_advice,
    large_files,
    read_dockerignore,
    secret_looking_files,
)
from .deployment_fields import Source, spec_values
from .deployments import ours
from .dockerfile import base_images, declared_args
from .errors import RegistryError
from .inputs import ImageAnswer
from .model import (
    BuildRecipe,
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImagePlan,
    Pool,
    Problem,
    ServerState,
)
from .naming import image_component, image_repository
from .options import Options
from .pools import IMAGE_VARIABLE, cannot_run_images, missing_pool, unknown_variables
from .pools import job_variables as pool_job_variables
from .prefect_yaml import config_matches
from .recipe import code_dir as recipe_code_dir
from .recipe import default_dockerfile, default_dockerignore
from .registry import RegistryClient

INPUTS_LABEL = "io.prefect-flow-deploy.inputs"
FOLDER_LABEL = "io.prefect-flow-deploy.folder"
BASE_IMAGE_ARG = "BASE_IMAGE"


def recipe_for(folder: FlowFolder, options: Options) -> BuildRecipe:
    secret_ids = frozenset(options.build_secrets)
    if folder.dockerfile is not None:
        text = file_reads.read_text(folder.dockerfile)
        args = dict(options.build_args)
        if BASE_IMAGE_ARG in declared_args(text):
            args.setdefault(BASE_IMAGE_ARG, options.base_image)
        files = context_files(folder.path, read_dockerignore(folder.path), root=_root(folder))
        bases = [(b.reference, b.line) for b in base_images(text, args)]
        return BuildRecipe(
            None, None, args, bases, {f.path: f.digest for f in files}, None, secret_ids,
            tuple(f.path for f in files if f.linked),
        )  # fmt: skip
    workdir = recipe_code_dir(image_component(folder.project), image_component(folder.name))
    text = default_dockerfile(
        options.base_image,
        workdir,
        folder.requirements is not None,
        folder.requirements_name_files,
        secret_ids,
    )
    ignore = default_dockerignore(read_dockerignore(folder.path))
    patterns = [line for line in ignore.splitlines() if line]
    files = context_files(folder.path, patterns, root=_root(folder))
    return BuildRecipe(
        text,
        ignore,
        {},
        [(options.base_image, 0)],
        {f.path: f.digest for f in files},
        workdir,
        secret_ids,
        tuple(f.path for f in files if f.linked),
    )


def _root(folder: FlowFolder) -> Path:
    """The repository the folder's links may point into (discovery.repository_root)."""
    return _repository_root(folder.path.parent.parent)


@functools.cache
def _repository_root(projects_root: Path) -> Path:
    from .discovery import repository_root  # once per projects root, not per folder

    return repository_root(projects_root)


def large_file_problems(folder: FlowFolder, recipe: BuildRecipe) -> list[Problem]:
    """A very large file in the build context is a warning at the file (reads its size)."""
    return [
        Problem("warning", large_file_advice(path, size), folder.path / path, title="Large file")
        for path, size in large_files(folder.path, recipe.files)
    ]


def secret_file_problems(folder: FlowFolder, recipe: BuildRecipe) -> list[Problem]:
    """A file that looks like credentials is a warning at the file: the build copies it."""
    return [
        Problem(
            "warning",
            f"{path} looks like a credentials file, and the build copies "
            "it into the image, where anyone who can pull the image can read it. Add "
            "it to the folder's .dockerignore (and keep it out of git); give flows "
            "their secrets through Prefect blocks or the work pool's environment.",
            folder.path / path,
            title="Secret in the image",
        )
        for path in secret_looking_files(recipe.files)
    ]


def recipe_with_problems(folder: FlowFolder, options: Options) -> BuildRecipe | None:
    """The folder's recipe, its problems recorded on the folder (validate): a build input
    that cannot be read is an error, a file that looks like credentials a warning."""
    try:
        recipe = recipe_for(folder, options)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        folder.problems.append(
            Problem("error", f"cannot read the build inputs: {exc}", folder.path)
        )
        return None
    folder.problems.extend(large_file_problems(folder, recipe))
    folder.problems.extend(secret_file_problems(folder, recipe))
    return recipe


def _local_image_id(reference: str) -> str | None:
    from .builder import local_image_id  # the Docker SDK: only when the registry cannot tell

    return local_image_id(reference)


class BaseDigests:
    """Base image reference → digest, resolved once per run."""

    def __init__(self, registry: RegistryClient) -> None:
        self.registry = registry
        self.digests: dict[str, str] = {}
        self.problems: dict[str, str] = {}
        self.warnings: dict[str, str] = {}

    def resolve_all(self, references: set[str], workers: int) -> None:
        todo = sorted(references - set(self.digests) - set(self.problems))
        with ThreadPoolExecutor(max_workers=max(1, min(workers, 16))) as pool:
            for reference, outcome in zip(todo, pool.map(self._resolve, todo), strict=True):
                kind, value = outcome
                if kind == "ok":
                    self.digests[reference] = value
                elif kind == "local":
                    self.digests[reference] = value
                    self.warnings[reference] = (
                        f"the base image {reference} could not be looked up in its registry; using "
                        "the local image instead, so a new push of that tag is not noticed here."
                    )
                else:
                    self.problems[reference] = value

    def _resolve(self, reference: str) -> tuple[str, str]:
        try:
            digest = self.registry.manifest_digest(reference)
        except RegistryError as exc:
            local = _local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return "error", f"cannot resolve the base image {reference}: {exc}"
        if digest is None:
            local = _local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return (
                "error",
                f"the base image {reference} does not exist in its registry (no such tag).",
            )
        return "ok", digest


def previous_images(state: ServerState, options: Options) -> dict[str, str]:
    """Per folder, the image its deployments run now (this tenant's and repository's, in
    production: a pull request's preview is not what the folder runs)."""
    from .previews import is_preview

    previous: dict[str, str] = {}
    for existing in state.deployments.values():
        key = existing.folder_key()
        if is_preview(existing):
            continue
        if key and existing.image and ours(existing, options.tenant, options.repository):
            previous.setdefault(key, existing.image)
    return previous


def image_answer(
    folder: FlowFolder, recipe: BuildRecipe, bases: BaseDigests, options: Options
) -> ImageAnswer:
    """The image's name and content tag (reads the files' modes; no network: the registry
    is asked by gather), or which base image could not be resolved."""
    repository = image_repository(options.registry, folder.project, folder.name)
    missing = [(ref, line) for ref, line in recipe.bases if ref not in bases.digests]
    if missing:
        ref, line = missing[0]
        return ImageAnswer(
            repository, None, base_error=(bases.problems.get(ref, f"cannot resolve {ref}"), line)
        )
    digests = {ref: bases.digests[ref] for ref, _ in recipe.bases}
    tag, inputs = content_tag(
        context_files_for_hash(folder, recipe), recipe.dockerfile_text or "", recipe.build_args,
        digests, recipe.secret_ids, options.platform_list,
    )  # fmt: skip
    return ImageAnswer(repository, tag, inputs)


def context_files_for_hash(folder: FlowFolder, recipe: BuildRecipe) -> list[Any]:
    from .context import ContextFile

    linked = set(recipe.linked)
    return [
        ContextFile(path, digest, _is_executable(folder.path / path, path in linked))
        for path, digest in sorted(recipe.files.items())
    ]


def _is_executable(path: Path, follow: bool = False) -> bool:
    try:
        return bool((path.stat() if follow else path.lstat()).st_mode & 0o100)
    except OSError:
        return False


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


def deployment_specs(
    folder: FlowFolder, image: ImagePlan, options: Options, pools: dict[str, Pool] | None = None
) -> tuple[list[DeploymentSpec], list[Problem]]:
    """One deployment per flow, or one per prefect.yaml entry that names the flow. With the
    work pools known, each deployment's job variables are fitted to its pool (a pool that
    cannot run an image, or a variable it does not declare, fails the folder)."""
    specs, problems = [], []
    for flow in folder.flows:
        configs = [c for c in folder.deployment_configs if config_matches(c, flow)]
        for config in configs or [DeploymentConfig()]:
            spec = _spec(folder, flow, config, image, options)
            if pools is not None and spec.work_pool in pools:
                spec, problem = fit_pool(spec, pools[spec.work_pool], options)
                if problem is not None and problem not in problems:
                    problems.append(problem)
            specs.append(spec)
    for config in folder.deployment_configs:
        if not any(config_matches(config, flow) for flow in folder.flows):
            problems.append(
                Problem(
                    "error",
                    f"deployment {config.name or '(unnamed)'} names "
                    f"{config.entrypoint or config.flow_name!r}, which is not a @flow in this folder. "
                    f"Flows here: {', '.join(f.entrypoint for f in folder.flows) or 'none'}.",
                    folder.prefect_yaml,
                    config.line,
                    "prefect.yaml",
                )
            )
    return specs, problems


def desired_deployments(
    folder: FlowFolder, image: ImagePlan, options: Options, pools: dict[str, Pool] | None = None
) -> list[DeploymentSpec]:
    """deployment_specs, its problems recorded on the folder (validate)."""
    specs, problems = deployment_specs(folder, image, options, pools)
    folder.problems.extend(problems)
    return specs


def wanted_names(folder: FlowFolder, preview: int | None = None) -> list[str]:
    """The full names of the deployments the folder wants (as deployment_specs names them;
    a pull request's previews of them with `preview`), without fitting anything: what
    gather asks the server about."""
    from .previews import preview_name

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
        f"the job variable `{unknown[0]}` is not one of the work pool {pool.name!r}'s "
        f"(type {pool.type}): the worker would never read it. Its variables: "
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
