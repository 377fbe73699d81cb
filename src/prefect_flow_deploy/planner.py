"""Plan: for each folder, the image (exists or build, and why) and its deployments.

Planning needs no Docker engine: tags are content hashes and the registry is asked over HTTP.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .context import (
    content_tag,
    context_files,
    large_file_advice,
    large_files,
    read_dockerignore,
    secret_looking_files,
)
from .deployment_fields import Source, spec_values
from .dockerfile import base_images, declared_args
from .errors import RegistryError
from .model import (
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImagePlan,
    Problem,
)
from .naming import image_component, image_repository
from .options import Options
from .recipe import code_dir as recipe_code_dir
from .recipe import default_dockerfile, default_dockerignore
from .registry import RegistryClient, image_labels, parse_reference
from .work_pools import IMAGE_VARIABLE, Pool, cannot_run_images, unknown_variables
from .work_pools import job_variables as pool_job_variables

INPUTS_LABEL = "io.prefect-flow-deploy.inputs"
FOLDER_LABEL = "io.prefect-flow-deploy.folder"
CODE_DIR_LABEL = "io.prefect-flow-deploy.code-dir"
BASE_IMAGE_ARG = "BASE_IMAGE"


@dataclass
class BuildRecipe:
    """How a folder's image is built; the planner hashes it, the builder runs it."""

    dockerfile_text: str | None  # our recipe; None when the folder has its own Dockerfile
    dockerignore_text: str | None
    build_args: dict[str, str]
    bases: list[tuple[str, int]]  # (reference, line in the Dockerfile)
    files: dict[str, str]  # relative path → sha256 (without the +x marker)
    expected_code_dir: str | None
    secret_ids: frozenset[str] = frozenset()  # build secrets offered (values: Options only)


def recipe_for(folder: FlowFolder, options: Options) -> BuildRecipe:
    secret_ids = frozenset(options.build_secrets)
    if folder.dockerfile is not None:
        text = folder.dockerfile.read_text(encoding="utf-8")
        args = dict(options.build_args)
        if BASE_IMAGE_ARG in declared_args(text):
            args.setdefault(BASE_IMAGE_ARG, options.base_image)
        files = context_files(folder.path, read_dockerignore(folder.path))
        bases = [(b.reference, b.line) for b in base_images(text, args)]
        return BuildRecipe(
            None, None, args, bases, {f.path: f.digest for f in files}, None, secret_ids
        )
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
    files = context_files(folder.path, patterns)
    return BuildRecipe(
        text,
        ignore,
        {},
        [(options.base_image, 0)],
        {f.path: f.digest for f in files},
        workdir,
        secret_ids,
    )


def recipe_with_problems(folder: FlowFolder, options: Options) -> BuildRecipe | None:
    """The folder's recipe; a build input that cannot be read is an error on the folder, a
    file that looks like credentials a warning at the file (the build would copy it)."""
    try:
        recipe = recipe_for(folder, options)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        folder.problems.append(
            Problem("error", f"cannot read the build inputs: {exc}", folder.path)
        )
        return None
    folder.problems.extend(
        Problem("warning", large_file_advice(path, size), folder.path / path, title="Large file")
        for path, size in large_files(folder.path, recipe.files)
    )
    for path in secret_looking_files(recipe.files):
        folder.problems.append(
            Problem(
                "warning",
                f"{path} looks like a credentials file, and the build copies "
                "it into the image, where anyone who can pull the image can read it. Add "
                "it to the folder's .dockerignore (and keep it out of git); give flows "
                "their secrets through Prefect blocks or the work pool's environment.",
                folder.path / path,
                title="Secret in the image",
            )
        )
    return recipe


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
        from .builder import local_image_id  # the Docker SDK: only when asked

        try:
            digest = self.registry.manifest_digest(reference)
        except RegistryError as exc:
            local = local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return "error", f"cannot resolve the base image {reference}: {exc}"
        if digest is None:
            local = local_image_id(reference)
            if local:
                return "local", f"local:{local}"
            return (
                "error",
                f"the base image {reference} does not exist in its registry (no such tag).",
            )
        return "ok", digest


def plan_image(
    folder: FlowFolder,
    recipe: BuildRecipe,
    bases: BaseDigests,
    options: Options,
    code_dirs: dict[str, str],
) -> ImagePlan:
    """The image's name and content tag (no network: the registry is asked in `decide`)."""
    repository = image_repository(options.registry, folder.project, folder.name)
    missing = [(ref, line) for ref, line in recipe.bases if ref not in bases.digests]
    if missing:
        ref, line = missing[0]
        where = folder.dockerfile if folder.dockerfile else None
        folder.problems.append(
            Problem(
                "error",
                bases.problems.get(ref, f"cannot resolve {ref}"),
                where,
                line or None,
                "Base image",
            )
        )
        return ImagePlan(folder, repository, "unknown", {}, "failed", bases.problems.get(ref, ""))
    digests = {ref: bases.digests[ref] for ref, _ in recipe.bases}
    files_for_hash = context_files_for_hash(folder, recipe)
    tag, inputs = content_tag(
        files_for_hash, recipe.dockerfile_text or "", recipe.build_args, digests,
        recipe.secret_ids, options.platform_list,
    )  # fmt: skip
    plan = ImagePlan(folder, repository, tag, inputs)
    plan.code_dir = recipe.expected_code_dir or code_dirs.get(plan.reference)
    return plan


