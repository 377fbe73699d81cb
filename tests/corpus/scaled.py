"""A repository shaped like real flow code, at any size: the folders of `tests/corpus/projects`
(flows typed with their folder's pydantic models, sibling modules and packages, aliased
decorators, redefinitions, side effects at import), copied round-robin, each copy with
`extra_flows` more flow files of three flows each in the same shapes (model-typed parameters from a sibling
`models.py`, a `prefect.yaml` entry with a schedule and job variables on every third folder).

    write(root, folders=125, extra_flows=1)   # 625 flows in 125 folders

Deterministic: the same arguments give byte-identical files. Used by bench/plan_corpus.py and
by the count tests (tests/unit/run/test_engine_costs.py), so a figure and a count speak of one shape.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "projects"

EXTRA_FLOW = '''"""Flows of {key}, typed with the folder's models."""

from __future__ import annotations

from prefect import flow, task

from models_{n} import Window, Region


@task(retries=2)
def fetch(window: Window) -> list[dict]:
    return [{{"day": window.start}}]


@flow(name="{name}-load", log_prints=True)
def load(window: Window, region: Region = Region.EU, limit: int = {n}) -> int:
    """Load one window.

    Args:
        window: the days to load
        region: where
        limit: at most this many rows
    """
    return len(fetch(window))


@flow(name="{name}-check")
def check(day: str = "today", strict: bool = False, tags: list[str] | None = None) -> None:
    """Check one day."""


@flow(name="{name}-report", description="Report on {key}.")
def report(windows: list[Window], fmt: str = "csv") -> str:
    return fmt
'''

MODELS = """from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Optional

from pydantic import BaseModel, Field


class Region(str, Enum):
    EU = "eu"
    US = "us"


class Window(BaseModel):
    start: date = Field(description="first day")
    end: Optional[date] = Field(default=None, description="last day, inclusive")
    label: str = "{n}"
"""

PREFECT_YAML = """deployments:
  - name: {folder}-nightly
    entrypoint: extra_0.py:check
    schedules:
      - cron: "0 {hour} * * *"
        timezone: Europe/Berlin
    parameters:
      strict: true
    work_pool:
      job_variables:
        env:
          TEAM: data-{hour_parity}
"""


# ops/ holds flows whose name only the built image can tell (and factory-made flows named
# like sales/orders'): a plan alone cannot name them, so the scaled repository leaves it out.
NOT_SCALED = {"ops"}


def corpus_folders() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*") if p.is_dir() and p.parent.name not in NOT_SCALED)


def write(root: Path, folders: int = 125, extra_flows: int = 1, schedules: bool = True) -> Path:
    """Write the repository's projects root under `root`; returns it."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    sources = corpus_folders()
    for index in range(folders):
        # One copy of each corpus folder per project: a flow name is unique in its project.
        project = f"team{index // len(sources):02d}"
        name = f"{sources[index % len(sources)].name}_{index:04d}"
        folder = root / project / name
        shutil.copytree(sources[index % len(sources)], folder)
        for n in range(extra_flows):
            key = f"{project}/{name}"
            flow_name = f"{project}-{name}-{n}".replace("_", "-")
            (folder / f"extra_{n}.py").write_text(EXTRA_FLOW.format(key=key, name=flow_name, n=n))
            (folder / f"models_{n}.py").write_text(MODELS.format(n=n))
        if schedules and extra_flows and index % 3 == 0 and not (folder / "prefect.yaml").exists():
            (folder / "prefect.yaml").write_text(
                PREFECT_YAML.format(
                    folder=name.replace("_", "-"), hour=index % 24, hour_parity=index % 2
                )
            )
    return root
