"""No code of the repository runs in the engine's process, in `plan` or in `deploy`: a flow
file and a sibling module that write marker files at import leave none on the host. What
the source alone cannot tell (a default computed by a call, a type from a library) is
computed by Prefect inside the built image, offline, and registered; a re-run reuses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.reading.test_flows_corpus import PROJECTS, run_oracle

from ..conftest import Scenario, Stack
from .test_cli import cli, common, traced_cli

pytestmark = pytest.mark.stack

# A flow file whose top is `head`, with one flow `name`.
FLOW_AT = "{head}\nfrom prefect import flow\n\n\n@flow\ndef {name}() -> None:\n    pass\n"


def deployed_rows(
    scenario: Scenario, stack: Stack
) -> tuple[dict[str, dict[str, Any]], subprocess.CompletedProcess[str]]:
    """`deploy --json`'s rows by flow name, and the run."""
    done = cli("deploy", "--json", *common(scenario, stack))
    return {row["flow"]: row for row in json.loads(done.stdout)}, done


def test_plan_and_deploy_never_run_the_repository_s_code(
    stack: Stack, scenario: Scenario, tmp_path: Path
) -> None:
    folder = scenario.folder("data", "side_effects")
    shutil.copytree(PROJECTS / "data" / "side_effects", folder)
    frames = scenario.folder("data", "frames")  # typed with a library's class (Prefect's State)
    shutil.copytree(PROJECTS / "data" / "frames", frames)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "PFD_MARKER_DIR": str(markers)}

    planned = cli("plan", "--json", *common(scenario, stack), env=env)
    assert planned.returncode == 0, planned.stderr
    items = {i["desired"]["entrypoint"]: i for i in json.loads(planned.stdout)["items"]}
    assert set(items) == {"flow.py:effects", "flow.py:frame"}
    for item in items.values():
        assert item["desired"]["parameter_schema"] == "computed after build"
    assert list(markers.iterdir()) == []

    deployed = cli("deploy", *common(scenario, stack), env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployment writes 2" in deployed.stderr
    assert list(markers.iterdir()) == []  # the image ran it (its own /tmp), not the engine

    # What the image computed is Prefect's own schema of the flow (the oracle runs the code,
    # in a subprocess, writing its markers elsewhere).
    from prefect.client.orchestration import get_client

    project = folder.parent.name
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"effects/{project}")
        frame = client.read_deployment_by_name(f"frame/{project}")
    oracle_markers = tmp_path / "oracle"
    oracle_markers.mkdir()
    os.environ["PFD_MARKER_DIR"] = str(oracle_markers)
    try:
        answer = run_oracle(sys.executable, {str(folder): ["flow.py"], str(frames): ["flow.py"]})
    finally:
        del os.environ["PFD_MARKER_DIR"]
    assert (
        deployment.parameter_openapi_schema == answer[str(folder)]["flow.py"]["effects"]["schema"]
    )
    assert frame.parameter_openapi_schema == answer[str(frames)]["flow.py"]["frame"]["schema"]
    assert frame.parameter_openapi_schema["properties"]["rows"]["default"] == 5
    assert {p.name for p in oracle_markers.iterdir()} == {"flow-ran", "sibling-ran", "default-ran"}

    # A re-run: the schema computed from this content is on the server; nothing runs.
    again = traced_cli("deploy", *common(scenario, stack))
    assert again.returncode == 0, again.stderr
    assert "built 0, pushed 0, deployment writes 0" in again.stderr, again.stderr
    assert "prefect not imported" in again.stderr


RAISING = """import os
import sys

from prefect import flow
from prefect.states import State

if not os.environ.get("ORDERS_DSN"):
    sys.exit("ORDERS_DSN is not set")


@flow
def raising(state: State | None = None) -> None:
    pass
"""

DYING = """import os

from prefect import flow
from prefect.states import State

print("connecting to the warehouse", flush=True)
os._exit(3)


@flow
def dying(state: State | None = None) -> None:
    pass
"""


def test_a_flow_prefect_cannot_load_in_the_image_fails_its_folder_with_what_happened(
    stack: Stack, scenario: Scenario
) -> None:
    """A schema only the image can tell (a type from a library) is computed in the image, in
    the check's own run: a module that raises at import fails its folder with the error, one
    that kills its interpreter with what it printed (not the check's output); the other
    folder, checked and loaded the same way, deploys."""
    for name, source in (("raising", RAISING), ("dying", DYING)):
        folder = scenario.folder("load", name)
        folder.mkdir(parents=True)
        (folder / "flow.py").write_text(source)
    shutil.copytree(PROJECTS / "data" / "frames", scenario.folder("load", "frames"))

    done = cli("deploy", "--json", *common(scenario, stack))
    assert done.returncode == 1, done.stderr
    rows = {row["folder"]: row for row in json.loads(done.stdout)}
    assert {name: row["status"] for name, row in rows.items()} == {
        "raising": "failed",
        "dying": "failed",
        "frames": "created",
    }, done.stderr
    assert rows["raising"]["error"].startswith(
        "Prefect cannot load the flow flow.py:raising in the built image, so no run of it "
        "would start: SystemExit: ORDERS_DSN is not set"
    ), rows["raising"]["error"]
    assert rows["dying"]["error"] == (
        "loading the flows in the image failed: connecting to the warehouse"
    ), rows["dying"]["error"]


