"""The README, CONTRIBUTING.md and the pages under docs/: every relative link and #anchor
resolves, and what they say of exit statuses, action inputs and outputs and config-file keys
matches the code. The README stays a Marketplace page: under 300 lines."""

from __future__ import annotations

import importlib
import re
import signal
import unicodedata
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote

import pytest
import yaml

# The modules this test reads, named once: the package is being restructured, and a module
# that moves only needs its path changed here. Imported inside the tests, so that a stale
# path fails these tests alone, not the collection of the suite.
ERRORS_MODULE = "prefect_flow_deploy.core.errors"  # the exception classes and their `exit_code`
OPTIONS_MODULE = "prefect_flow_deploy.settings.options"  # SETTINGS, the table of settings
USAGE_ERROR = ("click.exceptions", "UsageError")  # typer's usage errors are click's

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CLI_PAGE = ROOT / "docs" / "cli.md"  # the exit statuses
CONFIG_PAGE = ROOT / "docs" / "tenants.md"  # the config file's keys
PAGES = [README, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 300  # docker/build-push-action's is 288 (issue 23)

# What each exit status must be described with (case-insensitive), in docs/cli.md's table.
# A status the code defines without an entry here fails the test: document it, then add it.
MEANINGS: dict[int, tuple[str, ...]] = {
    0: ("deployed",),
    1: ("failed",),
    2: ("usage error",),
    3: ("config", "no flow folder"),
    4: ("docker",),
    5: ("registry",),
    6: ("prefect api", "no prefect api configured"),
    7: ("deadline",),
    8: ("plan",),
    128 + signal.SIGINT: ("sigint",),  # cancellation.py: 128 + the signal's number
    128 + signal.SIGTERM: ("sigterm",),
}


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


# --- Markdown, read as GitHub reads it ----------------------------------------------------

FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose(text: str) -> str:
    """The text without fenced code blocks (kept as empty lines, so line numbers stay)."""
    return _read_fences(text)[0]


def _read_fences(text: str) -> tuple[str, str]:
    """(the prose, the fence still open at the end: "" when every block is closed)."""
    lines, fence = [], ""
    for line in text.splitlines():
        match = FENCE_LINE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            lines.append("")
        elif match:
            fence = match.group(1)
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines), fence


