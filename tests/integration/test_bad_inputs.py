"""Every bad input of tests/bad_inputs.py at once, beside a good folder, through `validate`,
`plan` and `deploy` as GitHub runs them (GITHUB_ACTIONS=true: each problem is a workflow
annotation with its file and line) against the real registry, Prefect server and Docker
engine. One run of each command for all the cases; each case is then checked on its own:
the run's exit status, the annotation (severity, file, line, the advice in the message),
and what became of its deployment (`--json`): failed, or deployed in spite of a warning.
The good folder must deploy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..bad_inputs import (
    CASES,
    COMMAND_STAGES,
    GOOD,
    Case,
    expected_path,
    write_case,
    write_config,
)
from ..conftest import Stack, fresh_suffix
from .test_cli import cli

pytestmark = pytest.mark.stack

# `::error title=T,file=F,line=N::message`, properties and message escaped as the runner's
# ActionCommand.cs unescapes them (%25 %0D %0A, and %3A %2C in properties).
ANNOTATION = re.compile(r"^::(error|warning|notice) ?([^:]*)::(.*)$")


def unescape(text: str, property_value: bool = False) -> str:
    if property_value:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@dataclass(frozen=True)
class Annotation:
    severity: str
    file: str | None
    line: int | None
    message: str


def annotations(stderr: str) -> list[Annotation]:
    found = []
    for text in stderr.splitlines():
        match = ANNOTATION.match(text)
        if not match:
            continue
        properties = dict(
            (key, unescape(value, True))
            for key, _, value in (p.partition("=") for p in match.group(2).split(",") if p)
        )
        line = properties.get("line")
        found.append(
            Annotation(
                match.group(1),
                properties.get("file"),
                int(line) if line else None,
                unescape(match.group(3)),
            )
        )
    return found


@dataclass(frozen=True)
class Runs:
    repo: Path
    project: str
    done: dict[str, subprocess.CompletedProcess[str]]
    config_lines: dict[str, int]  # the config file's line of each case set there

    def annotations(self, command: str) -> list[Annotation]:
        run = self.done[command]  # without --json, workflow commands go to stdout
        return annotations(run.stderr + "\n" + (run.stdout if command == "validate" else ""))

    def data(self, command: str) -> Any:
        return json.loads(self.done[command].stdout)


@pytest.fixture(scope="module")
def runs(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Runs:
    suffix = fresh_suffix(request)
    repo = tmp_path_factory.mktemp("bad-inputs") / "repo"
    root, project = repo / "projects", f"bad-{suffix}"
    files = {
        "base": stack.base_image,
        "python_base": stack.env["PFD_BASE_PYTHON"],
        "registry": stack.registry,
        "run": suffix,
    }
    write_case(root, project, Case(GOOD, {}, ".", None, "", outcome="created"), files)
    for case in CASES:
        write_case(root, project, case, files)
    config_lines = write_config(root, f"t{suffix}", CASES)
    options = [
        "--projects-root", str(root), "--registry", f"{stack.registry}/t{suffix}",
        "--base-image", stack.base_image, "--tenant", f"t{suffix}",
        "--work-pool", f"pool-{suffix}", "--create-work-pool", "--max-parallel", "4",
    ]  # fmt: skip
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo)}
    commands = {
        "validate": ["validate", "--projects-root", str(root), "--tenant", f"t{suffix}"],
        "plan": ["plan", "--json", *options],
        "deploy": ["deploy", "--json", *options],
    }
    done = {}
    for name, command in commands.items():
        started = time.monotonic()
        done[name] = cli(*command, env=env, cwd=repo)
        took = time.monotonic() - started
        # Kept beside the repository for a look after a failure (pytest keeps the last runs).
        (repo.parent / f"{name}.log").write_text(
            f"{took:.1f}s exit {done[name].returncode}\n{done[name].stdout}\n{done[name].stderr}"
        )
    return Runs(repo, project, done, config_lines)


def outcome(runs: Runs, command: str, case: Case) -> str | None:
    """What became of the case's deployment: failed, created (planned: create), or None."""
    project = f"{case.project}-{runs.project}" if case.project else runs.project
    if command == "plan":
        rows = [r for r in runs.data("plan")["items"] if r["folder"] == f"{project}/{case.kind}"]
        actions = {r["deployment_action"] for r in rows}
        return "failed" if "failed" in actions else "created" if "create" in actions else None
    rows = [r for r in runs.data("deploy") if r["project"] == project and r["folder"] == case.kind]
    statuses = {r["status"] for r in rows}
    return "failed" if "failed" in statuses else "created" if "created" in statuses else None


PAIRS = [
    (command, case)
    for command, stages in COMMAND_STAGES.items()
    for case in CASES
    if case.stage in stages
]


@pytest.mark.parametrize(
    ("command", "case"), PAIRS, ids=[f"{command}-{case.kind}" for command, case in PAIRS]
)
def test_reported_at_its_file_and_line_with_what_to_do(
    runs: Runs, command: str, case: Case
) -> None:
    run = runs.done[command]
    assert run.returncode == 1, run.stderr[-3000:]  # the errors among the cases
    assert "Traceback" not in run.stderr
    want = expected_path(Path("projects"), runs.project, case).as_posix()
    line = runs.config_lines.get(case.kind, case.line)
    at = [
        a
        for a in runs.annotations(command)
        if (a.severity, a.file, a.line) == (case.severity, want, line)
    ]
    assert at, (want, line, [a for a in runs.annotations(command) if case.kind in str(a)])
    assert any(case.advice in a.message for a in at), (case.advice, at)
    if command != "validate":  # validate has no outcome to give
        planned = "created" if command == "plan" and case.stage in ("build", "write") else None
        assert outcome(runs, command, case) == (planned or case.outcome)


def test_the_good_folder_deploys_beside_them_all(runs: Runs) -> None:
    good = Case(GOOD, {}, ".", None, "")
    assert outcome(runs, "plan", good) == "created"
    assert outcome(runs, "deploy", good) == "created"
    for command in runs.done:
        assert not [a for a in runs.annotations(command) if f"/{GOOD}/" in f"{a.file}/"]


def test_each_command_says_how_many_annotations_github_will_not_show(runs: Runs) -> None:
    """The runner keeps 10 annotations of a kind per step (actions/runner
    ExecutionContext.AddIssue, `_maxCountPerIssueType`); the suite makes far more errors, so
    the last annotation of each command is a notice that counts them."""
    for command in runs.done:
        made = runs.annotations(command)
        errors = sum(1 for a in made if a.severity == "error")
        assert errors > 10, command
        assert made[-1].severity == "notice", (command, made[-1])
        assert made[-1].message.startswith(f"This step made {errors} errors"), made[-1]