def test_a_module_that_raises_at_import_fails_though_prefect_has_a_placeholder_for_it(
    stack: Stack, scenario: Scenario
) -> None:
    """Prefect's loader, by default, falls back to a placeholder flow made from the source
    when the module raises (`use_placeholder_flow`); a run never does
    (prefect.flow_engine.load_flow passes False). The check loaded with the default: a
    module raising an ordinary error at import "loaded", and every run crashed."""
    folder = scenario.folder("load", "erring")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        RAISING.replace('sys.exit("ORDERS_DSN is not set")', 'raise RuntimeError("no DSN")')
    )
    done = cli("deploy", "--json", *common(scenario, stack))
    assert done.returncode == 1, done.stderr
    [row] = json.loads(done.stdout)
    assert row["status"] == "failed" and "RuntimeError('no DSN')" in row["error"], row


def test_the_image_loads_a_flow_with_the_environment_its_deployment_gives_runs(
    stack: Stack, scenario: Scenario
) -> None:
    """A module that needs a variable at import (a pydantic-settings object:
    MTES-MCT/qualicharge) loads in the image with its deployment's `job_variables.env`, as
    every run of it does (before: "Prefect cannot load the flow", though each run would);
    a value the worker fills in at run time is not passed."""
    folder = scenario.folder("load", "configured")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(RAISING)
    (folder / "prefect.yaml").write_text(
        "deployments:\n- entrypoint: flow.py:raising\n  work_pool:\n    job_variables:\n"
        "      env: {ORDERS_DSN: 'postgresql://warehouse/orders', TOKEN: "
        "'{{ prefect.blocks.secret.token }}'}\n"
    )
    done = cli("deploy", "--json", *common(scenario, stack))
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert row["status"] == "created", row


def test_a_flow_file_raising_at_its_top_fails_its_flows_and_one_reading_the_run_s_env_is_said(
    stack: Stack, scenario: Scenario
) -> None:
    """Cam0505/CamOnPrefect, domoench/prefect-df, tekumara/prefect-demo (trial round 8): a
    file whose top raised when loaded (`1/0`, a library import failing) was created, and
    every run crashed. It is loaded in the image now and its flows fail; one reading what
    only a run's environment may give (`os.environ[…]`) is a warning and deploys; the
    folder's clean flow deploys."""
    folder = scenario.folder("load", "attop")
    folder.mkdir(parents=True)
    (folder / "boom.py").write_text(FLOW_AT.format(head="RATE = 1 / 0", name="boom"))
    (folder / "env.py").write_text(
        FLOW_AT.format(head="import os\n\nKEY = os.environ['NEEDED_AT_RUN']", name="needs_env")
    )
    (folder / "clean.py").write_text(FLOW_AT.format(head="", name="clean"))
    rows, done = deployed_rows(scenario, stack)
    assert {flow: row["status"] for flow, row in rows.items()} == {
        "boom": "failed", "needs-env": "created", "clean": "created",
    }, done.stderr  # fmt: skip
    assert "ZeroDivisionError" in rows["boom"]["error"], rows["boom"]["error"]
    assert "loading env.py:needs_env in the built image raised" in done.stderr, done.stderr
    assert "KeyError" in done.stderr