def decide(
    plan: ImagePlan,
    options: Options,
    registry: RegistryClient,
    previous_image: str | None,
    known_repositories: set[str] | None = None,
) -> None:
    """Exists (skip) or build, and why: one question to the registry."""
    plan.digest = _existing_digest(plan.reference, options, registry, known_repositories)
    if plan.digest and not options.force:
        plan.action = "exists"
        plan.reason = (
            "an image with this content is already in the registry"
            if options.registry
            else ("an image with this content is already in the local engine")
        )
        return
    plan.action = "build"
    plan.reason = "--force" if options.force else _why_build(plan, previous_image, registry)


def context_files_for_hash(folder: FlowFolder, recipe: BuildRecipe) -> list[Any]:
    from .context import ContextFile

    return [
        ContextFile(path, digest, _is_executable(folder.path / path))
        for path, digest in sorted(recipe.files.items())
    ]


def _is_executable(path: Path) -> bool:
    try:
        return bool(path.lstat().st_mode & 0o100)
    except OSError:
        return False


def _existing_digest(
    reference: str, options: Options, registry: RegistryClient, known: set[str] | None = None
) -> str | None:
    """The image's digest if it is already there: in the registry, or locally without one.
    `known`: the registry's repositories, when its catalog told (a repository that does not
    exist holds no tag: no need to ask)."""
    if options.registry:
        if known is not None and parse_reference(reference).repository not in known:
            return None
        return registry.manifest_digest(reference)
    from .builder import local_image_id  # the Docker SDK: only without a registry

    return local_image_id(reference)


def _why_build(plan: ImagePlan, previous_image: str | None, registry: RegistryClient) -> str:
    if not previous_image:
        return "new: no deployed image for this folder yet"
    if not previous_image.startswith(plan.repository + ":"):
        return f"the deployed image {previous_image} is from another repository"
    labels = image_labels(registry, previous_image) if "/" in previous_image else {}
    try:
        before: dict[str, str] = json.loads(labels.get(INPUTS_LABEL, "{}"))
    except ValueError:
        before = {}
    if not before:
        return f"content changed since {previous_image.rsplit(':', 1)[1]}"
    now = {k: v[:12] for k, v in plan.inputs.items()}
    changed = sorted(k for k in set(now) | set(before) if now.get(k) != before.get(k))
    return (
        "changed: "
        + ", ".join(_describe(k, k in now, k in before) for k in changed[:8])
        + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    )


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


def desired_deployments(
    folder: FlowFolder, image: ImagePlan, options: Options, pools: dict[str, Pool] | None = None
) -> list[DeploymentSpec]:
    """One deployment per flow, or one per prefect.yaml entry that names the flow. With the
    work pools known, each deployment's job variables are fitted to its pool (a pool that
    cannot run an image, or a variable it does not declare, fails the folder)."""
    specs = []
    for flow in folder.flows:
        configs = [c for c in folder.deployment_configs if _config_matches(c, flow)]
        for config in configs or [DeploymentConfig()]:
            spec = _spec(folder, flow, config, image, options)
            if pools is not None and spec.work_pool in pools:
                problem = fit_pool(spec, pools[spec.work_pool], options)
                if problem is not None:
                    folder.problems.append(problem)
            specs.append(spec)
    for config in folder.deployment_configs:
        if not any(_config_matches(config, flow) for flow in folder.flows):
            folder.problems.append(
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
    return specs


def fit_pool(spec: DeploymentSpec, pool: Pool, options: Options) -> Problem | None:
    """Set the image (and pull policy) where the pool's template takes it; the problem when
    the pool cannot run an image or a job variable is not one of its template's."""
    reason = cannot_run_images(pool)
    if reason is not None:
        line = spec.source_lines.get("work_pool.name", spec.source_line)
        return Problem("error", reason, spec.source_file, line, "Work pool")
    wanted = {k: v for k, v in spec.job_variables.items() if k != IMAGE_VARIABLE}
    spec.job_variables = pool_job_variables(wanted, spec.image, pool)
    unknown = unknown_variables(wanted, pool)
    if not unknown:
        return None
    return variable_problem(
        spec, unknown[0], options,
        f"the job variable `{unknown[0]}` is not one of the work pool {pool.name!r}'s "
        f"(type {pool.type}): the worker would never read it. Its variables: "
        f"{', '.join(sorted(pool.properties))}.",
    )  # fmt: skip


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


def _config_matches(config: DeploymentConfig, flow: FlowSpec) -> bool:
    if config.entrypoint:
        # Relative to the folder, or to the repository root (as `prefect deploy` run from
        # the root writes it).
        entrypoint = config.entrypoint.removeprefix("./")
        return entrypoint == flow.entrypoint or entrypoint.endswith("/" + flow.entrypoint)
    return config.flow_name == flow.name


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
