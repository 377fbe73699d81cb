"""The build context as the build sees it, and the content hash that names the image.

The tag is a hash of everything that determines the image and nothing else: the files the
build receives (`.dockerignore` respected), the Dockerfile or our default recipe, the build
arguments, and the digests of the base images. Not file times, not the checkout path, not
the walk order: the same content gives the same tag on any machine.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.dockerfile import folder_dockerfile
from prefect_flow_deploy.reading.dockerignore import exclude_paths

# Bump when the meaning of a tag changes (recipe layout, hash composition).
HASH_VERSION = "pfd-1"
# What the default recipe leaves out on top of the folder's own .dockerignore: files that
# differ between a laptop and a fresh CI checkout without changing what runs, and the
# folder's prefect.yaml, which this tool reads and no flow run does: a schedule edited there
# rewrites that deployment alone, neither the image nor the folder's other deployments.
RECIPE_IGNORES = ("**/__pycache__", "**/*.pyc", ".git", ".venv", "**/.DS_Store", "prefect.yaml")


def read_dockerignore(folder: Path) -> list[str]:
    path = folder / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in file_reads.read_text(path).splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def received_by_build(folder: Path) -> Callable[[str], bool]:
    """Whether the folder's build receives a path of it (relative to the folder): what its
    .dockerignore, and without a Dockerfile the default recipe's own ignores, leave in, as
    the recipe's context_files does. The folder is walked for it once, and only once asked:
    the entry checks ask only about an entry they would refuse (folder_entries.py). Every
    path, when the walk cannot tell (a folder it cannot list): the check then stays."""

    @functools.cache
    def included() -> frozenset[str] | None:
        patterns = read_dockerignore(folder)
        if folder_dockerfile(folder) is None:  # as discovery tells the default recipe
            patterns += RECIPE_IGNORES
        try:
            return frozenset(exclude_paths(str(folder), patterns))
        except OSError:
            return None

    def received(relative: str) -> bool:
        paths = included()
        return paths is None or relative in paths

    return received


@dataclass(frozen=True)
class ContextFile:
    path: str  # relative, POSIX
    digest: str
    executable: bool
    linked: bool = False  # a link whose target the build receives (linked_files.py)


def context_files(
    folder: Path,
    ignore_patterns: list[str],
    dockerfile: str = "Dockerfile",
    root: Path | None = None,
) -> list[ContextFile]:
    """Regular files the build receives, sorted, with their content digests. A link to a
    file of the repository (`root`) outside the folder counts as its target's content: the
    build receives that (linked_files.py)."""
    # Docker's own .dockerignore rules (the Docker SDK's, in dockerignore.py: reading a
    # folder needs no SDK).
    from prefect_flow_deploy.reading.linked_files import link_action, resolved_target

    included = exclude_paths(str(folder), list(ignore_patterns), dockerfile=dockerfile)
    files = []
    given = str(folder)
    for relative in sorted(included):
        full = os.path.join(given, relative)
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            target, is_file = resolved_target(Path(full))
            if root is not None and target is not None and is_file:
                action = link_action(target, is_file, folder.resolve(), root.resolve())
                if action == "copy":
                    executable = bool(target.stat().st_mode & stat.S_IXUSR)
                    relative_path = Path(relative).as_posix()
                    files.append(ContextFile(relative_path, _file_digest(target), executable, True))
                    continue
            digest = hashlib.sha256(os.readlink(full).encode()).hexdigest()
        elif stat.S_ISREG(info.st_mode):
            digest = _file_digest(full)
        else:
            continue
        files.append(
            ContextFile(Path(relative).as_posix(), digest, bool(info.st_mode & stat.S_IXUSR))
        )
    return files


def _file_digest(path: Path | str) -> str:
    return file_reads.sha256_of(path)


def content_tag(
    files: list[ContextFile],
    recipe: str,
    build_args: Mapping[str, str],
    base_digests: dict[str, str],
    secret_ids: frozenset[str] = frozenset(),
    platforms: tuple[str, ...] = (),
) -> tuple[str, dict[str, str]]:
    """The tag, and the named inputs it was computed from (for the plan's reasons). Build
    secrets count by id only: a rotated token must not rebuild, a secret added or removed may
    change what the build does."""
    inputs: dict[str, str] = {"hash-version": HASH_VERSION}
    for file in files:
        inputs[f"file:{file.path}"] = file.digest + ("+x" if file.executable else "")
    inputs["recipe"] = hashlib.sha256(recipe.encode()).hexdigest()
    for key in sorted(build_args):
        inputs[f"build-arg:{key}"] = hashlib.sha256(build_args[key].encode()).hexdigest()
    for secret_id in sorted(secret_ids):
        inputs[f"secret:{secret_id}"] = "given"
    for ref in sorted(base_digests):
        inputs[f"base:{ref}"] = base_digests[ref]
    if platforms:  # absent for the engine's own platform: those tags stay as they were
        inputs["platforms"] = ",".join(sorted(platforms))
    digest = hashlib.sha256()
    for key in sorted(inputs):
        digest.update(f"{key}\0{inputs[key]}\n".encode())
    return digest.hexdigest()[:20], inputs


# Files that hold credentials by convention. A build context holding one bakes it into an
# image that is pushed to a registry, where anyone who can pull can read it.
_SECRET_FILE = re.compile(
    r"(^|/)(\.env(\.(?!example$|sample$|template$|dist$)[^/]+)?|\.netrc|\.pypirc|\.npmrc"
    r"|id_(rsa|dsa|ecdsa|ed25519)|[^/]*\.(pem|key|p12|pfx)|credentials\.json"
    r"|[^/]*service[-_]?account[^/]*\.json)$"
)


def secret_looking_files(files: Iterable[str]) -> list[str]:
    """Context files named like credentials (`.env`, `id_rsa`, `*.pem`, …), sorted; not a
    template of one (`.env.development.example`: pguyard-esurv/prefect-scratch)."""
    return sorted(p for p in files if _SECRET_FILE.search(p) and not _TEMPLATE.search(p))


_TEMPLATE = re.compile(r"\.(example|sample|template|dist)$")


# A flow folder's file this large is data or a build artefact, not code: GitHub refuses files
# over 100 MiB in a repository, so one this size came from git LFS or was made locally. The
# build sends it to the engine and pushes it in a layer on every change, and each worker pulls
# it before every run.
LARGE_FILE = 100 * 1024 * 1024


def large_files(folder: Path, files: Iterable[str]) -> list[tuple[str, int]]:
    """(path, size) of the context files over LARGE_FILE: one stat each, no reading."""
    found = []
    for relative in files:
        try:
            size = (folder / relative).lstat().st_size
        except OSError:
            continue
        if size > LARGE_FILE:
            found.append((relative, size))
    return found


def large_file_advice(path: str, size: int) -> str:
    return (
        f"{path} is {size / 1024 / 1024:,.0f} MiB, and the build copies it into the image: "
        "every change of the folder sends it to the engine again, and every worker pulls it "
        "before a run. Add it to the folder's .dockerignore and load it at run time (object "
        "storage, a Prefect block), or keep it if the flow needs it in the image."
    )