def test_a_library_raising_at_import_fails_its_flow_and_those_that_import_are_not_loaded(
    stack: Stack, scenario: Scenario
) -> None:
    """domoench/prefect-df: GitPython raises ImportError at import in an image without a
    git binary; every run crashed. A flow file whose only risk is its libraries' imports
    imports them alone in the image (no Prefect: 2.8 s of a folder's check on this machine);
    one failing, or a name the library lacks, is loaded by Prefect, whose error fails that
    flow; the others deploy."""
    folder = scenario.folder("load", "libraries")
    folder.mkdir(parents=True)
    site = "/usr/local/lib/pfd-site"
    (folder / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nENV PYTHONPATH={site}\nRUN mkdir -p {site} && "
        f"echo 'X = 1' > {site}/okmod.py && "
        f"echo 'raise ImportError(\"Bad git executable.\")' > {site}/gitlike.py\n"
        "WORKDIR /opt/flows\nCOPY . .\n"
    )
    heads = {"good": "from okmod import X", "git": "import okmod\nimport gitlike",
             "typo": "from okmod import Y"}  # fmt: skip
    for name, head in heads.items():
        (folder / f"{name}.py").write_text(FLOW_AT.format(head=head, name=name))
    rows, done = deployed_rows(scenario, stack)
    assert {flow: row["status"] for flow, row in rows.items()} == {
        "good": "created", "git": "failed", "typo": "failed",
    }, done.stderr  # fmt: skip
    assert "Bad git executable." in rows["git"]["error"], rows["git"]["error"]
    assert "cannot import name 'Y'" in rows["typo"]["error"], rows["typo"]["error"]


def test_a_module_asking_the_api_at_import_is_a_warning_and_fails_fast(
    stack: Stack, scenario: Scenario
) -> None:
    """awesomegusS/tm-vov-dashboard (trial round 9 a 7): `Variable.get(…)` at a module's top,
    with the check's empty PREFECT_API_URL, started Prefect's temporary local server (older
    Prefect 3): 86 s a load, past the 120 s watchdog for the folder. Without one, the client
    fails at once: a fallback in the module runs, and one without is a warning (a run has
    the API), as a variable the run's environment gives."""
    folder = scenario.folder("load", "asksapi")
    folder.mkdir(parents=True)
    ask = "from prefect.variables import Variable\n\n"
    (folder / "fallback.py").write_text(FLOW_AT.format(name="fallback", head=ask + (
        "try:\n    REGION = Variable.get('region', default='eu')\nexcept Exception:\n"
        "    REGION = 'eu'")))  # fmt: skip
    (folder / "bare.py").write_text(
        FLOW_AT.format(name="bare", head=ask + "REGION = Variable.get('region', default='eu')")
    )
    done = cli("deploy", "--json", *common(scenario, stack))
    rows = {row["flow"]: row["status"] for row in json.loads(done.stdout)}
    assert rows == {"fallback": "created", "bare": "created"}, done.stderr
    [said] = [line for line in done.stderr.splitlines() if "loading bare.py:bare" in line]
    assert "No Prefect API URL provided" in said and "fallback" not in done.stderr, done.stderr


def test_a_missing_submodule_of_the_folder_s_own_package_fails_its_flow(
    stack: Stack, scenario: Scenario
) -> None:
    """nishantnayar/prefect-trading after adopt (trial round 9 b 7): `from pkg.sub.loader
    import load` with pkg/ in the folder and pkg/sub/ not: the import check (it looks at
    `pkg`) said nothing, the loading's ModuleNotFoundError was taken for a package a run may
    install, and every run crashed. A missing library stays the import check's warning."""
    folder = scenario.folder("load", "ownpkg")
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "sub.py").write_text(
        FLOW_AT.format(head="from pkg.sub.loader import load", name="sub")
    )
    (folder / "lib.py").write_text(FLOW_AT.format(head="import no_such_library_zz", name="lib"))
    (folder / "ok.py").write_text(FLOW_AT.format(head="", name="ok"))
    rows, done = deployed_rows(scenario, stack)
    statuses = {f: r["status"] for f, r in rows.items()}
    assert statuses == {"sub": "failed", "lib": "failed", "ok": "created"}, done.stderr
    assert "No module named 'pkg.sub'" in rows["sub"]["error"], rows["sub"]["error"]
    assert "EXTRA_PIP_PACKAGES" not in rows["sub"]["error"]  # no package gives it
    assert "Nothing sets EXTRA_PIP_PACKAGES" in rows["lib"]["error"], rows["lib"]["error"]


def test_when_every_flow_fails_on_its_own_each_row_says_its_own_error(
    stack: Stack, scenario: Scenario
) -> None:
    """malerhd/credit-scoring-pipeline (trial round 10 b 3): when every flow of a folder
    failed the image check, each on its own, every row (and `--json`'s `error`) said the
    first flow's error. Each row says its own; the annotations did already."""
    folder = scenario.folder("load", "allfail")
    folder.mkdir(parents=True)
    for name in ("alpha", "beta"):
        (folder / f"{name}.py").write_text(
            FLOW_AT.format(head=f"import missing_{name}_zz", name=name)
        )
    rows, done = deployed_rows(scenario, stack)
    statuses = {f: r["status"] for f, r in rows.items()}
    assert statuses == {"alpha": "failed", "beta": "failed"}, done.stderr
    for name in ("alpha", "beta"):
        assert f"No module named 'missing_{name}_zz'" in rows[name]["error"], rows[name]
