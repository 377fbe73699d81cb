"""The command line as a user runs it: a subprocess, its output and exit status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.reading.test_flows_corpus import PROJECTS

from ..conftest import Scenario, Stack, copy_example, write_flow

pytestmark = pytest.mark.stack
CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`cwd`: the repository (its root holds the config file, as for a user)."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=600,
        cwd=cwd,
    )  # fmt: skip


def common(scenario: Scenario, stack: Stack) -> list[str]:
    return [
        "--projects-root", str(scenario.root), "--registry", scenario.registry,
        "--base-image", stack.base_image, "--tenant", scenario.tenant, "--work-pool", scenario.work_pool,
        "--create-work-pool",
    ]  # fmt: skip


def test_plan_json_then_deploy_then_plan_again(stack: Stack, scenario: Scenario) -> None:
    copy_example(scenario, "sales", "daily_orders")
    copy_example(scenario, "sales", "two_flows")
    planned = cli("plan", "--json", *common(scenario, stack))
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.count("\n") == 1  # a pipe: one line, the C encoder's (terminal.py)
    data = json.loads(planned.stdout)
    assert data["summary"]["builds"] == 2
    assert data["summary"]["deployments"]["create"] == 3
    assert {i["image_reason"] for i in data["items"]} == {
        "new: no deployed image for this folder yet"
    }

    deployed = cli("deploy", *common(scenario, stack))
    assert deployed.returncode == 0, deployed.stderr
    assert "built 2, pushed 2, deployment writes 3" in deployed.stderr
    assert "\tcreated" in deployed.stderr  # plain lines when not a TTY

    again = json.loads(cli("plan", "--json", *common(scenario, stack)).stdout)
    assert again["summary"]["builds"] == 0
    assert again["summary"]["deployments"]["unchanged"] == 3


def test_deploy_exit_status_and_error_location(stack: Stack, scenario: Scenario) -> None:
    broken = write_flow(scenario.folder("p", "broken"), "broken")
    (broken / "flow.py").write_text("from prefect import flow\n@flow\ndef broken(:\n")
    write_flow(scenario.folder("p", "fine"), "fine")
    done = cli("deploy", *common(scenario, stack))
    assert done.returncode == 1
    assert f"error: {broken / 'flow.py'}:3:" in done.stderr
    assert "\tcreated" in done.stderr


def test_bad_options_exit_3_with_what_to_do(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    missing = cli("plan", "--projects-root", str(tmp_path / "nope"))
    assert missing.returncode == 3 and "is not a folder" in missing.stderr
    bad_registry = cli(
        "plan", "--projects-root", str(scenario.root), "--registry", "Not A Registry"
    )
    assert bad_registry.returncode == 3 and "not a valid image prefix" in bad_registry.stderr
    bad_regex = cli("plan", "--projects-root", str(scenario.root), "--flows", "(")
    assert bad_regex.returncode == 3 and "not a valid regular expression" in bad_regex.stderr


def test_no_prefect_api_configured_is_refused(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "x"), "x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "empty-prefect-home")
    done = cli("plan", *common(scenario, stack), env=env)
    assert done.returncode == 6
    assert "no Prefect API is configured" in done.stderr


def test_the_local_prefect_profile_is_used_without_environment(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    write_flow(scenario.folder("p", "x"), "x")
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "laptop"\n\n[profiles.laptop]\n'
        f'PREFECT_API_URL = "{os.environ["PREFECT_API_URL"]}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    done = cli("deploy", *common(scenario, stack), env=env)
    assert done.returncode == 0, done.stderr
    assert "\tcreated" in done.stderr


def test_registry_password_never_printed(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "x"), "x")
    env = {
        **os.environ,
        "PFD_REGISTRY_USERNAME": stack.auth_user,
        "PFD_REGISTRY_PASSWORD": stack.auth_password,
    }
    args = common(scenario, stack)
    args[args.index("--registry") + 1] = f"{stack.auth_registry}/t{scenario.suffix}"
    done = cli("deploy", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert stack.auth_password not in done.stdout + done.stderr


SCHEDULES_YAML = """deployments:
  - entrypoint: flow.py:{function}
    schedules:
      - cron: "0 6 * * 1"
        timezone: Europe/Berlin
      - interval: 3600
      - interval: 600
        anchor_date: "2026-01-01T00:30:00"
      - rrule: "FREQ=WEEKLY;BYDAY=MO,WE"
        active: false
      - rrule: "FREQ=MINUTELY;INTERVAL=15"
