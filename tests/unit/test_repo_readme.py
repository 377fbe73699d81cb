"""The README: every workflow or step it shows passes actionlint and pins third-party
actions as the README says, and its inputs and outputs tables are action.yml's."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..workflow_lint import actionlint, lint, major_problems

__all__ = ["actionlint"]  # a fixture, used by name

ROOT = Path(__file__).resolve().parents[2]

# --- README: every workflow or step it shows is a valid workflow -----------------------------

README = ROOT / "README.md"
# The README and the pages it links to, which hold the recipes' snippets.
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```ya?ml\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def readme_snippets() -> list[tuple[str, str]]:
    """The ```yaml blocks of the README and docs/ (page-line of the fence, text without its
    indentation)."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            indent = len(match.group(1))
            body = "\n".join(line[indent:] for line in match.group(2).splitlines())
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.stem}-{line}", body + "\n"))
    return found


def as_workflow(snippet: str) -> str | None:
    """A workflow as is; a step, or a list of steps, wrapped into a minimal job; None for the
    other YAML the README shows (the tenant config file)."""
    spec = yaml.safe_load(snippet)
    if isinstance(spec, dict) and "jobs" in spec:
        return snippet
    steps = spec if isinstance(spec, list) else [spec]
    if not all(isinstance(s, dict) and ("uses" in s or "run" in s) for s in steps):
        return None
    return (
        "name: readme snippet\non: push\npermissions: {contents: read, packages: write}\n"
        "jobs:\n  snippet:\n    runs-on: ubuntu-latest\n    steps:\n"
        + "".join(f"      {line}\n" for line in yaml.safe_dump(steps, sort_keys=False).splitlines())
    )


def test_readme_workflows_and_steps_pass_actionlint(actionlint: list[str], tmp_path: Path) -> None:
    files = []
    for line, snippet in readme_snippets():
        workflow = as_workflow(snippet)
        if workflow is None:  # other YAML (the config file, pre-commit), never half a step
            assert not re.search(r"^\s*-?\s*(uses|run|jobs|steps):", snippet, re.M), line
            continue
        files.append(tmp_path / f"readme-line-{line}.yml")
        files[-1].write_text(workflow)
    assert len(files) >= 4, "the README shows the usage workflow and the recipes' steps"
    done = lint(actionlint, *files)
    assert done.returncode == 0, f"actionlint found errors in README snippets:\n{done.stdout}"


def test_a_broken_readme_step_would_be_caught(actionlint: list[str], tmp_path: Path) -> None:
    step = "- uses: acme/prefect-flow-deploy@v1\n  with: {registry: x}\n  env: ${{ secret.X }}\n"
    workflow = as_workflow(step)
    assert workflow is not None
    (tmp_path / "bad.yml").write_text(workflow)
    assert lint(actionlint, tmp_path / "bad.yml").returncode != 0


def test_readme_snippets_use_the_current_major_of_each_third_party_action() -> None:
    """Short pins for readability (`actions/checkout@v7`), never a Node 20 major the runner
    warns about; the README says that the example workflows pin by commit SHA."""
    text = "\n".join(page.read_text() for page in PAGES)
    assert major_problems(text) == []
    assert "pin them by full commit SHA" in text


# --- README: the inputs and outputs tables match action.yml --------------------------------


def _section(text: str, name: str) -> str:
    match = re.search(f"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.DOTALL)
    assert match, f"README.md has no <!-- {name}:start/end --> markers"
    return match.group(1)


def _table(section: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped of backticks) of the first table after `heading`."""
    after = section.split(heading, 1)
    assert len(after) == 2, f"no {heading!r} in the action reference"
    rows = []
    for line in after[1].lstrip().splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        rows.append([c.strip("`") for c in cells])
    return rows[1:]  # without the header row


def test_readme_tables_list_exactly_the_inputs_and_outputs_of_action_yml() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    section = _section((ROOT / "README.md").read_text(), "action-reference")
    inputs = _table(section, "### Inputs")
    outputs = _table(section, "### Outputs")

    documented = {row[0]: row[1] for row in inputs}
    declared = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    assert list(documented) == list(declared), "README inputs (names, order) differ"
    assert documented == declared, "README input defaults differ from action.yml"
    assert all(len(row) == 3 and row[2] for row in inputs), "every input needs a description"

    assert [row[0] for row in outputs] == list(action["outputs"])
    assert all(len(row) == 2 and row[1] for row in outputs), "every output needs a description"
