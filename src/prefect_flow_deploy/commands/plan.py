"""`plan` (and the action's dry run): gather → decide, the plan's problems reported, the
images keep-images would delete once it is applied, and the plan written to a file for
review when asked. Changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import Plan, Progress
from prefect_flow_deploy.run.engine import Engine, report_problems
from prefect_flow_deploy.run.gather import PullStates
from prefect_flow_deploy.run.plan_file import dump, hash_of
from prefect_flow_deploy.settings.options import Options


def plan(
    options: Options,
    out: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    pull_states: PullStates | None = None,
) -> Plan:
    """The plan, its problems reported (annotations), with keep-images' deletions; written
    to `out` too when given (`deploy --plan FILE` applies exactly it)."""
    engine = Engine(options, on_progress, pull_states)
    made = engine.plan()
    report_problems(made)
    made = engine.preview_retention(made)
    if out is not None:
        write(made, options, out)
    return made


def write(plan: Plan, options: Options, out: Path) -> None:
    out.write_text(dump(plan, options), encoding="utf-8")
    log.info(f"wrote the plan to {out}: `prefect-flow-deploy deploy --plan {out}` applies it")
    log.info(f"plan sha256:{hash_of(plan, options)} (the plan comment shows the same)")
