"""A folder's requirements.txt as pip will read it in the build (requirements_file.py parses
it): every mistake at its line before anything is built, the files and folders it names
(which pip only finds if the build has them), plain-http indexes; and packages listed where
the default recipe does not read them."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.core.urls import plain_http_advice, plain_http_host
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.folder_listing import FolderListing, real_path
from prefect_flow_deploy.reading.requirements_file import (
    Line,
    Parsed,
    file_options,
    index_options,
    local_paths,
    parse,
    project_of,
)


def requirements_problems(
    requirements: Path, listing: FolderListing | None = None, over_base_image: bool = False
) -> tuple[list[Problem], bool]:
    """Every mistake pip would meet in the folder's requirements.txt and the files it
    includes (`-r`, `-c`), each at its file and line, read as pip reads them
    (requirements_file.py); and whether it names files of the folder (`-r base.txt`,
    `-e ./lib`), which pip then needs beside it. Each file is read once. `listing`: the
    folder's (folder_listing.py), which tells real paths without asking the disk.
    `over_base_image`: pip installs them over the base image's Prefect 3 (the default
    recipe), so a pin to Prefect 2 is an error here, before any build."""
    folder = Path(real_path(listing, str(requirements.parent)))
    problems: list[Problem] = []
    names_files = False
    todo, seen = [requirements], set()
    while todo:
        path = todo.pop(0)
        key = real_path(listing, str(path))
        if key in seen:
            continue
        seen.add(key)
        try:
            parsed = parse(file_reads.read_pip_text(path))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(_problem(path, None, f"cannot read {path.name}: {exc}"))
            continue
        found = [_problem(path, line, message) for line, message in parsed.mistakes]
        found += [_problem(path, line, text, "warning") for line, text in parsed.ignored]
        for line, option in file_options(parsed):
            if "://" in option.value:
                continue  # a URL: fetched by pip, not a file of the folder
            target = (path.parent / option.value).resolve()
            names_files = True
            if not _inside(target, folder):
                found.append(_problem(path, line, _outside(option.value)))
            elif not target.is_file():
                what = "requirements" if option.name == "--requirement" else "constraints"
                found.append(
                    _problem(
                        path, line,
                        f"`{option.written} {option.value}`: the flow folder has no "
                        f"{option.value}, so pip stops the build (Could not open {what} file). "
                        "Add the file to the folder, or remove the line.",
                    )
                )  # fmt: skip
            else:
                todo.append(target)
        for line, local, editable in local_paths(parsed):
            names_files = True
            found += _local_problems(path, line, local, editable, folder)
        found += _index_problems(path, parsed)
        found += _prefect_2_pins(path, parsed, over_base_image)
        problems += sorted(found, key=lambda p: p.line or 0)
    return problems, names_files


def prefect_2_pin(requirements: Path) -> tuple[int, str] | None:
    """The first line of a requirements file that allows no Prefect 3, and its requirement
    (`adopt` copies a root file into a folder: AbdessamadAouissi/spotify-elt-pipeline's
    `prefect>=2.19,<3.0`, refused once it was the folder's)."""
    try:
        pins = [line for line, _ in _prefect_2_lines(parse(file_reads.read_pip_text(requirements)))]
    except (OSError, UnicodeDecodeError):
        return None
    return (pins[0].number, pins[0].arguments) if pins else None


def _prefect_2_pins(path: Path, parsed: Parsed, over_base_image: bool = True) -> list[Problem]:
    """A requirement that allows no Prefect 3 (`prefect==2.14.0`, `prefect<3`, `~=2.10`): pip
    would replace the base image's Prefect 3 with Prefect 2, which the Prefect 3 worker
    cannot start (the built image's check says so too, after the build: image_check.py).
    With a Dockerfile of the folder's, which may install the file otherwise, a warning: it
    was said only after the whole build (peterspr/FantasyDashboard: 20 minutes of pip
    resolving first, trial round 11 b 14)."""
    return [
        _problem(
            path,
            line.number,
            (
                f"`{line.arguments}` installs Prefect 2 over the base image's Prefect 3"
                + ("" if always else " where its marker holds (the base image's Python decides)")
                + ", and the deployment is run by a Prefect 3 worker, which cannot start it."
                if over_base_image
                else f"`{line.arguments}` allows no Prefect 3: if the folder's Dockerfile "
                "installs this file, the image gets Prefect 2, which the Prefect 3 worker "
                "cannot start, and the built image's check refuses it after the build."
            )
            + " Require `prefect>=3`, or remove the line and use the base image's Prefect.",
            "error" if always and over_base_image else "warning",
        )
        for line, always in _prefect_2_lines(parsed)
    ]


# The environments of the images a Prefect 3 flow runs in: Linux, CPython 3.9 to 3.14.
_IMAGE_PYTHONS = [
    {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0",
     "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
     "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    for minor in range(9, 15)
]  # fmt: skip


def _prefect_2_lines(parsed: Parsed) -> list[tuple[Line, bool]]:
    """The lines requiring a Prefect that allows no 3.x, each with whether it applies in
    every image: without a marker, or with one every Python of a Prefect 3 image meets
    (`poetry export` writes `; python_version >= "3.9"` on every line: allen-cell-animated/
    cell-abm-pipeline passed validate, trial round 11 a 9). One only some meet
    (`python_version < "3.12"`): the base image's Python decides."""
    found = []
    for line in parsed.lines:
        requirement = line.requirement
        if (
            requirement is None
            or project_name(requirement.name) != "prefect"
            or not _allows_no_prefect_3(requirement.specifier)
        ):
            continue
        marker = requirement.marker
        held = [True] if marker is None else [_holds(marker, env) for env in _IMAGE_PYTHONS]
        if any(held):
            found.append((line, all(held)))
    return found


def _holds(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate({**environment, "extra": ""})
    except Exception:  # a variable packaging does not know: it may hold
        return True


def _allows_no_prefect_3(specifier: SpecifierSet) -> bool:
    """Whether one clause of the set already excludes every 3.x (the set is their AND)."""
    for clause in specifier:
        try:
            version = Version(clause.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        if clause.operator in ("==", "===", "~=") and version.major < 3:
            return True
        if clause.operator == "<=" and version < Version("3"):
            return True
        if clause.operator == "<" and version <= Version("3"):
            return True
    return False


def _problem(path: Path, line: int | None, message: str, severity: str = "error") -> Problem:
    return Problem(severity, message, path, line, "requirements.txt")  # type: ignore[arg-type]


def _inside(target: Path, folder: Path) -> bool:
    return target == folder or folder in target.parents


def _outside(written: str) -> str:
    return (
        f"requirements.txt refers to {written}, outside the flow folder; the image "
        "is built from the folder alone, so pip will not find it. Copy it into the "
        "folder (or list its packages here), or publish the shared code as a package."
    )


def _local_problems(
    path: Path, line: int, local: str, editable: bool, folder: Path
) -> list[Problem]:
    """A local project or archive pip installs: relative to the folder (the default recipe
    runs pip there, as you would locally), inside it, there, and a project pip can build."""
    target = (folder / local).resolve()
    written = f"-e {local}" if editable else local
    if not _inside(target, folder):
        return [_problem(path, line, _outside(local))]
    if not target.exists():
        return [
            _problem(
                path, line,
                f"`{written}`: the flow folder has no {local}, so pip stops the build. Add it "
                "to the folder, or install the package from an index instead.",
            )
        ]  # fmt: skip
    if target.is_dir() and not project_of(target):
        return [
            _problem(
                path, line,
                f"`{written}`: {local} has no pyproject.toml or setup.py, so pip cannot install "
                "it (it does not appear to be a Python project). Add one, or copy its modules "
                "into the flow folder and import them directly.",
            )
        ]  # fmt: skip
    return []


def requirement_line(requirements: Path, name: str) -> int | None:
    """The line of requirements.txt that requires the project `name` (PEP 503 names:
    `Foo_Bar[x]>=1` is foo-bar), ignoring comments."""
    wanted = project_name(name)
    try:
        lines = file_reads.read_pip_text(requirements, "replace").splitlines()
    except OSError:
        return None
    for number, text in enumerate(lines, 1):
        if wanted and project_name(text.split("#")[0]) == wanted:
            return number
    return None


def holding_prefect_back(requirements: Path) -> tuple[int, str, str] | None:
    """A pin of requirements.txt outside what Prefect 3 requires (this tool's own Prefect's
    metadata, a Prefect 3): pip then resolves an older Prefect. (line, the pin, what Prefect
    requires of it); None when no pin is (Svbongo/cicd-prefect-snowflake: `griffe==0.36.4`
    gave Prefect 2.20.2, blamed on the unpinned `prefect` line)."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        needed = {}
        for text in requires("prefect") or []:
            wanted = Requirement(text)
            if wanted.marker is None or wanted.marker.evaluate({"extra": ""}):
                needed[project_name(wanted.name)] = wanted
        parsed = parse(file_reads.read_pip_text(requirements, "replace"))
    except (PackageNotFoundError, InvalidRequirement, OSError):
        return None
    for line in parsed.lines:
        pin = line.requirement
        prefect = needed.get(project_name(pin.name)) if pin is not None else None
        if pin is None or prefect is None or not prefect.specifier:
            continue
        exact = [s.version for s in pin.specifier if s.operator in ("==", "===")]
        if exact and not prefect.specifier.contains(exact[0], prereleases=True):
            return line.number, str(pin), str(prefect)
    return None


def project_name(requirement: str) -> str:
    """PEP 503 normalised name at the start of a requirement (`Foo_Bar[x]>=1` -> foo-bar)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _index_problems(path: Path, parsed: Parsed) -> list[Problem]:
    """`--index-url http://…` (or `--extra-index-url`, `--find-links`): a warning at its line."""
    options = index_options(parsed)
    trusted = {o.value.lower().split(":")[0] for _, o in options if o.name == "--trusted-host"}
    problems = []
    for line, option in options:
        host = plain_http_host(option.value) if option.name != "--trusted-host" else None
        if host is None:
            continue
        advice = plain_http_advice(host, host.split(":")[0] in trusted)
        problems.append(
            Problem(
                "warning",
                f"`{option.written}` is a plain-http URL: {advice}",
                path,
                line,
                "Plain-http package index",
            )
        )
    return problems


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


def unread_dependency_problems(folder: Path, listing: FolderListing | None = None) -> list[Problem]:
    """A folder without a Dockerfile gets its packages from requirements.txt only: one that
    lists them in pyproject.toml (uv, Poetry, PDM, Hatch) or a Pipfile instead would build
    an image without them. A warning at the list, before building. `listing`: the folder's,
    so that a file it does not hold is not opened to find that out."""
    problems = []
    for name, pattern in _UNREAD_DEPENDENCIES.items():
        if listing is not None and not listing.holds_file(str(folder / name)):
            continue
        try:
            text = file_reads.read_pip_text(folder / name)
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
