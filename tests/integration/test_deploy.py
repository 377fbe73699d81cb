"""The engine against the real Docker engine, registry and Prefect server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prefect.exceptions import ObjectNotFound

from prefect_flow_deploy.clients.registry import RegistryClient

from ..conftest import PrefectServer, Scenario, Stack, copy_example, write_flow
from ..helpers import (
    RegistryLog,
    deploy,
    plan,
    read_deployment,
    read_deployments,
    reported_version,
    run,
    scheduled_run_ids,
)

OURS = "acme/flows"  # a prune removes only what this repository recorded
pytestmark = pytest.mark.stack

DOCKER = "/usr/bin/docker"


def names(scenario: Scenario) -> dict[str, str]:
    """Deployment names of the example folders used below."""
    return {
        "daily": f"daily-orders/{scenario.project('sales')}",
        "prices": f"refresh-prices/{scenario.project('sales')}",
        "archive": f"archive-invoices/{scenario.project('sales')}",
        "digest": f"weekly-digest/{scenario.project('marketing')}",
        "legacy": f"legacy-export/{scenario.project('marketing')}",
    }


def test_deploy_registers_every_flow_from_its_pushed_image(
    stack: Stack, scenario: Scenario, server: PrefectServer
) -> None:
    copy_example(scenario, "sales", "daily_orders")
    copy_example(scenario, "sales", "two_flows")
    copy_example(scenario, "marketing", "weekly_digest")
    copy_example(scenario, "marketing", "legacy_layout")
    result = deploy(scenario, stack, prefect_api_url=server.url)

    assert not result.failed, result.results
    assert {r.status for r in result.results} == {"created"}, [
        (r.flow, r.status, r.changed_fields) for r in result.results
    ]
    assert result.counters.built == 4 and result.counters.pushed == 4
    registry = RegistryClient()
    n = names(scenario)
    deployments = read_deployments(list(n.values()), server.url)
    for key, deployment in deployments.items():
        image = deployment.job_variables["image"]
        assert image.startswith(f"{scenario.registry}/")
        assert registry.exists(image), f"{image} was not pushed"
        assert deployment.version == image.rsplit(":", 1)[1]
        assert deployment.work_pool_name == scenario.work_pool
        assert "managed-by:prefect-flow-deploy" in deployment.tags
        assert f"tenant:{scenario.tenant}" in deployment.tags
        assert deployment.path is None
        assert key.split("/")[1] in deployment.tags  # the project
    daily = deployments[n["daily"]]
    assert daily.entrypoint == "flow.py:daily_orders"
    assert daily.pull_steps == [
        {
            "prefect.deployments.steps.set_working_directory": {
                "directory": f"/opt/prefect/flows/{scenario.project('sales')}/daily_orders"
            }
        }
    ]
    assert daily.parameter_openapi_schema["properties"]["region"]["default"] == "eu"
    # The old workflow's `ADD . /` layout: the code was found at the image root.
    legacy = deployments[n["legacy"]]
    assert (
        legacy.pull_steps[0]["prefect.deployments.steps.set_working_directory"]["directory"] == "/"
    )
    # prefect.yaml: name kept from the folder's project, schedule, defaults, tags, description.
    digest = deployments[n["digest"]]
    assert digest.parameters == {"audience": "subscribers", "top": 10}
    assert [s.schedule.cron for s in digest.schedules] == ["0 7 * * 1"]
    assert "newsletter" in digest.tags and digest.description == "The Monday digest for subscribers"
    # The work pool was created, of type docker.
    assert deployments[n["prices"]].entrypoint == "flows.py:refresh_prices"
    assert reported_version(server.url) == server.version


def test_rerun_without_change_writes_nothing(
    stack: Stack, scenario: Scenario, server: PrefectServer
) -> None:
    copy_example(scenario, "sales", "daily_orders")
    copy_example(scenario, "marketing", "weekly_digest")
    first = deploy(scenario, stack, prefect_api_url=server.url)
    assert not first.failed
    n = names(scenario)
    before = read_deployments([n["daily"], n["digest"]], server.url)
    if server.schedules_runs:
        runs_before = scheduled_run_ids(before[n["digest"]].id)
        assert runs_before, "the scheduler made no upcoming runs to check"
    registry_log = RegistryLog(stack, scenario.registry)

    again = deploy(scenario, stack, prefect_api_url=server.url)

    assert (again.counters.built, again.counters.pushed, again.counters.deployment_writes) == (
        0,
        0,
        0,
    )
    assert {r.status for r in again.results} == {"unchanged"}
    assert registry_log.manifest_puts() == 0
    after = read_deployments([n["daily"], n["digest"]], server.url)
    for name in before:
        assert after[name].updated == before[name].updated
        assert [s.id for s in after[name].schedules] == [s.id for s in before[name].schedules]
    assert [s.schedule.cron for s in after[n["digest"]].schedules] == ["0 7 * * 1"]
    if server.schedules_runs:
        assert scheduled_run_ids(after[n["digest"]].id, wait=0) == runs_before
    assert reported_version(server.url) == server.version


def test_changing_one_file_rebuilds_only_that_folder(
    stack: Stack, scenario: Scenario, server: PrefectServer
) -> None:
    daily = copy_example(scenario, "sales", "daily_orders")
    copy_example(scenario, "sales", "two_flows")
    deploy(scenario, stack, prefect_api_url=server.url)
    n = names(scenario)
    before = read_deployments(list(n[k] for k in ("daily", "prices", "archive")), server.url)
    # A new parameter default: the update writes the parameter schema too (a field that
    # servers before Prefect 3.2.0 refuse in an update).
    source = (daily / "flow.py").read_text()
    (daily / "flow.py").write_text(source.replace('region: str = "eu"', 'region: str = "us"'))

    planned = plan(scenario, stack, prefect_api_url=server.url)
    [changed] = [i for i in planned.images if i.action == "build"]
    assert changed.folder.name == "daily_orders"
    assert "flow.py" in changed.reason, changed.reason

    result = deploy(scenario, stack, prefect_api_url=server.url)
    assert result.counters.built == 1 and result.counters.pushed == 1
    assert result.counters.deployment_writes == 1
    after = read_deployments(list(before), server.url)
    assert after[n["daily"]].updated != before[n["daily"]].updated
    assert after[n["daily"]].version != before[n["daily"]].version
    assert after[n["daily"]].parameter_openapi_schema["properties"]["region"]["default"] == "us"
    for key in ("prices", "archive"):
        assert after[n[key]].updated == before[n[key]].updated
    statuses = {(r.folder, r.status) for r in result.results}
    assert statuses == {("daily_orders", "updated"), ("two_flows", "unchanged")}
    assert reported_version(server.url) == server.version


def test_new_base_image_digest_rebuilds_the_folders_using_it(
    stack: Stack, scenario: Scenario
) -> None:
    base = f"{scenario.registry}/base:1"
    subprocess.run([DOCKER, "tag", stack.base_image, base], check=True)
    subprocess.run([DOCKER, "push", "-q", base], check=True, capture_output=True)
    write_flow(scenario.folder("p", "uses_base"), "one")
    pinned = write_flow(scenario.folder("p", "pinned"), "two")
    (pinned / "Dockerfile").write_text(f"FROM {stack.base_image}\nWORKDIR /code\nCOPY . .\n")
    first = deploy(scenario, stack, base_image=base)
    assert first.counters.built == 2

    # A patched base image is pushed under the same tag.
    patch = Path(scenario.root.parent / "patch")
    patch.mkdir()
    (patch / "Dockerfile").write_text(f"FROM {base}\nRUN echo patched > /etc/patched\n")
    env = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [DOCKER, "build", "-q", "-t", base, str(patch)], check=True, env=env, capture_output=True
    )
    subprocess.run([DOCKER, "push", "-q", base], check=True, capture_output=True)

    planned = plan(scenario, stack, base_image=base)
    actions = {i.folder.name: (i.action, i.reason) for i in planned.images}
    assert actions["uses_base"][0] == "build" and "base image" in actions["uses_base"][1]
    assert actions["pinned"][0] == "exists"
    second = deploy(scenario, stack, base_image=base)
    assert second.counters.built == 1


def test_two_clones_on_different_paths_give_the_same_tags(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    copy_example(scenario, "sales", "customer_report")
    copy_example(scenario, "marketing", "campaign_sync")
    other_root = tmp_path / "somewhere" / "else" / "projects"
    shutil.copytree(scenario.root, other_root)
    first = plan(scenario, stack)
    second = plan(scenario, stack, projects_root=other_root)
    assert sorted(i.reference for i in first.images) == sorted(i.reference for i in second.images)


def test_removed_folder_is_planned_for_removal_and_pruned(stack: Stack, scenario: Scenario) -> None:
    copy_example(scenario, "sales", "daily_orders")
    gone = copy_example(scenario, "sales", "two_flows")
    deploy(scenario, stack, repository=OURS)
    shutil.rmtree(gone)
    n = names(scenario)

    planned = plan(scenario, stack, repository=OURS)  # without --prune: kept, as orphans
    removals = sorted(d.full_name for d in planned.deployments if d.action == "orphan")
    assert removals == sorted([n["prices"], n["archive"]])
    pruning = plan(scenario, stack, prune=True, repository=OURS)
    assert sorted(d.full_name for d in pruning.deployments if d.action == "remove") == removals
    kept = deploy(scenario, stack, repository=OURS)  # without --prune nothing is deleted
    assert read_deployment(n["prices"]).id
    assert {
        r.status
        for r in kept.results
        if r.deployment == scenario.project("sales") and r.folder == "two_flows"
    } == {"orphaned"}

    pruned = deploy(scenario, stack, prune=True, repository=OURS)
    assert (
        sorted(f"{r.flow}/{r.deployment}" for r in pruned.results if r.status == "removed")
        == removals
    )
    with pytest.raises(ObjectNotFound):
        read_deployment(n["prices"])
    assert read_deployment(n["daily"]).id


def test_broken_folder_does_not_stop_the_others_nor_lose_its_deployment(
    stack: Stack, scenario: Scenario
) -> None:
    good = copy_example(scenario, "sales", "daily_orders")
    flaky = write_flow(scenario.folder("sales", "flaky"), "flaky")
    deploy(scenario, stack, repository=OURS)
    (flaky / "flow.py").write_text("from prefect import flow\n\n@flow\ndef flaky(:\n")
    (good / "flow.py").write_text((good / "flow.py").read_text() + "\n# changed\n")

    result = deploy(scenario, stack, prune=True, repository=OURS)
    assert result.failed
    broken = next(f for f in result.plan.folders if f.name == "flaky")
    assert broken.problems[0].line == 4 and broken.problems[0].file == flaky / "flow.py"
    assert {(r.folder, r.status) for r in result.results} == {
        ("daily_orders", "updated"),
        ("flaky", "failed"),
    }
    # The broken folder's deployment is still there, unchanged, even with --prune.
    assert read_deployment(f"flaky/{scenario.project('sales')}").id


def test_failing_build_is_reported_and_others_deploy(stack: Stack, scenario: Scenario) -> None:
    copy_example(scenario, "sales", "daily_orders")
    bad = write_flow(scenario.folder("sales", "bad_build"), "bad")
    (bad / "Dockerfile").write_text(f"FROM {stack.base_image}\nRUN exit 3\nCOPY . .\n")
    refused = scenario.folder("sales", "refused")  # built, then refused by the check
    refused.mkdir(parents=True)
    (refused / "flow.py").write_text(
        "import sys\nfrom prefect import flow\n\nsys.exit('no DSN')\n\n\n@flow\ndef f():\n    pass\n"
    )
    result = deploy(scenario, stack)
    assert result.failed
    by_folder = {r.folder: r for r in result.results}
    assert by_folder["daily_orders"].status == "created"
    assert by_folder["bad_build"].status == "failed"
    assert "docker build failed" in (by_folder["bad_build"].error or "")
    assert (by_folder["refused"].status, by_folder["refused"].image_status) == ("failed", "failed")
    # `built` counts the images the check passed, as the images output says (trial 11 b 10)
    assert (result.counters.built, result.counters.pushed) == (1, 1)


def test_a_lower_case_dockerfile_is_the_folders_dockerfile(
    stack: Stack, scenario: Scenario
) -> None:
    """`docker build <folder>` reads `dockerfile` when there is no `Dockerfile` (docker/cli
    GetDockerfileRelPath, BuildKit's frontend: moby/moby#10858); so does this tool (Axioq/
    wolf-tracks' only Dockerfile was lower-case: the default recipe was built instead, without
    a word, and its runs failed)."""
    import docker

    folder = write_flow(scenario.folder("p", "lower"), f"lower_{scenario.suffix}")
    (folder / "dockerfile").write_text(
        f"FROM {stack.base_image}\nLABEL made.by=lower-case-dockerfile\n"
        f"WORKDIR /opt/prefect/flows/lower\nCOPY . .\n"
    )
    result = deploy(scenario, stack)
    assert not result.failed, result.results
    [image] = result.plan.images
    labels = docker.from_env().images.get(image.reference).labels
    assert labels["made.by"] == "lower-case-dockerfile"


def test_an_import_after_a_sys_path_change_is_judged_by_prefect_loading_the_flow(
    stack: Stack, scenario: Scenario
) -> None:
    """A flow file that puts its folder's parent on sys.path, then imports the folder as a
    package (CamilleLarpin/pea-pme-pulse): the image check loads it with Prefect's own
    loader in the built image, which decides. It deploys; the same with a path where the
    package is not fails, with Prefect's error (before: both failed, "the image does not
    have" the module)."""
    code = (
        "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str({where}))\n\n"
        "from prefect import flow  # noqa: E402\n\nfrom {package}.helpers import greet  # noqa: E402\n"
        "\n\n@flow(name='{name}')\ndef main() -> str:\n    return greet()\n"
    )
    for folder_name, package in (("pathy", "pathy"), ("lost", "nowhere")):
        folder = scenario.folder("p", folder_name)
        folder.mkdir(parents=True)
        (folder / "helpers.py").write_text("def greet() -> str:\n    return 'hi'\n")
        name = f"{folder_name}-{scenario.suffix}"
        where = "Path(__file__).parent.parent"
        (folder / "flow.py").write_text(code.format(where=where, package=package, name=name))
    result = deploy(scenario, stack)
    by_folder = {r.folder: r for r in result.results}
    assert by_folder["pathy"].status == "created", by_folder["pathy"].error
    lost = by_folder["lost"]
    assert lost.status == "failed" and "Prefect cannot load the flow" in (lost.error or "")
    assert "No module named 'nowhere'" in (lost.error or "")


