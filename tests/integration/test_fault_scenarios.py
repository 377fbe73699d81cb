"""Faults of the registry and the Prefect API during a deploy, each a row of `CASES`: the
fault injected (by our proxy on loopback, tests/fault_proxy.py, in front of the stack's
real registry or Prefect server) and the outcome the run must have (exit status, the status
of every row, how long it may take). Retries (http_retry.py), pushes pushed again
(push_pull.push), exit 5/6 (exit_status.py) and the deadline (timeout-minutes).

After every case: nothing half-written. Every deployment of the scenario on the server
points at an image the registry holds (a deployment is written only after its push).

Reusable (`make reliability` counts them): `run_case(case, stack, scenario, registry_proxy)`
runs one case, `judge(case, outcome, scenario)` lists what it got wrong (empty: survived).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from prefect_flow_deploy.clients.registry import RegistryClient

from ..conftest import Scenario, Stack, write_flow
from ..fault_proxy import FOREVER, Fault, FaultProxy, fault_proxy
from ..helpers import running, server_api
from .test_cli import cli, common

pytestmark = pytest.mark.stack

# Prefect's writes (reads are POSTs to …/filter): a flow and a deployment created, updated.
WRITES = r"/api/(flows|deployments)/$"
UPDATES = r"/api/deployments/[0-9a-f-]{36}$"


@dataclass(frozen=True)
class Case:
    name: str
    service: str  # "registry" or "prefect": what the proxy stands in front of
    faults: tuple[Fault, ...]
    exit: int  # the run's exit status
    statuses: frozenset[str]  # each row's status is one of these
    folders: int = 1
    options: tuple[str, ...] = ()
    injected: int = 1  # at least this many faults were met
    max_seconds: float = 300.0
    min_seconds: float = 0.0
    # Deploy once without faults first: the faulted run then has only writes to make.
    deployed_first: bool = False
    error: str = ""  # in stderr


CASES = [
    Case(
        "one 503 on a manifest PUT during a push: pushed again, deployed",
        "registry", (Fault(503, method="PUT", path=r"/manifests/"),),
        exit=0, statuses=frozenset({"created"}),
    ),
    Case(
        "429 with Retry-After: 2 on a registry HEAD: waited, asked again",
        "registry", (Fault(429, "2", method="HEAD", path=r"/manifests/"),),
        exit=0, statuses=frozenset({"created"}), min_seconds=2.0,
    ),
    Case(
        "one 500 on the work-pool read: read again, deployed",
        "prefect", (Fault(500, method="GET", path=r"/api/work_pools/[^/]+$"),),
        exit=0, statuses=frozenset({"created"}),
    ),
    Case(
        "a 503 on deployment writes that clears after 3: written",
        "prefect", (Fault(503, method="POST", path=WRITES, times=3),),
        exit=0, statuses=frozenset({"created"}), injected=3,
    ),
    Case(
        "every push refused (403 denied on the uploads): exit 5",
        "registry", (Fault(403, method="POST", path=r"/blobs/uploads/", times=FOREVER),),
        exit=5, statuses=frozenset({"failed"}), folders=2,
        error="the registry refused every push of this run (2",
    ),
    Case(
        "a 503 on every write that never clears, deadline 1 min: ends near it, exit 6",
        "prefect",
        (
            Fault(503, method="POST", path=WRITES, times=FOREVER),
            Fault(503, method="PATCH", path=UPDATES, times=FOREVER),
        ),
        exit=6, statuses=frozenset({"failed", "skipped"}), folders=4,
        options=("--timeout-minutes", "1"), deployed_first=True, max_seconds=60 + 15,
        error="could not take any of this run's deployment writes",
    ),
    Case(
        "a 503 on manifest PUTs that never clears, deadline 0.4 min: nothing written, exit 5",
        "registry", (Fault(503, method="PUT", path=r"/manifests/", times=FOREVER),),
        exit=5, statuses=frozenset({"failed", "skipped"}), folders=2,
        # A push under way when the deadline passes finishes (it is not cut off half-way):
        # on this shared machine one can take a minute.
        options=("--timeout-minutes", "0.4", "--max-parallel", "1"), max_seconds=24 + 90,
        error="the registry refused every push of this run (",
    ),
]  # fmt: skip


@dataclass
class Outcome:
    exit: int
    rows: list[dict[str, object]]
    seconds: float
    faults: list[tuple[str, int]]
    stderr: str = field(repr=False)


@pytest.fixture(scope="module")
def registry_proxy(stack: Stack) -> Iterator[tuple[str, FaultProxy]]:
    """One proxy in front of the stack's registry for the module's cases."""
    with fault_proxy(f"http://{stack.registry.split('/')[0]}", []) as (url, proxy):
        yield url.removeprefix("http://").rstrip("/"), proxy


def seed_base_layers(stack: Stack, repositories: list[str]) -> None:
    """Mount the base image's layers into the repositories a case pushes to, straight on the
    registry (distribution's cross-repository mount, `POST …/blobs/uploads/?mount=&from=`):
    the engine then finds them there and uploads only the folder's own layers, not 300 MB
    compressed on a busy machine (the engine would mount them itself from a repository of
    the same host it had pushed them to, but the proxy is a new host to it)."""
    host, base = stack.base_image.split("/", 1)
    repository, tag = base.rsplit(":", 1)
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    with httpx.Client(base_url=f"http://{host}/v2/", timeout=60) as client:
        manifest = client.get(f"{repository}/manifests/{tag}", headers={"Accept": accept})
        manifest.raise_for_status()
        for target in repositories:
            for layer in manifest.json()["layers"]:
                mounted = client.post(
                    f"{target}/blobs/uploads/",
                    params={"mount": layer["digest"], "from": repository},
                )
                assert mounted.status_code == 201, mounted.text


def run_case(
    case: Case, stack: Stack, scenario: Scenario, registry_proxy: tuple[str, FaultProxy]
) -> Outcome:
    for i in range(case.folders):
        write_flow(scenario.folder("p", f"f{i}"), f"f{i}_{scenario.suffix}")
    args = common(scenario, stack)
    if case.deployed_first:
        assert cli("deploy", *args).returncode == 0
        args += ["--work-pool", scenario.work_pool + "-b"]  # every deployment to update
    if case.service == "registry":
        host, proxy = registry_proxy
        args += ["--registry", f"{host}/t{scenario.suffix}"]
        seed_base_layers(
            stack,
            [f"t{scenario.suffix}/{scenario.project('p')}/f{i}" for i in range(case.folders)],
        )
        proxy.play(list(case.faults))
        started = time.monotonic()
        run = cli("deploy", "--json", *args, *case.options)
    else:
        with fault_proxy(stack.env["PREFECT_API_URL"], list(case.faults)) as (url, proxy):
            started = time.monotonic()
            run = cli("deploy", "--json", *args, "--prefect-api-url", url, *case.options)
    seconds = time.monotonic() - started
    rows = json.loads(run.stdout) if run.stdout.strip() else []
    return Outcome(run.returncode, rows, seconds, list(proxy.faults), run.stderr)


def half_written(scenario: Scenario) -> list[str]:
    """Deployments of the scenario's tenant that point at an image the registry lacks."""
    registry = RegistryClient()
    try:
        return [
            f"{d['name']} points at {image}, which the registry does not have"
            for d in _tenant_deployments(scenario)
            if not registry.exists(image := str((d.get("job_variables") or {}).get("image")))  # type: ignore[attr-defined]
        ]
    finally:
        registry.close()


def judge(case: Case, outcome: Outcome, scenario: Scenario) -> list[str]:
    """What the outcome got wrong (nothing: the fault was survived as it should be); for
    `make reliability`, which counts them."""
    wrong = []
    if outcome.exit != case.exit:
        wrong.append(f"exit {outcome.exit}, not {case.exit}")
    if len(outcome.rows) != case.folders:
        wrong.append(f"{len(outcome.rows)} rows, not {case.folders}")
    statuses = {str(r["status"]) for r in outcome.rows}
    if not statuses <= case.statuses:
        wrong.append(f"statuses {sorted(statuses)}, not within {sorted(case.statuses)}")
    if len(outcome.faults) < case.injected:
        wrong.append(f"{len(outcome.faults)} faults met, not {case.injected}")
    if not case.min_seconds <= outcome.seconds <= case.max_seconds:
        wrong.append(f"{outcome.seconds:.1f}s, not {case.min_seconds}-{case.max_seconds}s")
    if case.error not in outcome.stderr:
        wrong.append(f"no {case.error!r} in stderr")
    for row in outcome.rows:  # what was not done says why; a skipped row names the deadline
        if row["status"] in ("failed", "skipped") and not row["error"]:
            wrong.append(f"{row['flow']}: {row['status']} without a reason")
        if row["status"] == "skipped" and not str(row["error"]).startswith("deadline:"):
            wrong.append(f"{row['flow']}: skipped, not for the deadline: {row['error']}")
    wrong += half_written(scenario)
    if case.service == "registry" and case.exit != 0 and _tenant_deployments(scenario):
        wrong.append("a deployment was written although every push was refused")
    return wrong


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(
    case: Case, stack: Stack, scenario: Scenario, registry_proxy: tuple[str, FaultProxy]
) -> None:
    outcome = run_case(case, stack, scenario, registry_proxy)
    assert judge(case, outcome, scenario) == [], outcome.stderr


def _tenant_deployments(scenario: Scenario) -> list[dict[str, object]]:
    with server_api() as client:
        response = client.post(
            "deployments/filter",
            json={"deployments": {"tags": {"all_": [f"tenant:{scenario.tenant}"]}}},
        )
        response.raise_for_status()
        found: list[dict[str, object]] = response.json()
        return found


def test_the_deadline_skips_what_has_not_started(stack: Stack, scenario: Scenario) -> None:
    """No fault at all, a deadline that passes while planning: nothing is built, every row
    says `skipped: deadline`, exit 7, and the message says what to do."""
    write_flow(scenario.folder("p", "one"), f"one_{scenario.suffix}")
    run = cli("deploy", "--json", *common(scenario, stack), "--timeout-minutes", "0.0001")
    assert run.returncode == 7, run.stderr
    rows = json.loads(run.stdout)
    assert [r["status"] for r in rows] == ["skipped"]
    assert str(rows[0]["error"]).startswith("deadline: timeout-minutes (0.0001) passed before")
    assert "Run again to finish" in run.stderr
    assert not _tenant_deployments(scenario)


def test_a_build_under_way_at_the_deadline_is_stopped(stack: Stack, scenario: Scenario) -> None:
    """A build still running when the deadline passes is stopped (its RUN step too: BuildKit
    cancels a build whose client is gone), not waited for: the run reports at the deadline,
    exit 7, the row saying so."""
    token = f"sleep 118.{int(scenario.suffix, 16)}"  # this test's own RUN step
    slow = write_flow(scenario.folder("p", "slow"), f"slow_{scenario.suffix}")
    (slow / "Dockerfile").write_text(
        f"FROM {stack.base_image}\nRUN {token}\nCOPY . /opt/prefect/flows/slow\n"
    )
    started = time.monotonic()
    run = cli("deploy", "--json", *common(scenario, stack), "--timeout-minutes", "0.5")
    seconds = time.monotonic() - started
    assert run.returncode == 7, run.stderr
    [row] = json.loads(run.stdout)
    assert row["status"] == "skipped"
    assert str(row["error"]).startswith("deadline: timeout-minutes (0.5) passed during building")
    assert str(row["error"]).endswith("which was stopped")
    assert seconds < 118 - 30, "the run waited for the build"
    gone_by = time.monotonic() + 20
    while running(token) and time.monotonic() < gone_by:
        time.sleep(0.5)
    assert not running(token), "the build goes on after the run ended"
    assert not _tenant_deployments(scenario)
