"""action.yml loads on the GitHub runner and can be listed on the Marketplace.

The runner's rules come from its own schema (tests/manifest/action_yaml.json, vendored from
actions/runner) interpreted by tests/manifest/manifest_rules.py; the Marketplace's from
GitHub's metadata syntax reference (tests/manifest/marketplace_icons.txt and the colours below).
The manifest before commit 15b3947 (tests/manifest/action-15b3947-parent.yml) had `${{ }}` in
two descriptions, which killed every job at "Set up job": it must be rejected, with the
runner's message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ..manifest.manifest_rules import NOT_ALLOWED, Schema, check_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_DIR = ROOT / "tests" / "manifest"
OLD_MANIFEST = MANIFEST_DIR / "action-15b3947-parent.yml"
# GitHub docs, metadata syntax reference, `branding.color` (github/docs
# content/actions/reference/workflows-and-actions/metadata-syntax.md @ 8e574c60).
MARKETPLACE_COLORS = {
    "white",
    "black",
    "yellow",
    "blue",
    "green",
    "orange",
    "red",
    "purple",
    "gray-dark",
}
MAX_DESCRIPTION = 125  # the Marketplace's publish form refuses 125 characters or more


def marketplace_icons() -> set[str]:
    lines = (MANIFEST_DIR / "marketplace_icons.txt").read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def marketplace_problems(manifest: dict[str, object]) -> list[str]:
    """What the Marketplace's listing form refuses."""
    problems = []
    if not str(manifest.get("name") or "").strip():
        problems.append("no name")
    description = str(manifest.get("description") or "")
    if not description.strip():
        problems.append("no description")
    elif len(description) >= MAX_DESCRIPTION:
        problems.append(f"description is {len(description)} characters (under {MAX_DESCRIPTION})")
    branding = manifest.get("branding")
    branding = branding if isinstance(branding, dict) else {}
    if branding.get("icon") not in marketplace_icons():
        problems.append(f"branding.icon {branding.get('icon')!r} is not a Marketplace icon")
    if branding.get("color") not in MARKETPLACE_COLORS:
        problems.append(f"branding.color {branding.get('color')!r} is not a Marketplace colour")
    return problems


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


# --- the runner's schema, read rather than re-typed ------------------------------------------


def test_the_schema_names_the_contexts_the_runner_allows(schema: Schema) -> None:
    """The facts the rest relies on, as the vendored schema states them."""
    assert "github" in schema.context("input-default-context")
    assert "hashFiles(1,255)" in schema.context("input-default-context")
    assert schema.context("container-runs-env") == ("inputs",)
    assert schema.context("container-runs-context") == ("inputs",)
    assert schema.context("string") == ()


def test_the_current_action_yml_loads_on_the_runner(schema: Schema) -> None:
    problems = check_manifest((ROOT / "action.yml").read_text(), schema)
    assert problems == [], "\n".join(map(str, problems))


def test_the_manifest_before_the_fix_is_rejected_with_the_runners_message(schema: Schema) -> None:
    text = OLD_MANIFEST.read_text()
    problems = check_manifest(text, schema)
    lines = text.splitlines()
    messages = {
        (lines[p.line - 1].split(":")[0].strip(), p.message.split(".")[0]) for p in problems
    }
    # inputs.registry.description and outputs.matrix.description held expressions.
    assert ("description", "Unrecognized named-value: 'github'") in messages, problems
    assert len(problems) == 2, problems
    assert any("github.repository_owner" in p.message for p in problems)


def test_the_manifest_before_the_fix_breaks_the_marketplace_limit() -> None:
    old = yaml.safe_load(OLD_MANIFEST.read_text())
    assert any("description is" in p for p in marketplace_problems(old))


