"""Deployed flows really run: the stack's Docker worker starts each from its image."""

from __future__ import annotations

import pytest

from ..conftest import Scenario, Stack, copy_example
from ..helpers import deploy, run_deployment

pytestmark = [pytest.mark.stack, pytest.mark.e2e]


@pytest.fixture
def worker_scenario(scenario: Scenario, stack: Stack) -> Scenario:
    scenario.work_pool = stack.worker_pool  # the pool the stack's worker serves
    return scenario


def test_deployed_flows_run_to_completed_with_their_parameters(
    stack: Stack, worker_scenario: Scenario
) -> None:
    s = worker_scenario
    copy_example(s, "sales", "daily_orders")  # no Dockerfile, no requirements.txt
    copy_example(s, "marketing", "legacy_layout")  # own Dockerfile, code added at /
    copy_example(s, "marketing", "campaign_sync")  # own Dockerfile with a BuildKit cache mount
    result = deploy(s, stack)
    assert not result.failed, result.results

    runs = {
        f"daily-orders/{s.project('sales')}": (
            {"region": "apac", "limit": 7},
            "processed 7 orders for apac",
        ),
        f"legacy-export/{s.project('marketing')}": ({"target": "gs://e2e"}, "exported to gs://e2e"),
        f"campaign-sync/{s.project('marketing')}": (
            {"contacts": 4321},
            "synced 4,321 contacts for spring",
        ),
    }
    for name, (parameters, expected) in runs.items():
        state, logs = run_deployment(name, parameters)
        assert state == "COMPLETED", f"{name}: {state}\n" + "\n".join(logs)
        assert any(expected in line for line in logs), (
            f"{name}: {expected!r} not in logs:\n" + "\n".join(logs)
        )


def test_secret_block_and_variable_references_in_job_variables_resolve_at_run_time(
    stack: Stack, worker_scenario: Scenario
) -> None:
    """prefect.yaml's `{{ prefect.blocks.secret.… }}` in job_variables stays a reference in
    the deployment (no secret stored there) and the worker fills it in for each run."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import VariableCreate

    from ..helpers import run

    s = worker_scenario
    secret_name, variable_name = f"pfd-token-{s.suffix}", f"pfd_region_{s.suffix}"
    secret_value = f"tok-{s.suffix}-value"
    Secret(value=secret_value).save(secret_name, overwrite=True)

    async def create_variable() -> None:
        async with get_client() as client:
            await client.create_variable(VariableCreate(name=variable_name, value="emea"))

    run(create_variable())
    folder = s.folder("ops", "tokens")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        "import os\nfrom prefect import flow\n\n\n"
        f"@flow(name='tokens-{s.suffix}', log_prints=True)\ndef tokens() -> None:\n"
        f"    print('token ok:', os.environ['TOKEN'] == {secret_value!r})\n"
        "    print('region:', os.environ['REGION'])\n"
    )
    (folder / "prefect.yaml").write_text(
        "deployments:\n  - name: tokens\n    entrypoint: flow.py:tokens\n    work_pool:\n"
        f"      name: {stack.worker_pool}\n      job_variables:\n        env:\n"
        f"          TOKEN: '{{{{ prefect.blocks.secret.{secret_name} }}}}'\n"
        f"          REGION: '{{{{ prefect.variables.{variable_name} }}}}'\n"
    )
    result = deploy(s, stack)
    assert not result.failed, result.results
    name = f"tokens-{s.suffix}/tokens"

    async def stored_env() -> dict[str, str]:
        async with get_client() as client:
            deployment = await client.read_deployment_by_name(name)
            return dict((deployment.job_variables or {})["env"])

    env = run(stored_env())
    assert env["TOKEN"] == f"{{{{ prefect.blocks.secret.{secret_name} }}}}"
    state, logs = run_deployment(name, {})
    assert state == "COMPLETED", "\n".join(logs)
    assert any("token ok: True" in line for line in logs), "\n".join(logs)
    assert any("region: emea" in line for line in logs), "\n".join(logs)


def test_requirements_naming_files_of_the_folder_install_and_run(
    stack: Stack, worker_scenario: Scenario
) -> None:
    """`-r base.txt` and a local package `./mylib` in requirements.txt: pip needs those files
    in the build, so the default recipe installs after copying the folder."""
    s = worker_scenario
    folder = s.folder("ops", "locallib")
    (folder / "mylib" / "src" / "mylib").mkdir(parents=True)
    (folder / "mylib" / "pyproject.toml").write_text(
        '[project]\nname = "mylib"\nversion = "1.0"\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (folder / "mylib" / "src" / "mylib" / "__init__.py").write_text("GREETING = 'from mylib'\n")
    (folder / "base.txt").write_text("# shared pins\n./mylib\n")
    (folder / "requirements.txt").write_text("-r base.txt\n")
    (folder / "flow.py").write_text(
        "import os\nfrom prefect import flow\n\n\n"
        f"@flow(name='locallib-{s.suffix}', log_prints=True)\ndef locallib() -> None:\n"
        "    import mylib\n"
        "    print(mylib.GREETING, 'installed at', os.path.dirname(mylib.__file__))\n"
    )
    result = deploy(s, stack)
    assert not result.failed, result.results
    state, logs = run_deployment(f"locallib-{s.suffix}/{s.project('ops')}", {})
    assert state == "COMPLETED", "\n".join(logs)
    assert any("from mylib installed at" in line and "-packages/mylib" in line for line in logs), (
        "\n".join(logs)
    )


def test_an_entrypoint_script_that_passes_the_command_on_runs(
    stack: Stack, worker_scenario: Scenario
) -> None:
    s = worker_scenario
    folder = s.folder("ops", "entryscript")
    folder.mkdir(parents=True)
    (folder / "entry.sh").write_text('#!/bin/sh\necho "entry: preparing"\nexec "$@"\n')
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n"
        f"@flow(name='entry-{s.suffix}', log_prints=True)\ndef entry() -> None:\n"
        "    print('ran through the entrypoint')\n"
    )
    (folder / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nWORKDIR /app\nCOPY . .\nRUN chmod +x /app/entry.sh\n"
        'ENTRYPOINT ["/app/entry.sh"]\n'
    )
    result = deploy(s, stack)
    assert not result.failed, result.results
    state, logs = run_deployment(f"entry-{s.suffix}/{s.project('ops')}", {})
    assert state == "COMPLETED", "\n".join(logs)
    assert any("ran through the entrypoint" in line for line in logs), "\n".join(logs)