"""


def traced_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, telling at exit whether it imported prefect."""
    code = (
        "import sys\nfrom prefect_flow_deploy.cli import main\n"
        f"sys.argv = ['prefect-flow-deploy', *{list(args)!r}]\n"
        "try:\n    main()\nfinally:\n"
        "    print('prefect imported' if 'prefect' in sys.modules else 'prefect not imported',"
        " file=sys.stderr)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


def test_rerun_with_every_kind_of_schedule_is_unchanged_without_importing_prefect(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(
        scenario.folder("p", "scheduled"), "scheduled",
        prefect__yaml=SCHEDULES_YAML.format(function="scheduled"),
    )  # fmt: skip
    write_flow(
        scenario.folder("p", "cron_only"), "cron_only",
        prefect__yaml="deployments:\n  - entrypoint: flow.py:cron_only\n    schedules:\n"
        "      - cron: '*/10 * * * *'\n      - interval: 86400\n",
    )  # fmt: skip
    # A flow typed with the folder's own pydantic models: read from the source, no import.
    shutil.copytree(PROJECTS / "sales" / "orders", scenario.folder("p", "modelled"))
    first = traced_cli("deploy", *common(scenario, stack))
    assert first.returncode == 0, first.stderr
    assert "prefect imported" in first.stderr  # writes use Prefect's client

    again = traced_cli("deploy", *common(scenario, stack))
    assert again.returncode == 0, again.stderr
    assert "built 0, pushed 0, deployment writes 0" in again.stderr, again.stderr

    # Cron strings and plain intervals are compared without Prefect; rrules and anchored
    # intervals above were judged by Prefect itself (and found unchanged).
    plain = traced_cli("deploy", *common(scenario, stack), "--flows", "cron_only|modelled")
    assert "built 0, pushed 0, deployment writes 0" in plain.stderr, plain.stderr
    assert "3 deployments in" in plain.stderr  # cron_only's and the modelled folder's two
    assert "prefect not imported" in plain.stderr


def test_schedule_prefect_rejects_fails_its_folder_with_the_line(
    stack: Stack, scenario: Scenario
) -> None:
    bad = write_flow(
        scenario.folder("p", "bad_cron"), "bad_cron",
        prefect__yaml="deployments:\n  - entrypoint: flow.py:bad_cron\n    schedules:\n"
        "      - cron: '0 6 * *'\n",
    )  # fmt: skip
    write_flow(scenario.folder("p", "fine"), "fine")
    planned = cli("plan", *common(scenario, stack))
    assert planned.returncode == 1
    assert f"error: {bad / 'prefect.yaml'}:4:" in planned.stderr  # the schedule's own line
    assert "Invalid cron string" in planned.stderr
    done = cli("deploy", *common(scenario, stack))
    assert done.returncode == 1 and "\tcreated" in done.stderr
    assert "built 1," in done.stderr  # the bad folder was not built


def test_one_deployment_name_from_two_folders_fails_both_at_the_flow_line(
    stack: Stack, scenario: Scenario
) -> None:
    daily = write_flow(scenario.folder("p", "daily"), "main")
    weekly = write_flow(scenario.folder("p", "weekly"), "main")
    write_flow(scenario.folder("p", "other"), "other")
    p = daily.parent.name  # the scenario's own project name
    planned = cli("plan", *common(scenario, stack))
    assert planned.returncode == 1
    for folder in (daily, weekly):
        assert (
            f"error: {folder / 'flow.py'}:5: {p}/{folder.name}: the deployment main/{p} is defined twice"
            in planned.stderr
        )
    assert f"{p}/other\tother/{p}\timage build" in planned.stdout  # the others go ahead

    # Deployment names from prefect.yaml tell them apart: nothing collides any more.
    (daily / "prefect.yaml").write_text(
        "deployments:\n  - name: daily\n    entrypoint: flow.py:main\n"
    )
    planned = cli("plan", "--json", *common(scenario, stack))
    assert planned.returncode == 0, planned.stderr
    names = {i["deployment"] for i in json.loads(planned.stdout)["items"]}
    assert names == {"main/daily", f"main/{p}", f"other/{p}"}


def test_plain_plan_lines_of_a_removal_show_no_image(stack: Stack, scenario: Scenario) -> None:
    ours = ["--repository", "acme/flows"]  # a removal is of what this repository recorded
    gone = write_flow(scenario.folder("p", "gone"), "gone")
    write_flow(scenario.folder("p", "kept"), "kept")
    assert cli("deploy", *common(scenario, stack), *ours).returncode == 0
    for path in gone.iterdir():
        path.unlink()
    gone.rmdir()
    p = gone.parent.name
    planned = cli("plan", *common(scenario, stack), *ours)
    assert planned.returncode == 0, planned.stderr
    assert f"{p}/gone\tgone/{p}\timage -\tdeployment remove" in planned.stdout
    assert "None" not in planned.stdout
    kept = cli("deploy", *common(scenario, stack), *ours)  # without --prune it stays, and says why
    assert kept.returncode == 0, kept.stderr
    assert f"{p}/gone\tgone/{p}\timage -\torphaned" in kept.stderr


def test_failed_builds_point_at_the_dockerfile_instruction_or_requirement_line(
    stack: Stack, scenario: Scenario
) -> None:
    own = write_flow(scenario.folder("p", "own"), "own")
    (own / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nCOPY . /app\nRUN echo building && \\\n    exit 3\n"
    )
    recipe = write_flow(scenario.folder("p", "recipe"), "recipe")
    (recipe / "requirements.txt").write_text("# ours\nno-such-package-pfd-test==1.0\n")
    write_flow(scenario.folder("p", "fine"), "fine")
    done = cli("deploy", *common(scenario, stack))
    assert done.returncode == 1
    assert f"error: {own / 'Dockerfile'}:3: " in done.stderr
    assert f"error: {recipe / 'requirements.txt'}:2: " in done.stderr
    assert "No matching distribution found for no-such-package-pfd-test" in done.stderr
    assert "\tfine/" in done.stderr and "\tcreated" in done.stderr  # the good one deploys


def test_an_entrypoint_that_swallows_the_worker_s_command_fails_at_its_line(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "entry"), "entry")
    (folder / "Dockerfile").write_text(
        f'FROM {stack.base_image}\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["python", "flow.py"]\n'
    )
    write_flow(scenario.folder("p", "fine"), "fine")
    done = cli("deploy", *common(scenario, stack))
    assert done.returncode == 1
    assert f"error: {folder / 'Dockerfile'}:4: " in done.stderr
    assert 'ENTRYPOINT, ["python", "flow.py"], which does not run the command' in done.stderr
    assert "\tfine/" in done.stderr and "\tcreated" in done.stderr


def test_a_credentials_file_in_the_build_context_is_a_warning_at_the_file(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "leaky"), "leaky")
    (folder / ".env").write_text("API_KEY=not-for-images\n")
    planned = cli("plan", *common(scenario, stack))
    assert planned.returncode == 0, planned.stderr
    assert f"warning: {folder / '.env'}: " in planned.stderr
    assert ".env looks like a credentials file" in planned.stderr
    (folder / ".dockerignore").write_text(".env\n")
    assert "credentials file" not in cli("plan", *common(scenario, stack)).stderr