def test_a_flow_file_that_cannot_run_fails_alone_and_stays_failed_on_a_rerun(
    stack: Stack, scenario: Scenario
) -> None:
    """A flow file importing a module of the repository the image does not hold fails its
    own flows; the folder's other flow deploys (samdf96/alma-sails-codebase: the clean one
    was refused with the other file's reason). Its image is pushed for the one that
    deploys, so the next run finds it; the failing flow, which no deployment runs from it,
    is checked again and fails again, never written unchecked."""
    folder = scenario.folder("p", "mixed")
    folder.mkdir(parents=True)
    (folder.parent / "common.py").write_text("X = 1\n")  # beside the folder: not in the image
    (folder / "good.py").write_text(
        f"from prefect import flow\n\n\n@flow(name='good-{scenario.suffix}')\ndef good():\n    pass\n"
    )
    (folder / "bad.py").write_text(
        "from prefect import flow\n\nfrom common import X\n\n\n"
        f"@flow(name='bad-{scenario.suffix}')\ndef bad():\n    return X\n"
    )
    for attempt in ("first", "again"):
        result = deploy(scenario, stack)
        rows = {r.flow: r for r in result.results}
        good, bad = rows[f"good-{scenario.suffix}"], rows[f"bad-{scenario.suffix}"]
        assert good.status == ("created" if attempt == "first" else "unchanged"), good.error
        assert bad.status == "failed", (attempt, bad)
        assert "bad.py imports `common`" in (bad.error or "")
        assert result.failed  # the run says so: exit status 1
    with pytest.raises(ObjectNotFound):
        read_deployment(f"bad-{scenario.suffix}/{scenario.project('p')}")