# GitHub's heading anchors, as github-slugger reproduces them (github.com/Flet/github-slugger,
# index.js and script/generate-regex.mjs): lower-case the heading's text, drop every
# character of the Unicode categories below (punctuation except `-`, symbols, controls,
# separators except the space) unless it is alphabetic, then turn each space into `-`.
# Letters, digits, `_` (connector punctuation) and `-` stay; a slug met again gets `-1`, `-2`.
DROPPED_CATEGORIES = {"No", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So"}
DROPPED_CATEGORIES |= {"Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"}


def slug(heading: str) -> str:
    text = LINK.sub(lambda m: m.group(1), heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()  # inline HTML shows nothing
    kept = (
        c
        for c in text
        if c in " -" or c.isalpha() or unicodedata.category(c) not in DROPPED_CATEGORIES
    )
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every #anchor GitHub gives the page's headings (and its explicit HTML anchors)."""
    text = prose(page.read_text())
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for line in text.splitlines():
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every link and image of the page's prose, code spans left out."""
    text = prose(page.read_text())
    text = CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in LINK.finditer(text)]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for line, target in links(page):
        where = f"{page.relative_to(root)}:{line}: {target}"
        if not target or SCHEME.match(target):
            continue  # https:, mailto: ...: not this repository's
        path, _, anchor = unquote(target).partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(root):
            problems.append(f"{where}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{where}: no such file")
        elif anchor and resolved.suffix != ".md":
            problems.append(f"{where}: an anchor into a file that is not Markdown")
        elif anchor and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading with that anchor in {resolved.name}")
    if _read_fences(page.read_text())[1]:
        problems.append(f"{page.relative_to(root)}: a code block is never closed")
    return problems


def test_the_slug_rule_gives_githubs_anchors() -> None:
    """Anchors GitHub gives these headings (the bench page's is linked from docs/)."""
    assert slug("Old images: `keep-images`") == "old-images-keep-images"
    assert slug("Tenants: `prefect-flow-deploy.yaml`") == "tenants-prefect-flow-deployyaml"
    assert (
        slug("Shared builder (`bench/shared_builder.py`)") == "shared-builder-benchshared_builderpy"
    )
    assert slug("No flow folder found: exit 3") == "no-flow-folder-found-exit-3"
    assert slug("Heading 2.0 - A Complex One") == "heading-20---a-complex-one"
    assert slug("[The plan](plan.md) & its hash") == "the-plan--its-hash"


def test_broken_links_are_found(tmp_path: Path) -> None:
    """The check itself: a missing file, a missing anchor, a link out of the repository; a
    link in code is no link."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cli.md").write_text("# CLI\n\n## Exit status\n")
    page = tmp_path / "docs" / "probe.md"
    page.write_text(
        "# Probe\n\n[ok](#probe) [ok](cli.md#exit-status) [gone](nope.md) [bad](#nope)\n"
        "[out](../../x.md) [anchor](cli.md#exit) `[code](nope.md)`\n\n```\n[fenced](no.md)\n```\n"
        "\n```yaml\n[never closed](no.md)\n"
    )
    problems = [p.split(": ", 1)[1] for p in broken_links(page, tmp_path)]
    assert problems == [
        "nope.md: no such file",
        "#nope: no heading with that anchor in probe.md",
        "../../x.md: outside the repository",
        "cli.md#exit: no heading with that anchor in cli.md",
        "a code block is never closed",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_is_a_marketplace_page_under_300_lines() -> None:
    lines = len(README.read_text().splitlines())
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines: move detail into a page under docs/ and link it"
    )


# --- What the pages say, against the code -------------------------------------------------


def defined_exit_statuses() -> dict[int, list[str]]:
    """Each exit status the code defines, with what defines it: every exception class of the
    errors module with an `exit_code`, and the usage error (typer's, which is click's)."""
    errors = load(ERRORS_MODULE)
    found: dict[int, list[str]] = {}
    for name, value in vars(errors).items():
        code = getattr(value, "exit_code", None)
        if isinstance(value, type) and issubclass(value, BaseException) and isinstance(code, int):
            found.setdefault(code, []).append(name)
    module, name = USAGE_ERROR
    usage_error = getattr(load(module), name)
    found.setdefault(usage_error.exit_code, []).append(f"{module}.{name}")
    return found


def documented_exit_statuses() -> dict[int, str]:
    """docs/cli.md's "Exit status" table: each status (a cell may list several) → meaning."""
    text = prose(CLI_PAGE.read_text())
    section = re.search(r"^## Exit status\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, f"{CLI_PAGE.name} has no '## Exit status' section"
    rows: dict[int, str] = {}
    for line in section.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|", 1)]
        if line.startswith("|") and len(cells) == 2 and re.fullmatch(r"[\d, ]+", cells[0]):
            for code in re.findall(r"\d+", cells[0]):
                assert int(code) not in rows, f"exit status {code} is documented twice"
                rows[int(code)] = cells[1]
    return rows


def test_every_exit_status_the_code_defines_is_documented_with_its_meaning() -> None:
    defined = defined_exit_statuses()
    assert {1, 2, 3, 4, 5, 6, 7, 8} <= set(defined), defined  # the module was read
    documented = documented_exit_statuses()
    for code, where in sorted(defined.items()):
        assert code in MEANINGS, f"exit status {code} ({where}) is new: document it, add it here"
        assert code in documented, f"exit status {code} ({where}) is not in {CLI_PAGE.name}"
    for code, meaning in documented.items():
        assert code in MEANINGS, f"{CLI_PAGE.name} documents exit status {code}, unknown here"
        for keyword in MEANINGS[code]:
            assert keyword in meaning.lower(), f"exit status {code}: no {keyword!r} in {meaning!r}"
    assert set(MEANINGS) <= set(documented), "a status this test knows is not documented"


def test_the_readme_names_every_input_and_output_of_action_yml() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    text = README.read_text()
    missing = [name for name in [*action["inputs"], *action["outputs"]] if f"`{name}`" not in text]
    assert missing == []


def test_the_config_page_lists_exactly_the_keys_of_the_config_file() -> None:
    """The keys the config file may set are the settings with a YAML type (`file`); the
    page's Settings table lists each of them, and nothing else."""
    settings = load(OPTIONS_MODULE).SETTINGS
    keys = {setting.key for setting in settings.values() if setting.file}
    assert {"work-pool", "tags", "parameters"} <= keys  # the table was read
    text = prose(CONFIG_PAGE.read_text())
    section = re.search(r"^## Settings\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, f"{CONFIG_PAGE.name} has no '## Settings' section"
    listed = re.findall(r"^\| `([^`]+)` \|", section.group(1), re.M)
    assert sorted(listed) == sorted(keys), f"{CONFIG_PAGE.name}'s settings table differs"
