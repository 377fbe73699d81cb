"""One run, three moves: gather (I/O) → decide (pure) → execute (I/O). Each is its own
module; this one only holds what they share (the registry logins, the Prefect API) and puts
them in order. Reports read the Plan and the RunResult, never this."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace

from . import decide, http_retry, leftovers
from .checkout_history import CheckoutHistory
from .discovery import report_folder_problems
from .docker_auth import load_logins
from .errors import PlanMovedError
from .gather import PullStates, gather
from .keep_images import preview_keep_images
from .logger import log
from .model import Plan, Progress
from .options import Options
from .plan_file import PlanFile, applicable, what_moved
from .prefect_api import ApiSettings, resolve
from .registry import RegistryClient
from .results import RunResult


class Engine:
    def __init__(
        self,
        options: Options,
        on_progress: Callable[[Progress], None] | None = None,
        pull_states: PullStates | None = None,
    ) -> None:
        self.options = options
        # Asks GitHub whether pull requests with previews are still open (the action's).
        self.pull_states = pull_states
        http_retry.start_deadline(options.timeout_minutes)
        # Each folder's state as it changes, for a live view (report side, not here).
        self.on_progress = on_progress or (lambda _event: None)
        self.logins = load_logins(options.credentials(), os.environ)
        if self.logins.source:
            log.debug(f"registry logins: the run's own, and those of {self.logins.source}")
        self.registry = RegistryClient(self.logins)

    @functools.cached_property
    def api(self) -> ApiSettings:
        return resolve(self.options.prefect_api_url, self.options.prefect_api_key)

    @functools.cached_property
    def history(self) -> CheckoutHistory:
        """The checkout's commit and history (deploy order, commit_order.py)."""
        return CheckoutHistory(self.options.projects_root)

    def plan(self) -> Plan:
        inputs = gather(
            self.options, self.registry, self.api, self.history, self.on_progress,
            self.pull_states,
        )  # fmt: skip
        plan = decide.plan(inputs, self.options)
        for deployment in plan.deployments:
            if deployment.action == "skipped":
                log.annotate(
                    "notice", f"{deployment.full_name}: {deployment.error}", title="Deploy order"
                )
        return plan

    def execute(self, plan: Plan) -> RunResult:
        from .execute import Executor  # the Docker SDK: only when there is something to run

        return Executor(
            plan, self.options, self.logins, self.registry, self.api, self.history,
            self.on_progress,
        ).run()  # fmt: skip

    def deploy(self) -> RunResult:
        swept = leftovers.sweep()  # what a killed run left (its login, its containers)
        if swept:
            log.info(swept)
        plan = self.plan()
        report_problems(plan)
        return self.execute(plan)

    def apply(self, saved: PlanFile) -> RunResult:
        """deploy --plan: exactly the saved plan, once the repository, the registry and the
        server are found as it saw them (read again now); else PlanMovedError."""
        fresh = self.plan()
        moved = what_moved(saved, fresh, self.options)
        if moved:
            raise PlanMovedError(
                "the repository, the registry or the Prefect server moved since the plan was "
                "made, so it is not applied:\n"
                + "\n".join(f"- {line}" for line in moved)
                + "\nMake the plan again (`prefect-flow-deploy plan --out FILE`), review it, "
                "and deploy that."
            )
        plan = applicable(saved, fresh)
        report_problems(plan)
        return self.execute(plan)

    def preview_retention(self, plan: Plan) -> Plan:
        """plan / dry run: the plan with what keep-images would delete once it is applied."""
        deletions = preview_keep_images(plan, self.options, self.registry, self.api)
        return replace(plan, image_deletions=deletions)


def report_problems(plan: Plan) -> None:
    report_folder_problems(plan.folders)
