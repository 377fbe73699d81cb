"""tools/actionlint.mjs and tests/workflow_lint.py's shellcheck catch what they are for: a
broken workflow is reported at its lines, a concurrency `queue` is judged by GitHub's schema
rather than refused by an actionlint that predates it, and a bad `run:` script is found."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ..workflow_lint import actionlint, lint, lint_each, shellcheck_findings

__all__ = ["actionlint"]  # a fixture, used by name

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
      - uses: actions/checkout@v7
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


def with_concurrency(workflow_level: str, job_level: str = "") -> str:
    return (
        f"name: q\non: push\nconcurrency:\n  group: g\n{workflow_level}"
        "jobs:\n  a:\n    runs-on: ubuntu-latest\n"
        + (f"    concurrency:\n      group: j\n{job_level}" if job_level else "")
        + "    steps:\n      - run: echo hello\n"
    )


QUEUE_CASES = {
    "max": (with_concurrency("  queue: max\n  cancel-in-progress: false\n"), []),
    "single-and-job-max": (with_concurrency("  queue: single\n", "      queue: max\n"), []),
    "quoted": (with_concurrency('  queue: "max" # quoted\n'), []),
    "bad-value": (with_concurrency("  queue: maxx\n"), ['5:3: concurrency "queue" must be']),
    "max-cancels": (
        with_concurrency("  cancel-in-progress: true\n  queue: max\n"),
        ["6:3: 'queue: max' cannot be combined with 'cancel-in-progress: true'"],
    ),
    "job-max-cancels": (
        with_concurrency("", "      queue: max\n      cancel-in-progress: true\n"),
        ["10:7: 'queue: max' cannot be combined"],
    ),
    "typo": (with_concurrency("  queues: max\n"), ['unexpected key "queues"']),  # not ours
}


@pytest.fixture(scope="module")
def queue_errors(
    actionlint: list[str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """Each case's errors, linted in one run."""
    folder = tmp_path_factory.mktemp("queue")
    paths = {name: folder / f"{name}.yml" for name in QUEUE_CASES}
    for name, path in paths.items():
        path.write_text(QUEUE_CASES[name][0])
    errors = lint_each(actionlint, list(paths.values()))
    return {name: errors[path] for name, path in paths.items()}


@pytest.mark.parametrize("case", QUEUE_CASES)
def test_concurrency_queue_is_judged_by_github_s_schema(
    queue_errors: dict[str, list[str]], case: str
) -> None:
    found, expected = queue_errors[case], QUEUE_CASES[case][1]
    assert len(found) == len(expected), found
    for line, wanted in zip(found, expected, strict=True):
        assert wanted in line, found  # `line:column: message`


def test_shellcheck_finds_a_bad_run_script_as_actionlint_would() -> None:
    spec = yaml.safe_load(
        "jobs:\n  a:\n    steps:\n"
        "      - run: |\n          echo ${{ github.sha }}\n          cd $DIR\n"
        "      - run: Write-Host hi\n        shell: pwsh\n"  # not a shell shellcheck reads
        '      - run: |\n          for x in ${{ inputs.list }}; do echo "$x"; done\n'
    )
    findings = shellcheck_findings(spec)
    # `cd $DIR` unquoted (SC2086), at line 2 of the script (`set -e` comes first, so an
    # unchecked `cd` is not reported); an expression is underscores, never reported, nor is a
    # loop over one (SC2043).
    assert [f.split(":")[0:3] for f in findings] == [
        ["jobs.a.steps[0]", " line 2", " SC2086 (info)"]
    ], findings
