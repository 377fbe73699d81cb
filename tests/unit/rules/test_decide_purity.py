"""decide is pure: a whole `plan(inputs, options)` on a realistic world (folders to build
and not, deployments to create, update, keep and remove, a pool to create, a closed pull
request's preview to sweep, keep-images) with sockets, file access and processes forbidden
gives the plan it should; and importing decide loads no client, Docker or I/O module."""

from __future__ import annotations

import builtins
import io
import json
import os
import pathlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from prefect_flow_deploy.core.model import DeploymentConfig, ImageAnswer, Plan
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.rules import decide, previews
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.rules.removals import GONE
from prefect_flow_deploy.settings.options import Options
from tests.unit.rules.test_decide import OPTIONS, deployed, first_plan, folder, inputs, managed
from tests.unit.rules.test_previews import preview

TEMPLATE = {"variables": {"properties": {"image": {}, "env": {}}}}
RUN = replace(
    OPTIONS, repository="acme/flows", tenant="dev", prune=True, previews=True, keep_images=2,
    create_work_pool=True,
)  # fmt: skip

FORBIDDEN: list[tuple[Any, str]] = [
    (socket, "socket"), (builtins, "open"), (io, "open"), (os, "open"), (os, "listdir"),
    (os, "scandir"), (subprocess, "Popen"), (pathlib.Path, "stat"), (pathlib.Path, "is_file"),
    (pathlib.Path, "exists"), (pathlib.Path, "read_text"), (pathlib.Path, "read_bytes"),
    (pathlib.Path, "iterdir"),
]  # fmt: skip


@contextmanager
def no_io() -> Iterator[list[str]]:
    """Every forbidden call raises (and is recorded, should a rule swallow the error)."""
    tried: list[str] = []
    saved = [(owner, name, getattr(owner, name)) for owner, name in FORBIDDEN]

    def refuse(what: str) -> Any:
        def refused(*args: object, **kwargs: object) -> Any:
            tried.append(what)
            raise AssertionError(f"decide called {what}")

        return refused

    for owner, name, _ in saved:
        setattr(owner, name, refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    try:
        yield tried
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def world() -> Inputs:
    daily = folder("daily", "etl", "report")  # new: built, two creates
    weekly, monthly = folder("weekly"), folder("monthly")  # deployed; monthly changed by hand
    hourly = folder(
        "hourly",
        deployment_configs=[DeploymentConfig(entrypoint="flow.py:hourly", work_pool="nightly")],
    )  # on a pool that does not exist yet: created
    specs = {
        d.full_name: d.spec
        for d in first_plan(weekly, monthly, options=replace(RUN, prune=False)).deployments
        if d.spec
    }
    server = [
        deployed(specs["weekly/sales"], id="w"),
        deployed(specs["monthly/sales"], id="m", description="set by hand"),
        managed("old/sales", "sales/gone", "repo:acme/flows", "tenant:dev", id="gone"),
        preview("weekly/sales-pr-3", "sales/weekly", 3),  # its pull request is closed
    ]
    there = {
        f.key: ImageAnswer(
            f"r/sales/{f.name}", "tag1", {"file:flow.py": "a" * 64}, digest="sha256:1"
        )
        for f in (weekly, monthly)
    }
    pools = {
        "pool": Pool("pool", "docker", TEMPLATE),
        "nightly": Pool("nightly", "docker", TEMPLATE, exists=False, others=("pool",)),
    }
    base = inputs(daily, weekly, monthly, hourly, server=server, answers=there)
    return replace(base, pools=pools, pull_states={3: "closed"}, parameters_at=(None, 3))


def decided(inputs_: Inputs, options: Options) -> dict[str, Any]:
    """The plan's decisions as plain data."""
    plan: Plan = decide.plan(inputs_, options)
    return {
        "images": {i.folder.key: (i.action, i.check, i.cache_from) for i in plan.images},
        "deployments": {d.full_name: (d.action, d.reason) for d in plan.deployments},
        "pools_to_create": [p.name for p in plan.pools_to_create],
        "version_info": plan.version_info,
        "retention": plan.retention,
        "failed": [f.key for f in plan.folders if f.failed],
    }


def test_a_whole_plan_touches_no_socket_file_or_process() -> None:
    inputs_ = world()
    decide.plan(inputs_, RUN)  # once first: the modules a rule imports lazily are loaded
    with no_io() as tried:
        plan = decided(inputs_, RUN)
    assert tried == []
    assert plan["images"] == {
        "sales/daily": ("build", False, None),
        "sales/weekly": ("exists", False, None),
        "sales/monthly": ("exists", False, None),
        "sales/hourly": ("build", False, None),
    }
    assert plan["deployments"] == {
        "etl/sales": ("create", None),
        "report/sales": ("create", None),
        "weekly/sales": ("unchanged", None),
        "monthly/sales": ("update", None),
        "hourly/sales": ("create", None),
        "old/sales": ("remove", GONE),
        "weekly/sales-pr-3": ("remove", "pull request #3 is closed"),
    }
    assert plan["pools_to_create"] == ["nightly"] and plan["failed"] == []
    assert plan["version_info"] is False  # a self-hosted server
    retention = plan["retention"]
    assert retention.keep == 2 and retention.removed == {}  # the removed held no image
    assert retention.to_build == {"r/sales/daily": "tag1", "r/sales/hourly": "tag1"}
    assert previews.environments_done(decide.plan(inputs_, RUN).deployments) == [3]
    # Without --prune the gone folder's deployment is kept, and the plan says why.
    with no_io() as tried:
        kept = decided(inputs_, replace(RUN, prune=False))
    assert tried == [] and kept["deployments"]["old/sales"][0] == "orphan"


def test_the_forbidden_calls_are_forbidden() -> None:
    """The guard itself: each patched call raises inside it, and is restored after."""
    with no_io() as tried, pytest.raises(AssertionError):
        pathlib.Path("/").exists()
    assert tried == ["Path.exists"] and pathlib.Path("/").exists()
    with no_io(), pytest.raises(AssertionError):
        socket.socket()
    with no_io(), pytest.raises(AssertionError):
        open(os.devnull)  # noqa: SIM115


# Clients, sockets, the Docker SDK, Prefect, and the YAML parser (reading's).
I_O_MODULES = (
    "httpx",
    "httpcore",
    "docker",
    "prefect",
    "requests",
    "urllib3",
    "socket",
    "ssl",
    "yaml",
)
OURS_I_O = (
    "prefect_flow_deploy.clients", "prefect_flow_deploy.docker", "prefect_flow_deploy.run",
    "prefect_flow_deploy.reading", "prefect_flow_deploy.commands",
    "prefect_flow_deploy.reports", "prefect_flow_deploy.settings.cascade",
    "prefect_flow_deploy.settings.config_file",
)  # fmt: skip


def test_importing_decide_loads_no_client_docker_or_i_o_module() -> None:
    code = (
        "import sys, json, prefect_flow_deploy.rules.decide\n"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))"  # loaded
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "prefect_flow_deploy.rules.decide" in loaded
    assert sorted(m for m in loaded if m.partition(".")[0] in I_O_MODULES) == []
    assert sorted(m for m in loaded if m.startswith(OURS_I_O)) == []
    assert "http.client" not in loaded and "subprocess" not in loaded
