"""`deploy` (and the action's run): gather → decide → execute, or with a plan file, exactly
the reviewed plan (refused when the world moved since). The result is a RunResult for the
reporters (terminal, JSON, the action's outputs and summary)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from prefect_flow_deploy.core.model import Progress
from prefect_flow_deploy.core.results import RunResult
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.run.gather import PullStates
from prefect_flow_deploy.run.plan_file import load
from prefect_flow_deploy.settings.options import Options


def deploy(
    options: Options,
    plan_file: Path | None = None,
    live: Callable[[Progress], None] | None = None,
    pull_states: PullStates | None = None,
    on_start: Callable[[], None] | None = None,
) -> RunResult:
    """Deploy (or apply `plan_file`, from `plan --out`). `live`, a context manager that takes
    progress events, is open while the engine runs; `on_start` is called once the engine is
    set up, before anything is read (the action's GitHub deployment starts then)."""
    saved = load(plan_file) if plan_file is not None else None
    view = live if isinstance(live, AbstractContextManager) else contextlib.nullcontext()
    with view:
        engine = Engine(options, live, pull_states)
        if on_start is not None:
            on_start()
        return engine.apply(saved) if saved else engine.deploy()