def test_image_without_the_code_fails_with_the_line_to_change(
    stack: Stack, scenario: Scenario
) -> None:
    folder = write_flow(scenario.folder("p", "nocode"), "nocode")
    (folder / "Dockerfile").write_text(f"FROM {stack.base_image}\nCOPY requirements.txt /tmp/\n")
    (folder / "requirements.txt").write_text("")
    result = deploy(scenario, stack)
    [row] = result.results
    assert row.status == "failed"
    assert "FileNotFoundError" in (row.error or "") and "COPY" in (row.error or "")


def test_image_without_prefect_fails_clearly(stack: Stack, scenario: Scenario) -> None:
    folder = write_flow(scenario.folder("p", "noprefect"), "noprefect")
    # Python but no Prefect: the deployment would crash when the worker starts it.
    (folder / "Dockerfile").write_text(
        f"FROM {stack.env['PFD_BASE_PYTHON']}\nRUN ln -s /usr/bin/python3 /usr/local/bin/python\n"
        "WORKDIR /app\nCOPY . .\n"
    )
    result = deploy(scenario, stack)
    [row] = result.results
    assert row.status == "failed" and "no `prefect` package" in (row.error or "")
    # No `python` but `python3`: the check runs under it, and finds no Prefect all the same.
    (folder / "Dockerfile").write_text(
        f"FROM {stack.env['PFD_BASE_PYTHON']}\nWORKDIR /app\nCOPY . .\n"
    )
    result = deploy(scenario, stack)
    [row] = result.results
    assert row.status == "failed" and "no `prefect` package" in (row.error or "")
    # Neither (the worker's `prefect flow-run execute` is a Python script).
    (folder / "Dockerfile").write_text(
        f"FROM {stack.env['PFD_BASE_PYTHON']}\nRUN rm /usr/bin/python3*\nWORKDIR /app\nCOPY . .\n"
    )
    result = deploy(scenario, stack)
    [row] = result.results
    assert row.status == "failed" and "neither `python` nor `python3`" in (row.error or "")


