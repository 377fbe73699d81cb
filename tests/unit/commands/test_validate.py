"""`validate` (the pre-commit check) and `new` (a flow folder that deploys as it is): both
read folders with the plan's own rules, without Docker, Prefect's server or a registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pre_commit.clientlib import InvalidManifestError, load_manifest

from prefect_flow_deploy.commands.new import NewFlow, create
from prefect_flow_deploy.commands.validate import validate
from prefect_flow_deploy.deployment.cron import cron_verdict
from prefect_flow_deploy.deployment.schedules import ScheduleError, exact_schedules
from prefect_flow_deploy.reading.discovery import read_folder
from prefect_flow_deploy.settings.options import Options

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def flow_file(folder: Path, function: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flow.py"
    path.write_text(
        text
        or f"from prefect import flow\n\n\n@flow\ndef {function}(x: int = 1) -> int:\n    return x\n"
    )
    return path


def test_validate_reports_each_error_at_its_file_and_line_and_exits_1(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    flow_file(root / "sales" / "good", "good")
    flow_file(
        root / "sales" / "broken", "broken", "from prefect import flow\n@flow\ndef broken(:\n"
    )
    flow_file(root / "sales" / "twin_a", "twin")
    flow_file(root / "sales" / "twin_b", "twin")
    scheduled = root / "sales" / "scheduled"
    flow_file(scheduled, "scheduled")
    (scheduled / "prefect.yaml").write_text(
        "deployments:\n- name: sales\n  entrypoint: flow.py:scheduled\n  schedules:\n  - cron: '61 * * * *'\n"
    )
    outside = root / "sales" / "outside"
    flow_file(outside, "outside")
    (outside / "requirements.txt").write_text("httpx\n-r ../common.txt\n")

    done = cli("validate", "--projects-root", "projects", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "error: projects/sales/broken/flow.py:3:" in err
    assert (
        "error: projects/sales/twin_a/flow.py:5: sales/twin_a: the deployment twin/sales is defined twice"
        in err
    )
    assert "error: projects/sales/twin_b/flow.py:5:" in err
    assert (
        "error: projects/sales/scheduled/prefect.yaml:5: sales/scheduled: invalid schedule" in err
    )
    assert 'Invalid cron string: "61 * * * *"' in err
    assert "error: projects/sales/outside/requirements.txt:2:" in err
    assert "validated 6 flow folders" in err and "5 errors" in err
    assert "sales/good" not in err  # the good folder has nothing to say


def test_validate_passes_a_clean_repository_with_exit_0(tmp_path: Path) -> None:
    flow_file(tmp_path / "projects" / "sales" / "good", "good")
    done = cli("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "validated 1 flow folder (1 flow)" in done.stderr and "0 errors, 0 warnings" in done.stderr
    )


def test_the_summary_counts_every_warning_said(tmp_path: Path) -> None:
    """A flow file loose in a project folder belongs to no flow folder: its warning is said
    and counted (before: said, and the summary read "0 warnings")."""
    flow_file(tmp_path / "projects" / "sales" / "good", "good")
    flow_file(tmp_path / "projects" / "sales", "stray")
    done = cli("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning: ") == 1 and "0 errors, 1 warning" in done.stderr


@pytest.mark.parametrize(
    "config",
    [
        {"cron": "0 6 * * *"},
        {"cron": "*/15 9-17 * * mon-fri", "timezone": "Europe/Paris"},
        {"cron": "@daily"},
        {"cron": "0 6 * *"},
        {"cron": "61 * * * *"},
        {"cron": "0 6 * * * * *"},
        {"cron": "H 6 * * *"},  # croniter's hashed form: Prefect refuses it
        {"cron": "0 6 * * *", "timezone": "Mars/Olympus"},
        {"cron": "0 6 * * *", "day_or": False, "active": False, "slug": "s"},
    ],
)
def test_the_quick_cron_rule_gives_prefect_s_verdict(config: dict[str, object]) -> None:
    quick = cron_verdict(config)
    assert quick is None or isinstance(quick, str)  # a plain cron schedule: judged here
    try:
        exact_schedules([config])
        prefect_accepts = True
    except ScheduleError:
        prefect_accepts = False
    assert (quick is None) == prefect_accepts, quick


def test_schedules_the_quick_rule_does_not_cover_are_left_to_prefect() -> None:
    assert cron_verdict({"interval": 60}) is False
    assert cron_verdict({"rrule": "FREQ=DAILY"}) is False
    assert cron_verdict({"cron": "0 6 * * *", "anchor_date": "2026-01-01"}) is False


def test_the_pre_commit_manifest_is_valid_for_pre_commit() -> None:
    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "prefect-flow-deploy-validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["entry"] == "prefect-flow-deploy validate"
    assert (
        'prefect-flow-deploy = "prefect_flow_deploy.cli:main"'
        in (ROOT / "pyproject.toml").read_text()
    )


def test_pre_commit_s_schema_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "hooks.yaml"
    broken.write_text(
        (ROOT / ".pre-commit-hooks.yaml").read_text().replace("language: python", "language: pythn")
    )
    with pytest.raises(InvalidManifestError):
        load_manifest(str(broken))


def test_a_new_folder_passes_validate_with_nothing_to_say(tmp_path: Path) -> None:
    options = Options(projects_root=tmp_path / "projects")
    create(NewFlow("sales", "daily_orders", schedule="0 6 * * *"), options)
    create(NewFlow("sales", "weekly", flow="weekly report"), options)
    outcome = validate(options)
    assert [f.key for f in outcome.folders] == ["sales/daily_orders", "sales/weekly"]
    assert [p for f in outcome.folders for p in f.problems] == []
    daily = read_folder("sales", tmp_path / "projects" / "sales" / "daily_orders")
    (flow,) = daily.flows
    assert flow.name == "daily-orders"  # Prefect's name for the function
    assert flow.description and flow.description.startswith("Greet `name`")
    assert flow.parameter_schema["properties"]["name"]["type"] == "string"
    assert (daily.path / "requirements.txt").read_text() == ""
    (config,) = daily.deployment_configs
    assert config.schedules == ({"cron": "0 6 * * *", "timezone": "UTC"},)
    (weekly,) = read_folder("sales", tmp_path / "projects" / "sales" / "weekly").flows
    assert weekly.name == "weekly report"


def test_one_validate_run_reports_every_mistake_of_a_prefect_yaml(tmp_path: Path) -> None:
    """Four different mistakes in one prefect.yaml: a bad schedule, a parameter of the wrong
    type, a deployment name used twice, a field of the wrong shape. The plan's own decision
    judges every entry, so one run reports all four (it once took three runs: a field that
    could not be read failed the folder, a failing flow hid its schedules)."""
    folder = tmp_path / "projects" / "sales" / "daily"
    flow_file(folder, "daily")
    (folder / "prefect.yaml").write_text(
        "deployments:\n"
        "- name: cron\n  entrypoint: flow.py:daily\n  schedules:\n  - cron: '61 * * * *'\n"
        "- name: typed\n  entrypoint: flow.py:daily\n  parameters:\n    x: three\n"
        "- name: twice\n  entrypoint: flow.py:daily\n"
        "- name: twice\n  entrypoint: flow.py:daily\n"
        "- name: tagged\n  entrypoint: flow.py:daily\n  tags: 5\n"
    )
    outcome = validate(Options(projects_root=tmp_path / "projects"))
    (judged,) = outcome.folders
    found = {(p.line, p.message.split(":")[0]) for p in judged.problems if p.severity == "error"}
    assert found == {
        (5, 'invalid schedule {"cron"'),
        (9, "the parameters of daily/typed do not match the flow's signature (flow.py"),
        (10, TWICE),
        (12, TWICE),
        (16, "`tags` must be a list of strings (`tags"),  # `tags: [nightly]`; …
    }, judged.problems
    assert outcome.errors == 5


TWICE = (  # up to its first colon
    "the deployment daily/twice is defined twice (lines 10 and 12 of prefect.yaml); they would "
    "overwrite each other. Give one flow another name= or its prefect.yaml entry another name"
)


def test_validate_and_plan_judge_a_schedule_by_the_same_rule(tmp_path: Path) -> None:
    """validate runs decide's plan: the schedule's verdict and its wording are the plan's."""
    from prefect_flow_deploy.commands.validate import unknown_world
    from prefect_flow_deploy.reading.discovery import discover
    from prefect_flow_deploy.rules import decide

    folder = tmp_path / "projects" / "sales" / "daily"
    flow_file(folder, "daily")
    (folder / "prefect.yaml").write_text(
        "deployments:\n- name: a\n  entrypoint: flow.py:daily\n  schedules:\n"
        "  - cron: '0 6 * * *'\n    timezone: Mars/Olympus\n"
    )
    flow_file(tmp_path / "projects" / "sales" / "weekly", "weekly")
    options = Options(projects_root=tmp_path / "projects")
    inputs = unknown_world(discover(options.projects_root), options)
    planned = decide.plan(inputs, options)
    validated, _ = validate(options).folders
    assert [p.message for p in validated.problems] == [
        p.message for f in planned.folders for p in f.problems
    ]
    assert 'Invalid timezone: "Mars/Olympus"' in validated.problems[0].message
    weekly = next(i for i in planned.images if i.folder.name == "weekly")
    assert weekly.reason == decide.NOT_CHECKED  # the registry was not asked


def test_a_variable_a_parameter_names_is_not_said_missing_by_validate(tmp_path: Path) -> None:
    """Trial round 11 b 13: validate, which asks no server, said "the Prefect server does
    not have" a variable the server had; plan and deploy ask it (tests/integration/test_cli.py
    says the warning there)."""
    folder = tmp_path / "projects" / "sales" / "daily"
    flow_file(folder, "daily")
    (folder / "prefect.yaml").write_text(
        "deployments:\n- name: d\n  entrypoint: flow.py:daily\n"
        "  parameters: {host: '{{ prefect.variables.db_host }}'}\n"
    )
    outcome = validate(Options(projects_root=tmp_path / "projects"))
    said = [p.message for f in outcome.folders for p in f.problems]
    assert not [m for m in said if "db_host" in m], said
