"""A repository in Prefect's own layout deploys as it is, on the real stack (issue 23): a
prefect.yaml at the root with `entrypoint: flows/…` entries, `projects-root: .`; each entry
from an image of its folder, run by the Docker worker to Completed. Then `adopt` rewrites it
into projects/<project>/<folder>/ and the plan keeps every image and deployment name (the
images are rebuilt once: each folder now holds its prefect.yaml)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import Scenario, Stack
from ..helpers import run_deployment, server_deployment
from .test_deploy_order import git

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]


def test_prefect_s_layout_deploys_runs_and_adopts_without_renaming(
    stack: Stack, scenario: Scenario
) -> None:
    s = scenario
    repo = s.root.parent  # a checkout: tmp/repo (its projects/ stays empty)
    (repo / "flows" / "sales").mkdir(parents=True)
    (repo / "flows" / "etl.py").write_text(
        "from prefect import flow\n\nfrom helpers import double\n\n\n"
        f"@flow(name='etl-{s.suffix}', log_prints=True)\n"
        "def etl(n: int = 1) -> int:\n    print('etl made', double(n))\n    return double(n)\n"
    )
    (repo / "flows" / "helpers.py").write_text("def double(n: int) -> int:\n    return 2 * n\n")
    (repo / "flows" / "sales" / "report.py").write_text(
        f"from prefect import flow\n\n\n@flow(name='report-{s.suffix}')\ndef report() -> None:\n"
        "    pass\n"
    )
    (repo / "prefect.yaml").write_text(
        "pull:\n- prefect.deployments.steps.set_working_directory: {directory: /opt/prefect}\n"
        "deployments:\n"
        f"- name: {s.project('daily')}\n  entrypoint: flows/etl.py:etl\n"
        f"  work_pool: {{name: {stack.worker_pool}}}\n"
        f"- name: {s.project('weekly')}\n  entrypoint: flows/sales/report.py:report\n"
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "flows")
    args = [
        "--projects-root", ".", "--registry", s.registry, "--base-image", stack.base_image,
        "--tenant", s.tenant, "--repository", f"acme/layout-{s.suffix}", "--create-work-pool",
        "--work-pool", s.work_pool,
    ]  # fmt: skip

    def cli(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *command, *args], cwd=repo, capture_output=True, text=True, timeout=600
        )

    deployed = cli("deploy", "--json")
    assert deployed.returncode == 0, deployed.stderr
    rows = {f"{r['flow']}/{r['deployment']}": r for r in json.loads(deployed.stdout)}
    etl, report = f"etl-{s.suffix}/{s.project('daily')}", f"report-{s.suffix}/{s.project('weekly')}"
    assert {n: (r["project"], r["folder"], r["status"]) for n, r in rows.items()} == {
        etl: (f"layout-{s.suffix}", "flows", "created"),
        report: ("flows", "sales", "created"),
    }
    data = server_deployment(etl)
    assert data["entrypoint"] == "etl.py:etl" and data["work_pool_name"] == stack.worker_pool
    assert f"folder:layout-{s.suffix}/flows" in data["tags"]
    state, logs = run_deployment(etl, {"n": 21})
    assert state == "COMPLETED", "\n".join(logs)
    assert any("etl made 42" in line for line in logs), logs

    adopted = subprocess.run(
        [*CLI, "adopt", "--project", f"layout-{s.suffix}"], cwd=repo, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert adopted.returncode == 0, adopted.stderr
    args[1] = "projects"
    planned = cli("plan", "--json")
    assert planned.returncode == 0, planned.stderr
    items = {i["deployment"]: i for i in json.loads(planned.stdout)["items"]}
    assert set(items) == {etl, report}  # the same names: nothing created, nothing removed
    # Each folder gained its prefect.yaml, which no image holds: flows/sales is unchanged,
    # nothing to build or write; flows/ lost sales/ from its build context: a new image.
    assert {n: (i["image_action"], i["deployment_action"]) for n, i in items.items()} == {
        etl: ("build", "update"), report: ("exists", "unchanged"),
    }  # fmt: skip
    assert {i["image"].rsplit(":", 1)[0] for i in items.values()} == {
        f"{s.registry}/layout-{s.suffix}/flows", f"{s.registry}/flows/sales",
    }  # fmt: skip