CASES = {
    # where the schema names no context: a description, an output description, branding
    "description: ${{ github.ref }}\n": "Unrecognized named-value: 'github'",
    "description: ${{ format('a{0}', 'b') }}\n": NOT_ALLOWED,
    "branding: {icon: '${{ inputs.icon }}'}\n": "Unrecognized named-value: 'inputs'",
    "outputs: {o: {description: 'x ${{ runner.os }}'}}\n": "Unrecognized named-value: 'runner'",
    # inputs.<id>.default: github, strategy, matrix, job, runner, hashFiles; not inputs, env
    "inputs: {a: {default: '${{ inputs.b }}'}}\n": "Unrecognized named-value: 'inputs'",
    "inputs: {a: {default: '${{ env.B }}'}}\n": "Unrecognized named-value: 'env'",
    "inputs: {a: {default: '${{ secrets.T }}'}}\n": "Unrecognized named-value: 'secrets'",
    "inputs: {a: {default: '${{ hashFile(1) }}'}}\n": "Unrecognized function: 'hashFile'",
    "inputs: {a: {default: '${{ hashFiles() }}'}}\n": "Too few parameters supplied",
    # runs.env and runs.args: inputs only
    "runs: {using: docker, image: Dockerfile, env: {A: '${{ github.token }}'}}\n": (
        "Unrecognized named-value: 'github'"
    ),
    "runs: {using: docker, image: Dockerfile, args: ['${{ runner.temp }}']}\n": (
        "Unrecognized named-value: 'runner'"
    ),
    "runs: {using: docker, image: '${{ inputs.image }}'}\n": "Unrecognized named-value: 'inputs'",
    "description: 'a ${{ github.ref'\n": "The expression is not closed",
    "runs: {using: docker, image: Dockerfile, args: {a: b}}\n": "A mapping was not expected",
    "runs: {using: docker, image: ''}\n": "Unexpected value ''",
}


@pytest.mark.parametrize("text, message", CASES.items(), ids=list(range(len(CASES))))
def test_an_expression_outside_its_context_is_rejected(
    schema: Schema, text: str, message: str
) -> None:
    problems = check_manifest("name: x\n" + text, schema)
    assert [p.message for p in problems if p.message.startswith(message)], problems


ALLOWED = [
    "inputs: {t: {description: d, default: '${{ github.token }}'}}\n",
    "inputs: {t: {default: '${{ hashFiles(''**/x'') }}-${{ runner.os }}'}}\n",
    "inputs: {t: {default: '${{ matrix.x || job.status || strategy.fail-fast }}'}}\n",
    "runs: {using: docker, image: Dockerfile, args: ['${{ inputs.a }}'], env: {A: '${{ inputs.b }}'}}\n",
    "description: \"${{ '{{ a literal }}' }}\"\n",  # only a quoted literal: a plain string
    "description: 'costs $5 {{ not an expression }}'\n",
    "branding: {icon: upload-cloud, color: blue}\nauthor: anyone\n",
]


@pytest.mark.parametrize("text", ALLOWED, ids=list(range(len(ALLOWED))))
def test_expressions_where_the_schema_names_their_context_load(schema: Schema, text: str) -> None:
    problems = check_manifest("name: x\n" + text, schema)
    assert problems == [], problems


def test_the_error_carries_the_runners_position(schema: Schema) -> None:
    problems = check_manifest(
        "name: x\ninputs:\n  a:\n    description: ${{ github.ref }}\n", schema
    )
    assert [str(p) for p in problems] == [
        "(Line: 4, Col: 18): Unrecognized named-value: 'github'. Located at position 1 "
        "within expression: github.ref"
    ]


# --- the Marketplace ----------------------------------------------------------------------------


def test_the_current_action_yml_can_be_listed_on_the_marketplace() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert marketplace_problems(action) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"name": ""}, "no name"),
        ({"description": "x" * 125}, "description is 125 characters"),
        ({"branding": {"icon": "coffee", "color": "blue"}}, "not a Marketplace icon"),  # omitted
        ({"branding": {"icon": "github", "color": "blue"}}, "not a Marketplace icon"),  # a brand
        ({"branding": {"icon": "upload-cloud", "color": "grey"}}, "not a Marketplace colour"),
    ],
)
def test_the_marketplace_limits_are_enforced(change: dict[str, object], problem: str) -> None:
    action = {**yaml.safe_load((ROOT / "action.yml").read_text()), **change}
    assert any(problem in p for p in marketplace_problems(action))


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
