"""One run, three moves: gather (I/O) → decide (pure) → execute (I/O). Each is its own
module; this one only holds what they share (the registry logins, the Prefect API) and puts
them in order. Reports read the Plan and the RunResult, never this."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.docker_auth import load_logins
from prefect_flow_deploy.clients.prefect_api import ApiSettings, resolve
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.collector import collector_paused
from prefect_flow_deploy.core.errors import PlanMovedError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import Plan, Progress
from prefect_flow_deploy.core.results import RunResult
from prefect_flow_deploy.deployment.commit_order import commits_to_relate
from prefect_flow_deploy.deployment.ownership import identity_line
from prefect_flow_deploy.docker import leftovers
from prefect_flow_deploy.reading.discovery import report_folder_problems
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.gather import PullStates, gather
from prefect_flow_deploy.run.keep_images import keep_images
from prefect_flow_deploy.run.plan_file import AGAIN, PlanFile, refusals, what_moved
from prefect_flow_deploy.settings.options import Options


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
        log.info(identity_line(options.repository, options.source("repository"), options.tenant))
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
        with collector_paused():  # what a plan reads lives until it is made (collector.py)
            plan = self._decided()
        for deployment in plan.deployments:
            if deployment.action == "skipped":
                log.annotate(
                    "notice", f"{deployment.full_name}: {deployment.error}", title="Deploy order"
                )
        return plan

    def _decided(self) -> Plan:
        inputs = gather(
            self.options, self.registry, self.api, self.history, self.on_progress,
            self.pull_states,
        )  # fmt: skip
        plan = decide.plan(inputs, self.options)
        relate = (
            set()
            if self.options.force_order
            else commits_to_relate(
                plan.deployments,
                {name: e.tags for name, e in inputs.snapshot.deployments.items()},
                inputs.commit,
            )
        )
        if relate:  # the writes' order asks the history: decided again with its answers
            relations = {sha: self.history.relation(sha) for sha in sorted(relate)}
            plan = decide.plan(replace(inputs, relations=relations), self.options)
        return plan

    def execute(self, plan: Plan) -> RunResult:
        from prefect_flow_deploy.run.execute import (
            Executor,  # the Docker SDK: only when there is something to run
        )

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
        """deploy --plan: exactly the saved plan, or PlanMovedError. What runs is a plan made
        now from the repository, the registry and the server, and only when it is the saved
        one on every field that matters (plan_hash.py): nothing of the file itself (an
        entry, an id, a pool's template) reaches the execution."""
        refused = refusals(saved, self.options)
        if refused:
            raise PlanMovedError(
                "the plan file names what this run would never do, so it is not applied:\n"
                + "\n".join(f"- {line}" for line in refused)
                + f"\n{AGAIN}"
            )
        fresh = self.plan()
        moved = what_moved(saved, fresh, self.options)
        if moved:
            raise PlanMovedError(
                "the repository, the registry or the Prefect server moved since the plan was "
                "made, so it is not applied:\n"
                + "\n".join(f"- {line}" for line in moved)
                + f"\n{AGAIN}"
            )
        log.info(f"applying plan sha256:{saved.hash}: a plan made now from the world is the same")
        report_problems(fresh)
        return self.execute(fresh)

    def preview_retention(self, plan: Plan) -> Plan:
        """plan / dry run: the plan with what keep-images would delete once it is applied."""
        if plan.retention is None:
            return plan
        deletions = keep_images(plan.retention, self.options, self.registry, self.api, apply=False)
        return replace(plan, image_deletions=deletions)


def report_problems(plan: Plan) -> None:
    report_folder_problems(list(plan.folders))
    for problem in plan.problems:  # the plan's own (not one folder's)
        log.annotate(problem.severity, problem.message, problem.file, problem.line, problem.title)
