"""A requirements.txt read as pip reads it, never installing anything: each line a
requirement (PEP 508, parsed with `packaging`, markers included), a local path or URL, or
options, so that a mistake pip would only meet in the middle of a build is said now, at its
line.

pip's documented format (https://pip.pypa.io/en/stable/reference/requirements-file-format/):
a line ending in an unescaped `\\` continues on the next (the joined line keeps the first
line's number); comments are stripped after that (a line starting with `#`, or whitespace
then `#` to the end); then the line is split at its first token starting with `-`: the
arguments before it (a requirement specifier with `; markers`, an archive URL or path, a
local project path) and options after it, which pip parses as its own command line. The
options a requirements file may hold: `-i/--index-url`, `--extra-index-url`, `--no-index`,
`-c/--constraint`, `-r/--requirement`, `-e/--editable`, `-f/--find-links`, `--no-binary`,
`--only-binary`, `--prefer-binary`, `--require-hashes`, `--pre`, `--trusted-host`,
`--use-feature`; and per requirement `--hash` and `--config-settings` (pip's
`req_file.SUPPORTED_OPTIONS` and `SUPPORTED_OPTIONS_REQ`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

# Options that take a value, by every spelling (short ones may be glued: `-rbase.txt`).
_VALUED = {
    "-i": "--index-url", "--index-url": "--index-url", "--extra-index-url": "--extra-index-url",
    "-c": "--constraint", "--constraint": "--constraint", "-r": "--requirement",
    "--requirement": "--requirement", "-e": "--editable", "--editable": "--editable",
    "-f": "--find-links", "--find-links": "--find-links", "--no-binary": "--no-binary",
    "--only-binary": "--only-binary", "--trusted-host": "--trusted-host",
    "--use-feature": "--use-feature", "--hash": "--hash", "-C": "--config-settings",
    "--config-settings": "--config-settings",
}  # fmt: skip
_FLAGS = {"--no-index", "--prefer-binary", "--require-hashes", "--no-require-hashes", "--pre"}
_FILE_OPTIONS = ("--requirement", "--constraint")
_PER_REQUIREMENT = ("--hash", "--config-settings")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^file:")
_DIRECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar")


@dataclass(frozen=True)
class Option:
    name: str  # the long spelling (`--requirement` for `-r`)
    value: str  # "" for a flag
    written: str  # as written (`-r`), for messages


@dataclass(frozen=True)
class Line:
    """One logical line (continuations joined), by the number of its first physical line."""

    number: int
    text: str  # without its comment
    arguments: str  # the requirement, path or URL ("" for an options line)
    options: tuple[Option, ...]
    requirement: Requirement | None = None  # a PEP 508 specifier, when it is one
    path: str | None = None  # a local path the line installs (`./lib`, `-e ./lib`, `file:`)


@dataclass
class Parsed:
    lines: list[Line] = field(default_factory=list)
    # (line number, message): what pip would refuse, said before the build
    mistakes: list[tuple[int, str]] = field(default_factory=list)
    # (line number, message): what pip accepts and then ignores
    ignored: list[tuple[int, str]] = field(default_factory=list)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """pip's join_lines then ignore_comments: continuations joined first (a comment line
    ends one), comments stripped, blank lines dropped."""
    joined: list[tuple[int, str]] = []
    first: int | None = None
    parts: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        comment = bool(_COMMENT.match(line))
        if line.endswith("\\") and not comment:
            first = number if first is None else first
            parts.append(line[:-1])
            continue
        if parts:
            joined.append((first or number, "".join([*parts, " " + line if comment else line])))
            first, parts = None, []
        else:
            joined.append((number, line))
    if parts:
        joined.append((first or 1, "".join(parts)))
    out = []
    for number, line in joined:
        stripped = _COMMENT.sub("", line).strip()
        if stripped:
            out.append((number, stripped))
    return out


def parse(text: str) -> Parsed:
    parsed = Parsed()
    for number, line in logical_lines(text):
        arguments, options_text = _split(line)
        try:
            words = shlex.split(options_text)
        except ValueError as exc:
            parsed.mistakes.append(
                (number, f"pip cannot split the options `{options_text}`: {exc}")
            )
            continue
        options, mistake = _options(words)
        if mistake:
            parsed.mistakes.append((number, mistake))
            continue
        ignored = [o.written for o in options if arguments and o.name not in _PER_REQUIREMENT]
        if ignored:
            parsed.ignored.append(
                (number, f"pip ignores `{ignored[0]}` after a requirement on its line (only "
                 "--hash and --config-settings apply there): give it a line of its own")
            )  # fmt: skip
        requirement, path, mistake = _arguments(arguments, options)
        if mistake:
            parsed.mistakes.append((number, mistake))
            continue
        parsed.lines.append(Line(number, line, arguments, tuple(options), requirement, path))
    return parsed


def _split(line: str) -> tuple[str, str]:
    """pip's break_args_options: the arguments are the tokens before the first one that
    starts with `-` (markers may hold anything, so they are not shell-split)."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return line.strip(), ""