def test_a_partial_run_never_takes_over_a_deployment_of_a_folder_it_did_not_read(
    stack: Stack, scenario: Scenario
) -> None:
    first = write_flow(scenario.folder("p", "first"), "main")
    write_flow(scenario.folder("p", "second"), "other")
    p = first.parent.name
    assert cli("deploy", *common(scenario, stack)).returncode == 0
    second = write_flow(scenario.folder("p", "second"), "main")  # now the same flow name

    only_second = cli("deploy", *common(scenario, stack), "--flows", "/second$")
    assert only_second.returncode == 1
    assert f"error: {second / 'flow.py'}:5: " in only_second.stderr
    assert f"the deployment main/{p} belongs to {p}/first, which still has the flow" in (
        only_second.stderr
    )

    for path in first.iterdir():  # the flow moved from first to second: that is a takeover
        path.unlink()
    first.rmdir()
    moved = cli("deploy", *common(scenario, stack), "--flows", "/second$")
    assert moved.returncode == 0, moved.stderr
    assert f"{p}/second\tmain/{p}\timage built\tupdated" in moved.stderr


def test_plan_json_shows_the_whole_deployment_and_old_and_new_of_each_change(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "reviewed"), "reviewed")
    assert cli("deploy", *common(scenario, stack)).returncode == 0
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow(description='Now described.')\n"
        "def reviewed(name: str = 'moon', times: int = 2) -> str:\n    return name\n"
    )
    planned = cli("plan", "--json", *common(scenario, stack))
    assert planned.returncode == 0, planned.stderr
    [item] = json.loads(planned.stdout)["items"]
    desired = item["desired"]
    assert desired["entrypoint"] == "flow.py:reviewed"
    assert desired["description"] == "Now described."
    assert desired["work_pool"] == scenario.work_pool
    assert desired["image"] == item["image"] == desired["job_variables"]["image"]
    assert desired["schedules"] is None  # no schedules key: the server's are left as they are
    assert f"tenant:{scenario.tenant}" in desired["tags"]
    assert set(desired["parameter_schema"]["properties"]) == {"name", "times"}

    changes = item["changes"]
    assert (
        set(changes) == set(item["changed_fields"]) >= {"description", "parameter_openapi_schema"}
    )
    assert changes["description"] == {"old": "", "new": "Now described."}
    schema = changes["parameter_openapi_schema"]
    assert schema["old"]["properties"]["name"]["default"] == "world"
    assert schema["new"] == desired["parameter_schema"]


