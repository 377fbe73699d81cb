"""What a folder's requirements.txt names besides packages: files and folders, which pip
only finds if the build has them."""

from __future__ import annotations

import re
from pathlib import Path

from . import file_reads
from .model import Problem

_FILE_OPTIONS = re.compile(
    r"^\s*(?:-r|--requirement|-c|--constraint|-e|--editable)[\s=]+(?P<path>\S+)"
    r"|^\s*(?P<bare>\.{1,2}/\S*)"
    r"|@\s*file:(?://)?(?P<url>\S+)"
)


def requirements_file_references(requirements: Path) -> list[tuple[int, str, Path]]:
    """The files and folders requirements.txt names (`-r base.txt`, `-e ./lib`,
    `pkg @ file:../lib`): (line, as written, resolved). URLs are not files."""
    folder = requirements.parent.resolve()
    found = []
    try:
        lines = file_reads.read_text(requirements, "utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    for number, line in enumerate(lines, start=1):
        match = _FILE_OPTIONS.search(line.split(" #")[0])
        target = match and (match["path"] or match["bare"] or match["url"])
        if target and "://" not in target:  # a URL (an index, a VCS link) is fine
            found.append((number, target, (folder / target).resolve()))
    return found


def outside_folder_problems(
    requirements: Path, references: list[tuple[int, str, Path]]
) -> list[Problem]:
    """`-r ../common.txt`, `-e ../lib`, `pkg @ file:../lib`: a build only receives the flow
    folder, so these fail in the middle of `pip install`. Say so now, at the line."""
    folder = requirements.parent.resolve()
    return [
        Problem(
            "error",
            f"requirements.txt refers to {target}, outside the flow folder; the image "
            "is built from the folder alone, so pip will not find it. Copy it into the "
            "folder (or list its packages here), or publish the shared code as a package.",
            requirements,
            number,
            "requirements.txt",
        )
        for number, target, resolved in references
        if resolved != folder and folder not in resolved.parents
    ]


def requirement_line(requirements: Path, name: str) -> int | None:
    """The line of requirements.txt that requires the project `name` (PEP 503 names:
    `Foo_Bar[x]>=1` is foo-bar), ignoring comments."""
    wanted = project_name(name)
    try:
        lines = file_reads.read_text(requirements, "utf-8-sig", "replace").splitlines()
    except OSError:
        return None
    for number, text in enumerate(lines, 1):
        if wanted and project_name(text.split("#")[0]) == wanted:
            return number
    return None


def project_name(requirement: str) -> str:
    """PEP 503 normalised name at the start of a requirement (`Foo_Bar[x]>=1` -> foo-bar)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


_INDEX_OPTION = re.compile(
    r"(?:^|\s)(?P<option>-i|--index-url|--extra-index-url|-f|--find-links)(?:\s+|=)(?P<url>\S+)"
)
_TRUSTED_HOST = re.compile(r"(?:^|\s)--trusted-host(?:\s+|=)(?P<host>\S+)")
# pip's secure origins besides https (pip._internal.network.session.SECURE_ORIGINS).
_LOOPBACK = re.compile(r"^(localhost|127(\.\d+){3}|\[::1\])$")


def plain_http_host(url: str) -> str | None:
    """The host of a plain-http URL pip would call insecure, else None (https, file:, and
    loopback are fine to pip)."""
    match = re.match(r"^http://(?:[^/@\s]*@)?(\[[^\]]+\]|[^/:?#\s]+)", url, re.IGNORECASE)
    if not match or _LOOPBACK.match(match.group(1).lower()):
        return None
    return match.group(1).lower()


def plain_http_advice(host: str, trusted: bool) -> str:
    login = "any login in the URL (and every package) crosses the network in clear text"
    if trusted:
        return f"{login} (`--trusted-host {host}` only silences pip). Use https://."
    return (
        f"pip refuses it unless `--trusted-host {host}` is given, and even then {login}. "
        "Use https://."
    )


def insecure_index_problems(requirements: Path) -> list[Problem]:
    """`--index-url http://…` (or `--extra-index-url`, `--find-links`): a warning at its line."""
    try:
        lines = file_reads.read_text(requirements, "utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    code = [line.split(" #")[0] for line in lines]
    trusted = {
        m.group("host").lower().split(":")[0] for line in code for m in _TRUSTED_HOST.finditer(line)
    }
    problems = []
    for number, line in enumerate(code, start=1):
        for match in _INDEX_OPTION.finditer(line):
            host = plain_http_host(match.group("url"))
            if host is None:
                continue
            problems.append(
                Problem(
                    "warning",
                    f"`{match.group('option')}` is a plain-http URL: "
                    + plain_http_advice(host, host.split(":")[0] in trusted),
                    requirements,
                    number,
                    "Plain-http package index",
                )
            )
    return problems


# Build args that hand pip (or uv) a package index: PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
# PIP_FIND_LINKS, UV_INDEX_URL, UV_DEFAULT_INDEX, …
_INDEX_ARG = re.compile(r"INDEX|FIND_LINKS", re.IGNORECASE)


def plain_http_build_args(build_args: dict[str, str]) -> dict[str, str]:
    """Build args naming a plain-http package index: name → what to do."""
    found = {}
    for name, value in build_args.items():
        hosts = [h for url in value.split() if (h := plain_http_host(url))]
        if _INDEX_ARG.search(name) and hosts:
            found[name] = plain_http_advice(hosts[0], trusted=False)
    return found


# Where a folder's packages are listed in a file the default recipe does not read: the
# line of a non-empty PEP 621 `dependencies = [...]`, Poetry's table, Pipfile's packages.
_UNREAD_DEPENDENCIES = {
    "pyproject.toml": re.compile(
        r"^\s*dependencies\s*=\s*\[\s*(?:#[^\n]*\n\s*)*[\"']|^\[tool\.poetry\.dependencies\]\s*$"
        r"(?=(?:\n(?!\[)[^\n]*)*\n\s*(?!python\b)[A-Za-z0-9_.-]+\s*=)",
        re.MULTILINE,
    ),
    "Pipfile": re.compile(r"^\[packages\]\s*$(?=\n\s*[A-Za-z0-9_.\"'-]+\s*=)", re.MULTILINE),
}


def unread_dependency_problems(folder: Path) -> list[Problem]:
    """A folder without a Dockerfile gets its packages from requirements.txt only: one that
    lists them in pyproject.toml (uv, Poetry, PDM, Hatch) or a Pipfile instead would build
    an image without them. A warning at the list, before building."""
    problems = []
    for name, pattern in _UNREAD_DEPENDENCIES.items():
        try:
            text = file_reads.read_text(folder / name, "utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        match = pattern.search(text)
        if match is None:
            continue
        problems.append(
            Problem(
                "warning",
                f"{name} lists the folder's packages, but without a Dockerfile only "
                "requirements.txt is installed: the image would not have them. Write them to "
                "requirements.txt (`uv export --no-hashes -o requirements.txt`, `poetry export "
                "-o requirements.txt`, `pipenv requirements > requirements.txt`), or add a "
                "Dockerfile that installs them.",
                folder / name,
                text.count("\n", 0, match.start()) + 1,
                "Packages not installed",
            )
        )
    return problems
