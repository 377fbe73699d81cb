"""Reading flows from the source: 600 flows shaped like real code, and a no-op re-run of 30
flows typed with the folders' own pydantic models against 30 with plain parameters.

    .venv/bin/python bench/flow_reading.py [--flows 600] [--repeat 5] [--rerun 30] [--no-save]

1. Discovery (in this process): `discover()` on `--flows` folders, a quarter of them with a
   `models.py` (pydantic models with Field descriptions, a nested model, an enum, Optional,
   Annotated) typing the flow's parameters. Baseline in the same process: `ast.parse` of the
   same files, the floor of reading the source at all. Ratio = discovery / baseline.
2. No-op re-run (a child process each, as a user runs it): `prefect-flow-deploy deploy` on a
   repository already deployed (seed_deployed.py, against a private registry and Prefect
   server, no Docker engine), 30 model-typed flows against 30 plain ones. Ratio = model-typed
   / plain; each run also says whether it imported `prefect` (it should not: nothing to write).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    REPO,
    VENV_BIN,
    WORK_POOL,
    BenchStack,
    free_port,
    log,
    machine_info,
    run_measured,
)
from plan_scaling import seed, upload_stand_in_base
from prefect_flow_deploy.reading.discovery import discover, python_files

RESULTS = REPO / "bench" / "results"

PLAIN_FLOW = '''"""Daily {name} load."""

import logging

import pandas as pd  # not installed here: never imported by discovery
from prefect import flow, task

LOG = logging.getLogger(__name__)
SOURCE = "warehouse"


@task(retries=2)
def extract(day: str, limit: int) -> list[dict]:
    return [{{"day": day, "n": i}} for i in range(limit)]


@task
def load(rows: list[dict]) -> int:
    return len(pd.DataFrame(rows))


@flow(name="{name}", log_prints=True)
def run(day: str = "today", limit: int = {index}, dry_run: bool = False, region: str | None = None) -> int:
    """Load one day.

    Args:
        day: the day to load
        limit: at most this many rows
        dry_run: read, do not write
    """
    return load(extract(day, limit))
'''

MODELS = '''from datetime import date
from enum import Enum
from typing import Annotated, Optional

from pydantic import BaseModel, Field


class Region(str, Enum):
    EU = "eu"
    US = "us"


class Window(BaseModel):
    days: int = Field(7, ge=1, description="How far back")
    include_today: bool = False


class Settings(BaseModel):
    """Settings of the {name} load."""

    table: str = "{name}"
    window: Window = Window()
    since: Optional[date] = None
    batch_size: Annotated[int, Field(gt=0, description="Rows per insert")] = {index}
    tags: list[str] = Field(default_factory=list)
'''

MODEL_FLOW = '''"""{name}, configured by its models."""

from prefect import flow, task

from models import Region, Settings, Window


@task
def load(settings: Settings) -> int:
    return settings.batch_size


@flow(name="{name}")
def run(settings: Settings = Settings(), region: Region = Region.EU, window: Window | None = None, dry_run: bool = False) -> int:
    """Load with settings.

    Args:
        settings: what to load
        region: where from
    """
    return load(settings)
'''


def generate(root: Path, flows: int, projects: int = 10) -> int:
    """`flows` folders over `projects` projects; every fourth folder model-typed."""
    typed = 0
    for index in range(flows):
        name = f"flow-{index:04d}"
        folder = root / f"team{index % projects}" / name.replace("-", "_")
        folder.mkdir(parents=True)
        if index % 4 == 3:
            typed += 1
            (folder / "models.py").write_text(MODELS.format(name=name, index=index + 1))
            (folder / "flow.py").write_text(MODEL_FLOW.format(name=name))
        else:
            (folder / "flow.py").write_text(PLAIN_FLOW.format(name=name, index=index + 1))
    return typed


def timed(function: Any, repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds (the CPU time is what the wall time would be on an idle
    machine: discovery runs on one thread; this machine is shared, its load is recorded)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def discovery_row(work: Path, flows: int, repeat: int) -> dict[str, Any]:
    root = work / "discovery"
    typed = generate(root, flows)
    files = [p for project in root.iterdir() for f in project.iterdir() for p in python_files(f)]

    def parse_all() -> int:
        return sum(len(ast.parse(p.read_bytes()).body) for p in files)

    baseline, baseline_cpu, _ = timed(parse_all, repeat)
    seconds, cpu, folders = timed(lambda: discover(root), repeat)
    found = [flow for folder in folders for flow in folder.flows]
    pending = [flow for flow in found if flow.parameter_schema is None]
    return {
        "flows": len(found),
        "model_typed": typed,
        "files": len(files),
        "pending_schemas": len(pending),
        "discover_seconds_median": round(seconds, 3),
        "parse_only_seconds_median": round(baseline, 3),
        "ratio_to_parse_only": round(seconds / baseline, 2),
        "discover_cpu_seconds_median": round(cpu, 3),
        "parse_only_cpu_seconds_median": round(baseline_cpu, 3),
        "cpu_ratio_to_parse_only": round(cpu / baseline_cpu, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "prefect_imported": "prefect" in sys.modules,
        "pydantic_imported": "pydantic" in sys.modules,
    }


TRACED = (
    "import sys\nfrom prefect_flow_deploy.cli import main\n"
    "sys.argv = ['prefect-flow-deploy', *sys.argv[1:]]\n"
    "try:\n    main()\nfinally:\n"
    "    print('PREFECT-IMPORTED' if 'prefect' in sys.modules else 'PREFECT-NOT-IMPORTED',"
    " file=sys.stderr)\n"
)


def rerun_rows(work: Path, count: int, repeat: int) -> list[dict[str, Any]]:
    """Each kind deployed alone on its own private registry and server (the other's
    deployments would be orphans to report); runs alternate between the kinds, so that the
    load of a shared machine falls on both alike."""
    kinds = ("plain", "model-typed")
    stacks = {
        kind: BenchStack(
            work / f"stack-{kind}",
            None,
            free_port(4310, 4399),  # two servers, beside other benchmarks' :4300
            server_env={
                "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
                "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
            },
        )
        for kind in kinds
    }
    commands: dict[str, list[str]] = {}
    runs: dict[str, list[Any]] = {kind: [] for kind in kinds}
    try:
        for kind, stack in stacks.items():
            stack.check_ports_free()
            stack.reset()
            stack.create_work_pool()
            base = upload_stand_in_base(stack)
            root = work / f"rerun-{kind}"
            write_rerun_repository(root, kind, count)
            seconds = seed(stack, root, base, work / "logs" / f"seed-{kind}")
            log(f"seeded {count} {kind} flows in {seconds:.0f} s")
            commands[kind] = [
                str(VENV_BIN / "python"), "-c", TRACED, "deploy",
                "--projects-root", str(root), "--registry", f"{stack.registry_host}/plan",
                "--base-image", base, "--work-pool", WORK_POOL,
            ]  # fmt: skip
        for attempt in range(repeat):
            for kind in kinds:
                logs = work / "logs" / f"{kind}-{attempt}"
                runs[kind].append(
                    run_measured(commands[kind], stacks[kind].client_env(), None, logs)
                )
    finally:
        for stack in stacks.values():
            stack.stop()
    return [
        {
            "kind": kind,
            "flows": count,
            "seconds_median": round(statistics.median(r.seconds for r in runs[kind]), 3),
            "seconds_all": [round(r.seconds, 3) for r in runs[kind]],
            "cpu_seconds_median": round(statistics.median(r.cpu_seconds for r in runs[kind]), 3),
            "no_op": all("deployment writes 0" in r.stderr for r in runs[kind]),
            "prefect_imported": any("PREFECT-IMPORTED" in r.stderr for r in runs[kind]),
            "errors": [r.stderr[-1500:] for r in runs[kind] if r.exit_code != 0],
        }
        for kind in kinds
    ]


def write_rerun_repository(root: Path, kind: str, count: int) -> None:
    for index in range(count):
        folder = root / "team" / f"{kind.replace('-', '_')}_{index:02d}"
        folder.mkdir(parents=True)
        name = f"{kind}-{index:02d}"
        if kind == "plain":
            (folder / "flow.py").write_text(PLAIN_FLOW.format(name=name, index=index + 1))
        else:
            (folder / "models.py").write_text(MODELS.format(name=name, index=index + 1))
            (folder / "flow.py").write_text(MODEL_FLOW.format(name=name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=600)
    parser.add_argument("--rerun", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = Path(tempfile.mkdtemp(prefix="pfd-flow-reading-"))
    try:
        discovery = discovery_row(work, args.flows, args.repeat)
        reruns = rerun_rows(work, args.rerun, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    d = discovery
    print(
        f"\ndiscovery of {d['flows']} flows ({d['model_typed']} model-typed, {d['files']} files): "
        f"{d['discover_seconds_median']:.3f} s wall, {d['discover_cpu_seconds_median']:.3f} s CPU, "
        f"median of {args.repeat}; parse-only baseline {d['parse_only_seconds_median']:.3f} s "
        f"wall, {d['parse_only_cpu_seconds_median']:.3f} s CPU; ratio "
        f"{d['ratio_to_parse_only']:.2f}x wall, {d['cpu_ratio_to_parse_only']:.2f}x CPU "
        f"(load average {d['load_average_1min']}); "
        f"schemas left to the image: {d['pending_schemas']}; prefect imported: "
        f"{d['prefect_imported']}, pydantic imported: {d['pydantic_imported']}"
    )
    by_kind = {r["kind"]: r for r in reruns}
    ratio = by_kind["model-typed"]["seconds_median"] / by_kind["plain"]["seconds_median"]
    for row in reruns:
        print(
            f"no-op re-run, {row['flows']} {row['kind']} flows: {row['seconds_median']:.3f} s "
            f"(runs {row['seconds_all']}); nothing written: {row['no_op']}; prefect imported: "
            f"{row['prefect_imported']}" + ("  FAILED" if row["errors"] else "")
        )
    print(f"model-typed / plain no-op re-run: {ratio:.2f}x")
    goals = [
        {
            "target": f"discovery of {d['flows']} flows under 2 s",
            "measured": f"{d['discover_seconds_median']:.3f} s wall, "
            f"{d['discover_cpu_seconds_median']:.3f} s CPU",
            "met": d["discover_seconds_median"] < 2 and d["flows"] == args.flows,
        },
        {
            "target": "no-op re-run of model-typed flows as fast as plain ones, no prefect import",
            "measured": f"{ratio:.2f}x, prefect imported: "
            f"{by_kind['model-typed']['prefect_imported']}",
            "met": ratio <= 1.10
            and not any(r["prefect_imported"] for r in reruns)
            and all(r["no_op"] for r in reruns),
        },
    ]
    for goal in goals:
        print(f"  [{'met   ' if goal['met'] else 'MISSED'}] {goal['target']}: {goal['measured']}")
    document = {
        "started": started,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_info(),
        "discovery": discovery,
        "no_op_reruns": reruns,
        "model_typed_over_plain": round(ratio, 3),
        "targets": goals,
    }
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{started}-flow-reading.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwritten {path.relative_to(REPO)}")
    return 1 if any(r["errors"] for r in reruns) else 0


if __name__ == "__main__":
    sys.exit(main())