def test_a_key_given_twice_in_the_config_file_is_refused_at_the_second(
    stack: Stack, scenario: Scenario
) -> None:
    """PyYAML keeps the last of two keys: the tenant's first work pool was dropped silently."""
    write_flow(scenario.folder("p", "one"), "one")
    config = scenario.root.parent / "prefect-flow-deploy.yaml"
    config.write_text(
        f"tenants:\n  {scenario.tenant}:\n    work-pool: nightly\n    schedules-active: false\n"
        "    work-pool: hourly\n"
    )
    done = cli("plan", *common(scenario, stack), "--config", str(config))
    assert done.returncode == 3, done.stderr
    assert f"{config}:5: the key `work-pool` is given twice in one mapping (first at line 3)" in (
        done.stderr
    )


def test_a_server_variable_in_parameters_is_filled_in_as_prefect_deploy_does(
    stack: Stack, scenario: Scenario
) -> None:
    """CBIIT/C3DC-Prefect-Dataloader (trial round 9, a 1): `secret_name: "{{
    prefect.variables.… }}"` was registered as the braces, and every run received them;
    `prefect deploy` fills each in from the server's variable (a missing one: ""). One
    request reads them; an unchanged variable leaves the deployment as it is."""
    from ..helpers import server_api

    name = f"v{scenario.tenant}".replace("-", "_")
    with server_api() as client:
        client.post("variables/", json={"name": name, "value": {"rows": 10}}).raise_for_status()
    folder = scenario.folder("vars", "etl")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef etl(limits: dict, label: str = '', gone: str = '')"
        " -> None:\n    pass\n"
    )
    (folder / "prefect.yaml").write_text(
        "deployments:\n- entrypoint: flow.py:etl\n  parameters:\n"
        f"    limits: '{{{{ prefect.variables.{name} }}}}'\n"
        f"    label: 'at {{{{ prefect.variables.{name} }}}}'\n"
        "    gone: '{{ prefect.variables.no_such_variable }}'\n"
    )
    done = cli("deploy", "--json", *common(scenario, stack))
    assert done.returncode == 0, done.stderr
    assert "`no_such_variable`, which the Prefect server does not have" in done.stderr
    [row] = json.loads(done.stdout)
    with server_api() as client:
        held = client.get(f"deployments/name/etl/{row['deployment']}").json()
    assert held["parameters"] == {"limits": {"rows": 10}, "label": "at {'rows': 10}", "gone": ""}
    again = cli("deploy", "--json", *common(scenario, stack))
    assert [r["status"] for r in json.loads(again.stdout)] == ["unchanged"], again.stderr


def test_a_dockerfile_copying_some_flow_files_fails_only_the_others(
    stack: Stack, scenario: Scenario
) -> None:
    """Heipa37/Prefect_DBT_Docker (trial round 9 a 6): `COPY flows flows` put three of the
    folder's four flow files in the image; every flow failed, "the image does not contain
    this folder's flow files". The flows the image holds deploy; the other fails at its file."""
    folder = scenario.folder("partial", "dbt")
    (folder / "flows").mkdir(parents=True)
    template = "from prefect import flow\n\n\n@flow\ndef {name}() -> None:\n    pass\n"
    (folder / "flows" / "inner.py").write_text(template.format(name="inner"))
    (folder / "top.py").write_text(template.format(name="top"))
    (folder / "Dockerfile").write_text(f"FROM {stack.base_image}\nWORKDIR /app\nCOPY flows flows\n")
    done = cli("deploy", "--json", *common(scenario, stack))
    rows = {row["flow"]: row for row in json.loads(done.stdout)}
    assert {f: r["status"] for f, r in rows.items()} == {"inner": "created", "top": "failed"}, (
        done.stderr
    )
    assert rows["top"]["error"].startswith("top.py is not in the image: its code directory /app")
