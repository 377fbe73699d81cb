"""Every bad input `validate` can tell (tests/bad_inputs.py, stage "read"), one at a time
beside a good folder: the command's exit status, the file and line it points at, what it
tells the user to do, and the good folder untouched. In-process (typer's runner): about a
second for all of them. The real stack runs every case through plan and deploy too
(tests/integration/test_bad_inputs.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prefect_flow_deploy.cli import app

from ...bad_inputs import CASES, GOOD, Case, expected_path, write_case, write_config

READ_CASES = [c for c in CASES if c.stage == "read"]
PROJECT = "bad"
# Placeholders of the case files; nothing is pulled or built here.
ENV = {
    "base": "example.com/base:1",
    "python_base": "example.com/py:1",
    "registry": "example.com",
    "run": "unit",
}
# `<severity>: <file>[:<line>]: <project>/<folder>: <message>` (the plain, non-GitHub form).
REPORTED = re.compile(r"^(error|warning): (.+?)(?::(\d+))?: (?:([^/\s]+/[^:\s]+): )?(.*)$")


def reported(output: str) -> list[tuple[str, str, int | None, str, str]]:
    found = []
    for text in output.splitlines():
        match = REPORTED.match(text)
        if match:
            severity, file, line, key, message = match.groups()
            found.append((severity, file, int(line) if line else None, key, message))
    return found


@pytest.mark.parametrize("case", READ_CASES, ids=[c.kind for c in READ_CASES])
def test_validate_reports_the_bad_input_at_its_file_and_line(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "projects"
    write_case(root, PROJECT, case, ENV)
    write_case(root, PROJECT, Case(GOOD, {}, ".", None, ""), ENV)
    config_lines = write_config(root, "prod", [case])
    monkeypatch.chdir(tmp_path)  # paths are printed relative to the working directory

    command = ["validate", "--projects-root", "projects", "--tenant", "prod"]
    done = CliRunner().invoke(app, command)

    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert done.exit_code == (1 if case.severity == "error" else 0), done.output
    want = expected_path(Path("projects"), PROJECT, case).as_posix()
    line = config_lines.get(case.kind, case.line)
    found = reported(done.output)
    # Printed relative to the working directory, or absolute (the config file, resolved).
    same = os.path.normpath(tmp_path.resolve() / want)
    matching = [
        f
        for f in found
        if (f[0], os.path.normpath(tmp_path.resolve() / f[1]), f[2]) == (case.severity, same, line)
    ]
    assert matching, (want, line, done.output)
    assert any(case.advice in f[4] for f in matching), (case.advice, matching)
    assert not [f for f in found if f[3] == f"{PROJECT}/{GOOD}"], done.output  # good stays good


def test_the_suite_holds_at_least_40_kinds() -> None:
    kinds = [c.kind for c in CASES]
    assert len(set(kinds)) == len(kinds) >= 40
