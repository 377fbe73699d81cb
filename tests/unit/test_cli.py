"""The command line's own surface: help that fits 80 columns in panels, --version, the exit
status of a usage error, and the config lookup it shares with the action and the hook."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from prefect_flow_deploy.cli import app
from prefect_flow_deploy.cli_options import READ_SETTINGS, RUN_SETTINGS, SHARED

CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands if c.callback)


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PFD_"))}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, env={**variables, **env},
        timeout=120,
    )  # fmt: skip


def test_every_command_is_rendered() -> None:
    assert COMMANDS == ["adopt", "deploy", "new", "plan", "validate"]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_80_columns_without_a_cut(command: str) -> None:
    """Rich cuts a word that does not fit its column with an ellipsis: none may be cut."""
    done = run(*([command] if command else []), "--help", COLUMNS="80", TERMINAL_WIDTH="80")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []
    assert "…" not in done.stdout, done.stdout


def test_options_are_grouped_in_panels() -> None:
    done = run("plan", "--help", COLUMNS="80", TERMINAL_WIDTH="80")
    panels = re.findall(r"╭─ ([A-Za-z ]+?) ─", done.stdout)
    assert panels == [
        "Options", "Repository", "Registry and build", "Prefect", "Run", "Pull request previews"
    ]  # fmt: skip
    for name in RUN_SETTINGS:
        assert "--" + name.replace("_", "-") in done.stdout, name


def test_commands_share_one_declaration_of_each_option() -> None:
    """validate takes the reading options, plan and deploy every run option, from SHARED."""
    assert set(READ_SETTINGS) < set(RUN_SETTINGS) < set(SHARED)
    assert set(SHARED) - set(RUN_SETTINGS) == {"fail_fast"}
    validate_help = run("validate", "--help", COLUMNS="80", TERMINAL_WIDTH="80").stdout
    assert "--config" in validate_help and "--registry" not in validate_help


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"prefect-flow-deploy {version('prefect-flow-deploy')}"


def test_a_usage_error_exits_2_and_a_wrong_setting_3(tmp_path: Path) -> None:
    unknown = run("plan", "--no-such-option")
    assert unknown.returncode == 2 and "No such option" in unknown.stderr
    (tmp_path / "projects").mkdir()
    wrong = run("validate", "--projects-root", str(tmp_path / "nope"), cwd=tmp_path)
    assert wrong.returncode == 3 and "is not a folder" in wrong.stderr


def test_the_config_file_is_found_at_the_repository_root_from_a_subfolder(
    tmp_path: Path,
) -> None:
    """The one lookup (settings.config_file): the git checkout's top level, whatever the
    working directory or the projects root; `--config` instead when given."""
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "deep" / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text("from prefect import flow\n\n\n@flow\ndef daily():\n    pass\n")
    (tmp_path / "prefect-flow-deploy.yaml").write_text("tenants:\n  prod:\n    work_pool: x\n")
    done = run("validate", "--projects-root", "projects", "--tenant", "prod", cwd=folder.parents[2])
    assert done.returncode == 3, done.stderr
    assert f"{tmp_path / 'prefect-flow-deploy.yaml'}:3: unknown setting `work_pool`" in done.stderr
    good = tmp_path / "good.yaml"
    good.write_text("tenants:\n  prod:\n    work-pool: x\n")
    done = run(
        "validate", "--projects-root", "projects", "--tenant", "prod", "--config", str(good),
        cwd=folder.parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "validated 1 flow folder (1 flow)" in done.stderr


def test_validate_imports_no_package_of_the_deploy_extra_and_plan_asks_for_it(
    tmp_path: Path,
) -> None:
    """The pre-commit hook installs the package without its `deploy` extra (pyproject.toml):
    `validate` runs with the Docker SDK, dulwich and PyGithub unimportable (it imports none:
    start-up stays short); `plan` says what to install (exit 3)."""
    folder = tmp_path / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text("from prefect import flow\n\n\n@flow\ndef daily():\n    pass\n")
    (folder / "requirements.txt").write_text("httpx\n")
    (folder / ".dockerignore").write_text("*.csv\n")
    program = (
        "import sys\n"
        "for name in ('docker', 'dulwich', 'github', 'cryptography', 'nacl', 'jwt'):\n"
        "    sys.modules[name] = None  # import fails, as when it is not installed\n"
        "from prefect_flow_deploy.cli import main\n"
        "main()\n"
    )
    for command, status, said in (
        ("validate", 0, "validated 1 flow folder (1 flow)"),
        ("plan", 3, "pip install 'prefect-flow-deploy[deploy]'"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", program, command], capture_output=True, text=True,
            cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert done.returncode == status, done.stderr
        assert said in done.stderr
