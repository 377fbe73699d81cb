"""Only what changed: cache reuse, --force, --fail-fast."""

from __future__ import annotations

import pytest

from ..conftest import Scenario, Stack, copy_example, write_flow
from ..helpers import deploy

pytestmark = pytest.mark.stack


def test_rebuild_uses_the_deployed_image_as_cache_source(
    stack: Stack,
    scenario: Scenario,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PFD_VERBOSE", "1")  # print the build logs
    folder = copy_example(scenario, "sales", "customer_report")  # requirements.txt → pip layer
    first = deploy(scenario, stack)
    previous = first.results[0].image
    capfd.readouterr()
    (folder / "report.py").write_text((folder / "report.py").read_text() + "\n# new comment\n")

    second = deploy(scenario, stack)
    log = capfd.readouterr().err
    assert second.counters.built == 1
    assert f"importing cache manifest from {previous}" in log, log[-3000:]
    pip_step = next(line for line in log.splitlines() if "pip install" in line and "RUN" in line)
    step_id = pip_step.split()[0]
    assert f"{step_id} CACHED" in log  # requirements unchanged: the install layer is reused


def test_force_rebuilds_everything(stack: Stack, scenario: Scenario) -> None:
    copy_example(scenario, "sales", "daily_orders")
    copy_example(scenario, "sales", "two_flows")
    deploy(scenario, stack)
    forced = deploy(scenario, stack, force=True)
    assert forced.counters.built == 2 and forced.counters.pushed == 2
    # Same content, same tag: the deployments do not change.
    assert {r.status for r in forced.results} == {"unchanged"}


def test_a_schedule_edited_in_prefect_yaml_rewrites_its_deployment_alone(
    stack: Stack, scenario: Scenario
) -> None:
    """prefect.yaml is read by this tool and by no flow run, so the default recipe leaves it
    out of the image and its tag: a schedule edit neither rebuilds nor repushes the image,
    nor rewrites the folder's other deployments (found on PrefectHQ/canary-flows, adopted:
    one cron edited gave a build and 27 writes)."""
    folder = copy_example(scenario, "marketing", "weekly_digest")
    yaml = folder / "prefect.yaml"
    yaml.write_text(
        yaml.read_text()
        + f"  - name: monthly-{scenario.suffix}\n    entrypoint: digest.py:weekly_digest\n"
        + "    schedules: [{cron: '0 7 1 * *'}]\n"
    )
    first = deploy(scenario, stack)
    assert first.counters.built == 1 and {r.status for r in first.results} == {"created"}
    yaml.write_text(yaml.read_text().replace("0 7 1 * *", "0 8 1 * *"))
    second = deploy(scenario, stack)
    assert (second.counters.built, second.counters.pushed) == (0, 0)
    assert second.counters.deployment_writes == 1
    assert sorted(r.status for r in second.results) == ["unchanged", "updated"]
    assert {r.image for r in second.results} == {first.results[0].image}


def test_fail_fast_stops_the_remaining_folders(stack: Stack, scenario: Scenario) -> None:
    bad = write_flow(scenario.folder("p", "a_bad"), "bad")
    (bad / "Dockerfile").write_text(f"FROM {stack.base_image}\nRUN exit 1\n")
    write_flow(scenario.folder("p", "b_good"), "good")
    write_flow(scenario.folder("p", "c_good"), "other")
    result = deploy(scenario, stack, fail_fast=True, max_parallel=1)
    statuses = {r.folder: r.status for r in result.results}
    assert statuses["a_bad"] == "failed"
    assert statuses["c_good"] == "skipped"
    assert result.counters.deployment_writes == 0

    without = deploy(scenario, stack, max_parallel=1)
    statuses = {r.folder: r.status for r in without.results}
    assert statuses == {"a_bad": "failed", "b_good": "created", "c_good": "created"}


def test_package_missing_from_requirements_is_a_warning_with_its_line(
    stack: Stack, scenario: Scenario, capfd: pytest.CaptureFixture[str]
) -> None:
    """A warning at its line when a run may install it as it starts (EXTRA_PIP_PACKAGES in
    its env); when nothing does, every run would crash, and its flows fail (trial round 9
    a 8, andrew-dang/goc-datasets: a warning, then every run crashed)."""
    folder = copy_example(scenario, "sales", "customer_report")  # helpers.py imports tabulate
    (folder / "requirements.txt").unlink()
    (folder / "extra.py").write_text("import json\n\nimport yaml_missing_pkg  # noqa\n")
    result = deploy(scenario, stack)
    assert {r.status for r in result.results} == {"failed"}
    assert all("Nothing sets EXTRA_PIP_PACKAGES" in (r.error or "") for r in result.results)
    assert "No module named 'tabulate'" in (result.results[0].error or "")
    capfd.readouterr()
    extra = {"env": {"EXTRA_PIP_PACKAGES": "tabulate"}}
    result = deploy(scenario, stack, job_variables=extra)
    err = capfd.readouterr().err
    assert {r.status for r in result.results} == {"created"}  # a warning, not a failure
    assert f"warning: {folder / 'helpers.py'}:1: " in err and "imports `tabulate`" in err
    # extra.py is imported by no flow: no run loads it, so nothing is asked of the image.
    assert "`yaml_missing_pkg`" not in err
    assert "imports `helpers`" not in err  # the folder's own module is found in the image

    (folder / "requirements.txt").write_text("tabulate==0.9.0\n")
    (folder / "extra.py").unlink()
    deploy(scenario, stack, job_variables=extra)
    assert "which the image does not have" not in capfd.readouterr().err


@pytest.mark.parametrize("registry_kind", ["open", "auth"])
def test_plan_through_the_registry_catalog(
    stack: Stack, scenario: Scenario, monkeypatch: pytest.MonkeyPatch, registry_kind: str
) -> None:
    from prefect_flow_deploy.run import image_questions

    from ..helpers import plan

    monkeypatch.setattr(image_questions, "CATALOG_THRESHOLD", 0)
    extra = {}
    if registry_kind == "auth":
        extra = {
            "registry": f"{stack.auth_registry}/t{scenario.suffix}",
            "registry_username": stack.auth_user,
            "registry_password": stack.auth_password,
        }
    write_flow(scenario.folder("p", "one"), "one")
    write_flow(scenario.folder("p", "two"), "two")
    assert deploy(scenario, stack, **extra).counters.pushed == 2
    write_flow(scenario.folder("p", "three"), "three")
    actions = {i.folder.name: i.action for i in plan(scenario, stack, **extra).images}
    assert actions == {"one": "exists", "two": "exists", "three": "build"}
    # The catalog really answered (the plan did not fall back to one HEAD per folder).
    from prefect_flow_deploy.clients.registry import RegistryClient
    from prefect_flow_deploy.core.credentials import Credentials

    registry = extra.get("registry", scenario.registry)
    logins = {stack.auth_registry: Credentials(stack.auth_user, stack.auth_password)}
    repositories = RegistryClient(logins).repositories(registry)
    assert repositories is not None and len(repositories) == 2


def test_prefect_2_in_the_image_fails_at_the_pin(stack: Stack, scenario: Scenario) -> None:
    folder = write_flow(scenario.folder("p", "old_pin"), "old_pin")
    (folder / "requirements.txt").write_text("tabulate==0.9.0\nprefect==2.20.3\n")
    # What `pip install prefect==2.20.3` leaves for importlib.metadata, without the download.
    rewrite = (
        "import importlib.metadata as m, pathlib, re; "
        "p = pathlib.Path(m.distribution('prefect')._path) / 'METADATA'; "
        "p.write_text(re.sub(r'(?m)^Version: .*$', 'Version: 2.20.3', p.read_text()))"
    )
    (folder / "Dockerfile").write_text(
        f'FROM {stack.base_image}\nRUN python -c "{rewrite}"\nWORKDIR /app\nCOPY . .\n'
    )
    write_flow(scenario.folder("p", "fine"), "fine")
    result = deploy(scenario, stack)
    statuses = {r.folder: r.status for r in result.results}
    assert statuses == {"old_pin": "failed", "fine": "created"}
    [row] = [r for r in result.results if r.folder == "old_pin"]
    assert "Prefect 2.20.3" in (row.error or "") and "prefect>=3" in (row.error or "")


def test_shared_module_outside_the_folder_is_named(
    stack: Stack, scenario: Scenario, capfd: pytest.CaptureFixture[str]
) -> None:
    # The flow imports job.py when it runs: its import is said, a warning (not the flow file's).
    folder = write_flow(
        scenario.folder("p", "uses_shared"), "uses_shared", "import job  # noqa\n    return 'ok'"
    )
    (folder / "job.py").write_text("from common.db import connect  # noqa\n")
    shared = scenario.root / "common"
    shared.mkdir()
    (shared / "db.py").write_text("def connect():\n    pass\n")
    # The same import at a flow file's top fails every run: the folder fails, before any write.
    failing = write_flow(scenario.folder("p", "flow_uses_shared"), "flow_uses_shared")
    (failing / "flow.py").write_text(
        "import common.db  # noqa\n" + (failing / "flow.py").read_text()
    )
    result = deploy(scenario, stack)
    statuses = {r.folder: r.status for r in result.results}
    assert statuses == {"uses_shared": "created", "flow_uses_shared": "failed"}
    [row] = [r for r in result.results if r.folder == "flow_uses_shared"]
    assert "every run of its flows fails with ModuleNotFoundError" in (row.error or "")
    err = capfd.readouterr().err
    assert f"{folder / 'job.py'}:1:" in err and f"{failing / 'flow.py'}:1:" in err
    assert "`projects/common` is in the repository but outside the flow folder" in err