def test_the_workers_command_is_checked_and_python3_alone_will_do(
    stack: Stack, scenario: Scenario
) -> None:
    """The Docker worker starts each run with `prefect flow-run execute`: an image whose
    Prefect imports but whose CLI does not (a module of it gone: as Prefect 3.4.6's on
    Python 3.11, jakekaplan/demo-flows) fails its folder with what the command printed,
    where it deployed and every run crashed; an image with `python3` and no `python`, whose
    `prefect` script names python3 (kellypj24/data-engineering), deploys, where it was
    refused for "no python"."""
    broken = write_flow(scenario.folder("p", "nocli"), "nocli")
    (broken / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nWORKDIR /opt/prefect/flows/nocli\nCOPY . .\n"
        'RUN python -c "import os, prefect; '
        "os.remove(os.path.join(os.path.dirname(prefect.__file__), 'cli', 'flow_run.py'))\"\n"
    )
    python3 = write_flow(scenario.folder("p", "py3"), "py3")
    (python3 / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nWORKDIR /opt/prefect/flows/py3\nCOPY . .\n"
        "RUN sed -i '1s|.*|#!/usr/bin/python3|' \"$(command -v prefect)\" "
        '&& rm "$(command -v python)"\n'
    )
    result = deploy(scenario, stack)
    rows = {r.folder: r for r in result.results}
    assert rows["py3"].status == "created", rows["py3"].error
    assert rows["nocli"].status == "failed"
    error = rows["nocli"].error or ""
    assert "`prefect flow-run execute`, and in this image that command fails" in error, error
    assert "flow_run" in error  # what it printed


