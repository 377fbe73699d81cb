"""Just enough Dockerfile parsing to know the base images (`FROM` lines after `ARG` defaults)
and to point at an instruction's line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prefect_flow_deploy.core.model import Problem

_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.IGNORECASE)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


# The names `docker build <folder>` reads, in order: Docker's CLI and BuildKit's frontend
# both take the lower-case one when `Dockerfile` is missing (docker/cli
# cli/command/image/build/context.go GetDockerfileRelPath, "look for 'dockerfile' too";
# moby/buildkit frontend/dockerfile/builder, moby/moby#10858).
DOCKERFILE_NAMES = ("Dockerfile", "dockerfile")


def folder_dockerfile(folder: Path) -> Path | None:
    """The Dockerfile a build of the folder reads, or None."""
    for name in DOCKERFILE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


# A Dockerfile by another name (`Dockerfile.prod`, `api.Dockerfile`, Podman's Containerfile):
# `docker build <folder>` reads none of them, nor does this tool.
_OTHER_NAME = re.compile(r"(?i)(?:dockerfile\..+|.+\.dockerfile|containerfile)")


def unread_dockerfiles(folder: Path, names: Iterable[str]) -> list[Problem]:
    """For a folder without a Dockerfile: a file of its top `names` that is one by another
    name, which the default recipe replaces without a word (nateadewynters-prog/prefect-prod's
    Dockerfile.brandwatch installed the ODBC driver; every run crashed without it)."""
    return [
        Problem(
            "warning",
            f"{name} is not read: a folder's image is built from its `Dockerfile`, else from "
            "the default recipe (base image and requirements.txt), as `docker build` reads "
            "only that name. Rename it to Dockerfile to build from it.",
            folder / name,
            None,
            "Dockerfile not read",
        )
        for name in sorted(names)
        if _OTHER_NAME.fullmatch(name) and not name.endswith(".dockerignore")
    ]


@dataclass(frozen=True)
class BaseImage:
    reference: str
    line: int


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; keep the number of the first physical line."""
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        lines.append((start, buffer + stripped))
        buffer = ""
    if buffer:
        lines.append((start, buffer))
    return lines


def instruction_line(text: str, instruction: str) -> int | None:
    """The line where an instruction as BuildKit prints it (whitespace collapsed; a long one
    may be cut short) starts in the Dockerfile."""
    wanted = " ".join(instruction.split())
    for number, line in logical_lines(text):
        joined = " ".join(line.split())
        if joined == wanted or (len(wanted) > 20 and joined.startswith(wanted)):
            return number
    return None


def last_instruction_line(text: str, keyword: str) -> int | None:
    """The line of the last `keyword` instruction (ENTRYPOINT, CMD: the last one counts)."""
    found = None
    for number, line in logical_lines(text):
        words = line.split(maxsplit=1)
        if words and words[0].upper() == keyword:
            found = number
    return found


def declared_args(text: str) -> set[str]:
    return {m.group(1) for _, line in logical_lines(text) if (m := _ARG.match(line))}


def base_images(text: str, build_args: dict[str, str]) -> list[BaseImage]:
    """External images the Dockerfile builds FROM (not `scratch`, not earlier stages)."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    bases: list[BaseImage] = []
    seen_from = False
    for number, line in logical_lines(text):
        if line.lstrip().startswith("#"):
            continue
        if (m := _ARG.match(line)) and not seen_from:
            name, default = m.group(1), m.group(2)
            args[name] = build_args.get(name, (default or "").strip("\"'"))
            continue
        if m := _FROM.match(line):
            seen_from = True
            reference = _substitute(m.group(1), args)
            if m.group(2):
                stages.add(m.group(2).lower())
            if reference.lower() == "scratch" or reference.lower() in stages - {
                (m.group(2) or "").lower()
            }:
                continue
            bases.append(BaseImage(reference, number))
    return bases


def _substitute(value: str, args: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return args.get(name) or (match.group(2) or "")

    return _VAR.sub(replace, value)


# The instructions BuildKit's Dockerfile frontend knows (docs.docker.com/reference/dockerfile).
INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_ESCAPE_DIRECTIVE = re.compile(r"^\s*#\s*escape\s*=", re.IGNORECASE)


def instructions(text: str) -> list[tuple[int, str]]:
    """(line, keyword) of each instruction, skipping comments and heredoc bodies."""
    found: list[tuple[int, str]] = []
    ends: list[str] = []
    for number, line in logical_lines(text):
        if ends:
            if line.strip() == ends[0]:
                ends.pop(0)
            continue
        words = line.split(maxsplit=1)
        if not words or words[0].startswith("#"):
            continue
        found.append((number, words[0].upper()))
        ends = _HEREDOC.findall(line) if len(words) > 1 else []
    return found


def changes_escape(text: str) -> bool:
    """A `# escape=` directive: continuation lines are not ours to read then."""
    return any(_ESCAPE_DIRECTIVE.match(line) for line in text.splitlines()[:5])


def dockerfile_problems(text: str) -> list[tuple[int, str]]:
    """(line, what to do) for what BuildKit would refuse at once, before anything is built:
    no instruction at all, an instruction other than ARG before the first FROM, a keyword
    that is no instruction. A Dockerfile that changes its escape character is left alone
    (its continuation lines are not ours to read)."""
    if changes_escape(text):
        return []
    found = instructions(text)
    if not found:
        return [(1, "the Dockerfile has no instruction: start it with `FROM <base image>`.")]
    problems = [
        (line, f"unknown instruction `{keyword}`: Docker's are {', '.join(sorted(INSTRUCTIONS))}.")
        for line, keyword in found
        if keyword not in INSTRUCTIONS
    ]
    first = next(((line, k) for line, k in found if k != "ARG"), None)
    if first is None:
        problems.insert(0, (found[0][0], "the Dockerfile has no `FROM`: add `FROM <base image>`."))
    elif first[1] != "FROM":
        problems.insert(
            0,
            (
                first[0],
                f"`{first[1]}` comes before any `FROM`: a Dockerfile starts its build stage "
                "with `FROM <base image>` (only ARG may come first). Add the FROM line above it.",
            ),
        )
    return problems


@dataclass(frozen=True)
class CopySource:
    line: int
    instruction: str  # COPY or ADD
    source: str  # as written


def copy_sources(text: str) -> list[CopySource]:
    """The build-context paths each COPY and ADD names, where they can be read without the
    build: not `--from` another stage or image, not a URL or git source, not a heredoc, no
    variable and no wildcard (BuildKit resolves those)."""
    if changes_escape(text):
        return []
    wanted = {n for n, keyword in instructions(text) if keyword in ("COPY", "ADD")}
    found: list[CopySource] = []
    for number, line in logical_lines(text):
        if number not in wanted:
            continue
        keyword, *words = line.split()
        flags = []
        while words and words[0].startswith("--"):
            flags.append(words.pop(0))
        if any(f.startswith("--from=") for f in flags):
            continue
        args = " ".join(words)
        if args.startswith("["):
            try:
                words = [str(w) for w in json.loads(args)]
            except ValueError:
                continue
        found.extend(
            CopySource(number, keyword.upper(), source)
            for source in words[:-1]
            if not _resolved_by_buildkit(source)
        )
    return found


def _resolved_by_buildkit(source: str) -> bool:
    return (
        source.startswith("<<")
        or "://" in source
        or source.startswith("git@")
        or any(c in source for c in "$*?[")
    )
