"""The hook as teams run it: pre-commit itself installs this repository from
.pre-commit-hooks.yaml (`pre-commit try-repo`, into a fresh PRE_COMMIT_HOME) and runs
`prefect-flow-deploy validate` in a git repository of flows.

pre-commit here has pre-commit-uv beside it (a dev dependency), so it makes the hook's
environment with `uv venv` and `uv pip install .` instead of virtualenv and pip: the same
install of the same package, about 20 s instead of 100 (2026-12-04). What pip itself would
resolve for a team without uv is checked apart, with pip's own `--dry-run --report`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..conftest import ROOT

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


def test_the_hook_fails_a_commit_with_a_broken_flow_at_its_line_then_passes(tmp_path: Path) -> None:
    repo = tmp_path / "flows"
    good = repo / "projects" / "sales" / "daily"
    good.mkdir(parents=True)
    (good / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef daily(n: int = 1) -> int:\n    return n\n"
    )
    broken = repo / "projects" / "sales" / "broken"
    broken.mkdir()
    (broken / "flow.py").write_text("from prefect import flow\n\n\n@flow\ndef broken(:\n    pass\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PRE_COMMIT, "try-repo", str(ROOT), "prefect-flow-deploy-validate", "--all-files", "--verbose"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "via pre-commit-uv" in failed.stdout + failed.stderr  # the install took the quick way
    assert "prefect-flow-deploy validate" in failed.stdout and "Failed" in failed.stdout
    assert "error: projects/sales/broken/flow.py:5: sales/broken: syntax error" in failed.stdout

    (broken / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef broken() -> None:\n    pass\n"
    )
    git(repo, "add", "-A")
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "validated 2 flow folders (2 flows)" in passed.stdout

    # Only what `validate` needs is installed: pre-commit's python hooks run `pip install .`
    # (no extra), so the package without its `deploy` extra. What that resolves to, as pip
    # itself reports it: no dulwich, PyGithub or PyNaCl.
    report = tmp_path / "install.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    installs = json.loads(report.read_text())["install"]
    names = {i["metadata"]["name"].lower() for i in installs}
    assert {"prefect", "pyyaml", "typer", "griffe", "packaging"} <= names
    assert names.isdisjoint({"dulwich", "pygithub", "pynacl", "pyjwt"}), names
    # The Docker SDK and cryptography come with Prefect itself; we ask for neither.
    ours = next(i for i in installs if i["metadata"]["name"] == "prefect-flow-deploy")
    asked = [r for r in ours["metadata"]["requires_dist"] if "extra ==" not in r]
    assert not [r for r in asked if r.lower().startswith(("docker", "dulwich", "pygithub"))]

    # The config file is looked up where the CLI and the action look: the repository root.
    (repo / "prefect-flow-deploy.yaml").write_text("defaults:\n  work_pool: x\n")
    git(repo, "add", "-A")
    broken = hook()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "- exit code: 3" in broken.stdout  # the hook's own: a wrong config file
    assert "prefect-flow-deploy.yaml:2: unknown setting `work_pool`" in broken.stdout