def test_push_with_credentials_to_an_auth_registry(stack: Stack, scenario: Scenario) -> None:
    write_flow(scenario.folder("p", "private"), "private")
    registry = f"{stack.auth_registry}/t{scenario.suffix}"
    result = deploy(
        scenario,
        stack,
        registry=registry,
        registry_username=stack.auth_user,
        registry_password=stack.auth_password,
    )
    assert not result.failed, result.results
    image = result.results[0].image or ""
    from prefect_flow_deploy.core.credentials import Credentials

    login = {stack.auth_registry: Credentials(stack.auth_user, stack.auth_password)}
    assert RegistryClient(login).exists(image)


def test_wrong_registry_password_is_a_clear_error(stack: Stack, scenario: Scenario) -> None:
    from prefect_flow_deploy.core.errors import RegistryError
    from prefect_flow_deploy.run.engine import Engine

    from ..helpers import options

    write_flow(scenario.folder("p", "private"), "private")
    opts = options(
        scenario, stack, registry=f"{stack.auth_registry}/x",
        registry_username=stack.auth_user, registry_password="wrong-password",
    )  # fmt: skip
    with pytest.raises(RegistryError) as error:
        Engine(opts).deploy()
    assert "registry-password" in str(error.value) and "HTTP 401" in str(error.value)
    assert "wrong-password" not in str(error.value)
    assert error.value.exit_code == 5


