"""The hook as teams run it: pre-commit itself installs this repository from
.pre-commit-hooks.yaml (`pre-commit try-repo`, into a fresh PRE_COMMIT_HOME: about a minute
for the virtualenv) and runs `prefect-flow-deploy validate` in a git repository of flows."""

from __future__ import annotations

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
    assert "prefect-flow-deploy validate" in failed.stdout and "Failed" in failed.stdout
    assert "error: projects/sales/broken/flow.py:5: sales/broken: syntax error" in failed.stdout

    (broken / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef broken() -> None:\n    pass\n"
    )
    git(repo, "add", "-A")
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "validated 2 flow folders (2 flows)" in passed.stdout

    # Only what `validate` needs is installed (pyproject.toml: the package without its
    # `deploy` extra): no Docker SDK, dulwich, PyGithub or cryptography in the hook's env.
    [python] = (tmp_path / "pre-commit-home").glob("repo*/py_env-*/bin/python")
    for module, installed in (("prefect", True), ("yaml", True), ("docker", False),
                              ("dulwich", False), ("github", False), ("cryptography", False)):  # fmt: skip
        found = subprocess.run(
            [str(python), "-c", f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert found == str(installed), module

    # The config file is looked up where the CLI and the action look: the repository root.
    (repo / "prefect-flow-deploy.yaml").write_text("tenants:\n  prod:\n    work_pool: x\n")
    git(repo, "add", "-A")
    broken = hook()
    assert broken.returncode == 3, broken.stdout + broken.stderr
    assert "prefect-flow-deploy.yaml:3: unknown setting `work_pool`" in broken.stdout
