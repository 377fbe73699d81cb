"""A folder's build recipe and its image's content-tagged name, read from the repository: its
own Dockerfile (BASE_IMAGE given when it declares it) or the default recipe, the build
context's files, their problems (unreadable, large, credentials), and the content tag from
them and the base images' digests (gather resolves those)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from prefect_flow_deploy.core.model import (
    BuildRecipe,
    FlowFolder,
    ImageAnswer,
    Problem,
)
from prefect_flow_deploy.core.naming import image_component, image_repository
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.build_context import (
    ContextFile,
    content_tag,
    context_files,
    large_file_advice,
    large_files,
    read_dockerignore,
    secret_looking_files,
)
from prefect_flow_deploy.reading.default_recipe import code_dir as recipe_code_dir
from prefect_flow_deploy.reading.default_recipe import default_dockerfile, default_dockerignore
from prefect_flow_deploy.reading.dockerfile import base_images, declared_args
from prefect_flow_deploy.settings.options import Options

BASE_IMAGE_ARG = "BASE_IMAGE"


def recipe_for(folder: FlowFolder, options: Options) -> BuildRecipe:
    secret_ids = frozenset(options.build_secrets)
    if folder.dockerfile is not None:
        text = file_reads.read_text(folder.dockerfile)
        args = dict(options.build_args)
        if BASE_IMAGE_ARG in declared_args(text):
            args.setdefault(BASE_IMAGE_ARG, options.base_image)
        files = context_files(
            folder.path, read_dockerignore(folder.path), folder.dockerfile.name, _root(folder)
        )
        bases = [(b.reference, b.line) for b in base_images(text, args)]
        return BuildRecipe(
            None, None, args, bases, {f.path: f.digest for f in files}, None, secret_ids,
            tuple(f.path for f in files if f.linked), _executable(files),
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
        _executable(files),
    )


def _executable(files: list[ContextFile]) -> frozenset[str]:
    """The files whose mode counts in the tag (the walk stat-ed each once already)."""
    return frozenset(f.path for f in files if f.executable)


def _root(folder: FlowFolder) -> Path:
    """The repository the folder's links may point into (folder_entries.repository_root)."""
    return _repository_root(folder.path.parent.parent)


@functools.cache
def _repository_root(projects_root: Path) -> Path:
    from prefect_flow_deploy.reading.folder_entries import (
        repository_root,  # once per projects root, not per folder
    )

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


def file_warnings(folder: FlowFolder, recipe: BuildRecipe) -> tuple[Problem, ...]:
    """What the build context holds that the user should know of: very large files and files
    that look like credentials (one list, for gather and for validate alike)."""
    return (*large_file_problems(folder, recipe), *secret_file_problems(folder, recipe))


def context_files_for_hash(recipe: BuildRecipe) -> list[ContextFile]:
    return [
        ContextFile(path, digest, path in recipe.executable)
        for path, digest in sorted(recipe.files.items())
    ]


def image_answer(
    folder: FlowFolder,
    recipe: BuildRecipe,
    digests: Mapping[str, str],
    problems: Mapping[str, str],
    options: Options,
) -> ImageAnswer:
    """The image's name and content tag (reads the files' modes; no network: the base
    images' `digests` come from gather), or which base image could not be resolved (and
    why, from `problems`)."""
    repository = image_repository(options.registry, folder.project, folder.name)
    missing = [(ref, line) for ref, line in recipe.bases if ref not in digests]
    if missing:
        ref, line = missing[0]
        return ImageAnswer(
            repository, None, base_error=(problems.get(ref, f"cannot resolve {ref}"), line)
        )
    used = {ref: digests[ref] for ref, _ in recipe.bases}
    tag, inputs = content_tag(
        context_files_for_hash(recipe), recipe.dockerfile_text or "", recipe.build_args,
        used, recipe.secret_ids, options.platform_list,
    )  # fmt: skip
    return ImageAnswer(repository, tag, inputs)