def test_unreachable_registry_is_one_clear_error(stack: Stack, scenario: Scenario) -> None:
    from prefect_flow_deploy.core.errors import RegistryError
    from prefect_flow_deploy.run.engine import Engine

    from ..helpers import options

    write_flow(scenario.folder("p", "one"), "one")
    write_flow(scenario.folder("p", "two"), "two")
    with pytest.raises(RegistryError, match="cannot reach the registry localhost:5999"):
        Engine(options(scenario, stack, registry="localhost:5999/x")).plan()


def test_without_registry_builds_locally_and_pushes_nothing(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("p", "laptop"), "laptop")
    result = deploy(scenario, stack, registry="")
    [row] = result.results
    assert row.status == "created" and result.counters.pushed == 0 and result.counters.built == 1
    assert row.image and row.image.startswith(f"{scenario.project('p')}/laptop:")
    again = deploy(scenario, stack, registry="")
    assert again.counters.built == 0 and again.results[0].status == "unchanged"


def test_a_tenant_never_overwrites_another_tenants_deployment(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("p", "shared_name"), "shared_name")
    name = f"shared-name/{scenario.project('p')}"
    only = f"^{scenario.project('p')}/"  # other tests' deployments are out of scope
    untenanted = deploy(scenario, stack, tenant=None, flows=only)
    assert {r.status for r in untenanted.results} == {"created"}

    # The first tenant takes over the deployment made without one ...
    claimed = deploy(scenario, stack, tenant="prod", flows=only)
    assert {r.status for r in claimed.results} == {"updated"}
    before = read_deployment(name)
    assert "tenant:prod" in before.tags

    # ... but another tenant on the same server is refused, and prod's is left as it was.
    other = deploy(scenario, stack, tenant="dev", flows=only)
    [row] = other.results
    assert row.status == "failed" and "belongs to tenant 'prod'" in (row.error or "")
    untenanted_again = deploy(scenario, stack, tenant=None, flows=only)
    assert "--tenant prod" in (untenanted_again.results[0].error or "")
    after = read_deployment(name)
    assert after.updated == before.updated and after.tags == before.tags


def test_a_hand_made_deployment_of_the_same_name_is_taken_over_not_duplicated(
    stack: Stack, scenario: Scenario
) -> None:
    from prefect import get_client

    write_flow(scenario.folder("p", "by_hand"), "by_hand")
    name = f"by-hand/{scenario.project('p')}"

    async def make_by_hand() -> str:
        async with get_client() as client:
            flow_id = await client.create_flow_from_name("by-hand")
            deployment_id = await client.create_deployment(
                flow_id=flow_id, name=scenario.project("p"), entrypoint="old.py:by_hand"
            )
            return str(deployment_id)

    by_hand = run(make_by_hand())
    planned = plan(scenario, stack)
    [wanted] = planned.deployments
    assert wanted.action == "update" and wanted.deployment_id == by_hand
    assert {"tags", "entrypoint"} <= set(wanted.changed_fields)

    result = deploy(scenario, stack)
    [row] = result.results
    assert (row.status, row.deployment_id) == ("updated", by_hand)
    after = read_deployment(name)
    assert str(after.id) == by_hand and "managed-by:prefect-flow-deploy" in after.tags
    assert [r.status for r in deploy(scenario, stack).results] == ["unchanged"]


def test_a_check_container_that_cannot_start_is_removed(stack: Stack, scenario: Scenario) -> None:
    """An image without Python: the check container's start fails (under `python`, then
    `python3`), and docker-py leaves such a container behind even with remove=True (found
    by `make reliability`)."""
    import os
    import sys

    from prefect_flow_deploy.core.run_files import RunId
    from prefect_flow_deploy.docker.leftovers import RUN_LABEL

    folder = write_flow(scenario.folder("p", "nopython"), "nopython")
    (folder / "Dockerfile").write_text(
        f"FROM {stack.env['PFD_BASE_PYTHON']}\nRUN rm /usr/bin/python3*\nCOPY . /app\n"
    )
    args = ["--projects-root", str(scenario.root), "--registry", scenario.registry,
            "--tenant", scenario.tenant, "--work-pool", scenario.work_pool,
            "--create-work-pool"]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 1 and "neither `python` nor `python3`" in stderr, stderr
    labels = subprocess.run(
        ["/usr/bin/docker", "ps", "-a", "--filter", f"label={RUN_LABEL}",
         "--format", f'{{{{.Label "{RUN_LABEL}"}}}}'],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    runs = [RunId.parse(label) for label in labels]
    assert not [run for run in runs if run and run.pid == process.pid]