def _options(words: list[str]) -> tuple[list[Option], str | None]:
    options: list[Option] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, equals, value = word.partition("=")
        if not equals and name[:2] in _VALUED and len(name) > 2 and not name.startswith("--"):
            name, value, equals = name[:2], name[2:], "="  # `-rbase.txt`
        if name in _FLAGS:
            options.append(Option(name, "", word))
        elif name in _VALUED:
            if not equals:
                index += 1
                if index >= len(words):
                    return options, f"`{name}` needs a value (pip: requires 1 argument)"
                value = words[index]
            options.append(Option(_VALUED[name], value, name))
        else:
            return options, (
                f"`{name}` is not an option pip accepts in a requirements file (those are "
                f"{', '.join(sorted({*_VALUED.values(), *_FLAGS}))})"
            )
        index += 1
    return options, None


def _arguments(
    arguments: str, options: list[Option]
) -> tuple[Requirement | None, str | None, str | None]:
    """(the requirement, the local path installed, why pip would refuse the line)."""
    editable = next((o.value for o in options if o.name == "--editable"), None)
    if editable is not None:
        if _URL.match(editable) and not editable.startswith("file:"):
            return None, None, None  # a VCS URL (git+https://…)
        return None, _local(editable.split(";")[0].strip()), None
    if not arguments:
        return None, None, None
    if any(o.name == "--hash" for o in options) and _looks_like_path(arguments):
        return None, _local(arguments), None
    if _looks_like_path(arguments) or _URL.match(arguments):
        target = arguments.split(" ;")[0].split(";")[0].strip()
        return (
            None,
            (_local(target) if not _URL.match(target) or target.startswith("file:") else None),
            None,
        )
    try:
        requirement = Requirement(arguments)
    except InvalidRequirement as exc:
        return None, None, _invalid(arguments, exc)
    url = requirement.url or ""
    return requirement, (_local(url) if url.startswith("file:") else None), None


def _looks_like_path(text: str) -> bool:
    """What pip installs as a path rather than a name: it names a folder or file (a slash,
    a leading `.`) or an archive."""
    first = text.split(";")[0].strip()
    if _DIRECT.match(first):
        return False  # `name @ url`: a requirement
    if first.startswith((".", "/", "~")) or first.endswith(_ARCHIVE):
        return True
    return "/" in first


def _local(target: str) -> str:
    return re.sub(r"^file:(//)?", "", target)


def _invalid(text: str, exc: InvalidRequirement) -> str:
    """packaging's complaint, with the likely intended spelling when it is a common slip."""
    hint = ""
    for wrong, right in (("=>", ">="), ("=<", "<="), ("=!", "!="), ("~>", "~=")):
        if wrong in text:
            hint = f" Did you mean `{text.replace(wrong, right, 1)}`?"
            break
    if not hint and re.search(r"(?<![<>=!~])=(?!=)", text.split(";")[0]):
        hint = f" Did you mean `{re.sub(r'(?<![<>=!~])=(?!=)', '==', text, count=1)}`?"
    reason = str(exc).splitlines()[0]
    return f"`{text}` is not a valid requirement, so pip stops the build here: {reason}.{hint}"


def file_options(parsed: Parsed) -> list[tuple[int, Option]]:
    """`-r` and `-c` options: files pip reads next."""
    return [
        (line.number, o) for line in parsed.lines for o in line.options if o.name in _FILE_OPTIONS
    ]


def local_paths(parsed: Parsed) -> list[tuple[int, str, bool]]:
    """Local paths pip installs: (line, path, editable)."""
    return [
        (line.number, line.path, any(o.name == "--editable" for o in line.options))
        for line in parsed.lines
        if line.path is not None
    ]


def index_options(parsed: Parsed) -> list[tuple[int, Option]]:
    names = ("--index-url", "--extra-index-url", "--find-links", "--trusted-host")
    return [(line.number, o) for line in parsed.lines for o in line.options if o.name in names]


def project_of(folder: Path) -> bool:
    """A folder pip can install (`-e ./lib`, `./lib`): a pyproject.toml or setup.py."""
    return (folder / "pyproject.toml").is_file() or (folder / "setup.py").is_file()
