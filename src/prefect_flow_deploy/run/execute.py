"""Execute a Plan: build, check and push each folder's image, register its deployments as
soon as it is ready, prune, trim old images (keep-images); return a RunResult.

The plan is never changed: what the run finds out (an image's digest, code directory and
schemas; a failure) goes into its own outcomes, and a deployment is completed for writing
with `dataclasses.replace` and compared again with the pure `deployments.diff`. This is the
only stage with threads, retries, deadlines and signals (cancellation.py)."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.clients.http_retry import DeadlineReached
from prefect_flow_deploy.clients.interrupted_writes import what_landed
from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.background import in_own_thread
from prefect_flow_deploy.core.errors import DEADLINE, FolderError
from prefect_flow_deploy.core.exit_status import explain
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import (
    DeploymentPlan,
    ImagePlan,
    Plan,
    Progress,
)
from prefect_flow_deploy.core.results import (
    Counters,
    ImageOutcome,
    RunResult,
    WriteOutcome,
    outcome_rows,
    write_key,
)
from prefect_flow_deploy.deployment.commit_order import Superseded
from prefect_flow_deploy.docker import cancellation
from prefect_flow_deploy.rules.refusals import refusal
from prefect_flow_deploy.rules.spec_checks import SettingAt
from prefect_flow_deploy.run.completion import completed, parameters_refused
from prefect_flow_deploy.run.keep_images import keep_images
from prefect_flow_deploy.run.provenance import github_version_info
from prefect_flow_deploy.settings.cascade import config_line
from prefect_flow_deploy.settings.options import Options

if TYPE_CHECKING:
    from prefect_flow_deploy.clients.registration import Registrar
    from prefect_flow_deploy.run.image_work import ImageWork

OnProgress = Callable[[Progress], None]
# Makes the registrar for a run (the executor, the version_info to send or None).
RegistrarFactory = Callable[["Executor", "dict[str, Any] | None"], "Registrar"]


class Executor:
    """One run of one plan. Its outcomes are written from the build threads (each folder's
    own entry) and read once every thread is done."""

    def __init__(
        self,
        plan: Plan,
        options: Options,
        logins: Logins,
        registry: RegistryClient,
        api: ApiSettings,
        history: CheckoutHistory | None = None,
        on_progress: OnProgress | None = None,
        work: ImageWork | None = None,
        registrar: RegistrarFactory | None = None,
    ) -> None:
        """`work` (the images' Docker work) and `registrar` (the server's writes) are made
        from the rest unless given: a test gives fakes."""
        self.plan, self.options, self.logins = plan, options, logins
        self.registry, self.api, self.history = registry, api, history
        self.on_progress = on_progress or (lambda _event: None)
        self.counters = work.counters if work is not None else Counters()
        self._given_work = work
        self._registrar = registrar or _registrar
        self.images: dict[str, ImageOutcome] = {}
        self.writes: dict[tuple[str, str], WriteOutcome] = {}
        self._lock = threading.Lock()
        # Writes submitted and not finished, and those finished: what a signal reports.
        self._writing: dict[tuple[str, str], DeploymentPlan] = {}
        self._written = 0
        cancellation.report_progress(
            lambda: (
                f"built {self.counters.built}, pushed {self.counters.pushed}, "
                f"deployment writes {self._written}"
                + what_landed(self.api, list(self._writing.values()))
            )
        )

    @functools.cached_property
    def work(self) -> ImageWork:
        """Made when an image is touched: its Docker SDK (0.2 s to import) is no no-op's."""
        if self._given_work is not None:
            return self._given_work
        from prefect_flow_deploy.run.image_work import ImageWork

        return ImageWork(
            self.plan, self.options, self.logins, self.registry, self.history,
            self.on_progress, self.counters,
        )  # fmt: skip

    @functools.cached_property
    def _parameters_at(self) -> SettingAt:
        """Where the `parameters:` option was set (a config file's line): looked up once."""
        return config_line(self.options.source("parameters"), self.options.projects_root)

    def run(self) -> RunResult:
        started = time.monotonic()
        plan = self.plan
        self._emit_planned()
        if has_work(plan):
            self._build_and_register()
        else:
            for image in plan.images:
                self.on_progress(Progress(image.folder.key, "done", "unchanged"))
        for image in plan.images:  # what was not touched stays as planned
            self.images.setdefault(image.folder.key, _as_planned(image))
        rows = outcome_rows(plan, self.images, self.writes, self.options.fail_fast)
        self.counters.deployment_writes = sum(1 for w in self.writes.values() if w.deployment_id)
        self.counters.deadline_skipped = sum(
            1 for r in rows if r.status == "skipped" and (r.error or "").startswith(DEADLINE)
        )
        for outcome in self.writes.values():
            if outcome.error is not None and not outcome.said:
                file, line = outcome.at
                log.error(
                    f"{outcome.deployment.full_name}: registration failed: {outcome.error}",
                    file=file,
                    line=line,
                    title="Registration failed",
                )
        result = RunResult(
            plan, dict(self.images), rows, self.counters, self.api.shown,
            time.monotonic() - started,
        )  # fmt: skip
        explanation = explain(result.tally, self.api.shown, self.options.timeout_minutes)
        if explanation is not None:
            log.error(explanation[1], title=explanation[0])
        if plan.retention is None:
            return result
        if result.failed:
            log.info("keep-images: nothing deleted, as some flows failed to deploy")
            return result
        written = {w.deployment.full_name for w in self.writes.values() if w.deployment_id}
        deletions = keep_images(
            plan.retention.after(written), self.options, self.registry, self.api
        )
        return replace(result, image_deletions=deletions, seconds=time.monotonic() - started)

    # -- progress ------------------------------------------------------------------------------
    def _emit_planned(self) -> None:
        """After planning: folders that failed to plan, and what waits for a build."""
        for folder in self.plan.folders:
            errors = [p.message for p in folder.problems if p.severity == "error"]
            if errors:
                self.on_progress(Progress(folder.key, "failed", errors[0].splitlines()[0]))
            elif not folder.flows:
                self.on_progress(Progress(folder.key, "done", "no flow"))
        for image in self.plan.images:
            if image.action == "build":
                self.on_progress(Progress(image.folder.key, "queued", image.reason))

    def _track_writes(self, key: str, writes: list[Future[str]]) -> None:
        """`registering` until every write of the folder is done; then done or failed."""
        if not writes:
            self.on_progress(Progress(key, "done", "unchanged"))
            return
        self.on_progress(Progress(key, "registering", f"{len(writes)} deployments"))
        left = [len(writes)]
        lock = threading.Lock()

        def finished(_future: Future[str]) -> None:
            with lock:
                left[0] -= 1
                if left[0]:
                    return
            errors = [f.exception() for f in writes if f.exception() is not None]
            if errors:
                self.on_progress(Progress(key, "failed", f"registration: {errors[0]}"))
            else:
                self.on_progress(Progress(key, "done", f"{len(writes)} deployments written"))

        for write in writes:
            write.add_done_callback(finished)

    # -- register ------------------------------------------------------------------------------
    def _should_write(self, deployment: DeploymentPlan) -> bool:
        if self.options.fail_fast and self._any_failed():
            return False
        if deployment.action == "remove":  # the plan decided it (--prune, previews.py)
            return True
        return deployment.action in ("create", "update") and not self._failed(deployment.folder_key)

    def _failed(self, key: str) -> bool:
        with self._lock:
            outcome = self.images.get(key)
        return outcome is not None and outcome.failed

    def _any_failed(self) -> bool:
        with self._lock:
            return any(o.failed for o in self.images.values())

    def _build_and_register(self) -> None:
        plan = self.plan
        deployments_of: dict[str, list[DeploymentPlan]] = defaultdict(list)
        for deployment in plan.deployments:
            if deployment.spec is not None:
                deployments_of[deployment.folder_key].append(deployment)
        provenance = github_version_info(os.environ, "")
        if provenance and not plan.version_info:
            log.debug(
                f"version_info (commit {provenance['commit_sha'][:12]} of "
                f"{provenance['repository']}) is not sent: {plan.version_info_reason}"
            )
            provenance = None
        futures: dict[tuple[str, str], tuple[DeploymentPlan, Future[str]]] = {}
        # Prefect's client takes a second to import: the images build meanwhile.
        opening = self._open_registrar(provenance)
        try:

            def image_ready(key: str) -> None:
                if opening.exception() is not None:
                    return  # said below, once the images are done
                registrar = opening.result()
                writes = []
                outcome = self.images[key]
                for planned in deployments_of[key]:
                    if planned.action in ("failed", "skipped"):
                        continue
                    cannot = outcome.flow_errors.get(
                        planned.spec.entrypoint if planned.spec else ""
                    )
                    if cannot is not None:  # this flow alone: the folder's others go on
                        with self._lock:
                            self.writes[write_key(planned)] = WriteOutcome(
                                planned, error=cannot.message, said=True
                            )
                        continue
                    deployment = completed(planned, outcome, plan, self.options)
                    refused = parameters_refused(
                        planned, deployment, self.options, self._parameters_at
                    )
                    future = (
                        self._submit(registrar, deployment)
                        if refused is None and self._should_write(deployment)
                        else None
                    )
                    with self._lock:
                        self.writes[write_key(planned)] = refused or WriteOutcome(deployment)
                    if future is not None:
                        futures[write_key(planned)] = (deployment, future)
                        writes.append(future)
                self._track_writes(key, writes)

            # --fail-fast promises that nothing is written when a folder fails, so there the
            # writes wait for every image; otherwise each folder registers when it is ready.
            pipelined = not self.options.fail_fast
            ready = self._images(image_ready if pipelined else None)
            registrar = opening.result()  # the server could not be written to: raised here
            if not pipelined:
                for key in ready:
                    image_ready(key)
            from prefect_flow_deploy.clients.registration import Claimed  # loaded by now

            for deployment in plan.deployments:
                if deployment.action == "remove" and self._should_write(deployment):
                    futures[write_key(deployment)] = (
                        deployment,
                        self._submit(registrar, deployment),
                    )
            for name, (deployment, future) in futures.items():
                try:
                    self.writes[name] = WriteOutcome(deployment, str(future.result()))
                except Superseded as exc:  # a newer commit wrote it meanwhile
                    self.writes[name] = WriteOutcome(deployment, skipped=str(exc))
                    log.annotate("notice", f"{deployment.full_name}: {exc}", title="Deploy order")
                except Claimed as exc:  # another repository or tenant created it meanwhile
                    spec = deployment.spec
                    at = (spec.source_file, spec.source_line) if spec else (None, None)
                    self.writes[name] = WriteOutcome(deployment, error=str(exc), at=at)
                except DeadlineReached as exc:
                    self.writes[name] = WriteOutcome(deployment, skipped=exc.message)
                except Exception as exc:  # said at its prefect.yaml line, when it has one
                    self.counters.write_unavailable += http_retry.unavailable(exc)
                    message, file, line = refusal(exc, deployment.spec)
                    self.writes[name] = WriteOutcome(deployment, error=message, at=(file, line))
        finally:
            _close_when_open(opening)

    def _open_registrar(self, provenance: dict[str, Any] | None) -> Future[Registrar]:
        """The registrar, made and opened in a thread of its own (importing Prefect, opening
        its client, ensuring the work pools), while the caller starts the builds."""

        def opened() -> Registrar:
            return self._registrar(self, provenance).__enter__()

        return in_own_thread("pfd-registrar", opened)

    def _submit(self, registrar: Registrar, deployment: DeploymentPlan) -> Future[str]:
        """Hand a write to the registrar, known as under way until it is done."""
        key = write_key(deployment)
        with self._lock:
            self._writing[key] = deployment
        future = registrar.submit(deployment)

        def done(finished: Future[str]) -> None:
            with self._lock:
                self._writing.pop(key, None)
                self._written += not finished.cancelled() and finished.exception() is None

        future.add_done_callback(done)
        return future

    # -- images --------------------------------------------------------------------------------
    def _images(self, on_ready: Callable[[str], None] | None) -> list[str]:
        """Build, check and push what needs it; return the folders whose image is ready for
        registration (and hand each to `on_ready` as soon as it is)."""
        ready: list[str] = []

        def done(key: str, outcome: ImageOutcome) -> None:
            with self._lock:
                self.images[key] = outcome
            ready.append(key)
            if on_ready is not None:
                on_ready(key)

        work = [i for i in self.plan.images if i.action == "build" or i.check]
        # Nothing to build or check: ready as planned.
        as_planned = [i for i in self.plan.images if i.action == "exists" and not i.check]
        if not work:
            for image in as_planned:
                done(image.folder.key, _as_planned(image))
            return ready
        building = any(i.action == "build" for i in work)
        with (  # the builder answers (else a clear error) before anything is built
            self.work.site(building) as config_dir,
            ThreadPoolExecutor(max_workers=self.options.max_parallel) as pool,
        ):
            pending: dict[Future[ImageOutcome], ImagePlan] = {
                pool.submit(self.work.one, image, config_dir): image for image in work
            }
            # After the builds started: their registration may wait for Prefect's client.
            for image in as_planned:
                done(image.folder.key, _as_planned(image))
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    image = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        done(image.folder.key, future.result())
                        continue
                    self._image_failed(image, error)
                    if self.options.fail_fast:
                        for other_future, other in pending.items():
                            other_future.cancel()
                            with self._lock:
                                self.images.setdefault(
                                    other.folder.key,
                                    ImageOutcome(
                                        "skipped",
                                        error="skipped: --fail-fast after another failure",
                                    ),
                                )
                            self.on_progress(Progress(other.folder.key, "skipped", "--fail-fast"))
                        pending.clear()
        return ready

    def _image_failed(self, image: ImagePlan, error: BaseException) -> None:
        if isinstance(error, DeadlineReached):  # not started: skipped, not failed
            with self._lock:
                self.images[image.folder.key] = ImageOutcome("skipped", error=error.message)
            self.on_progress(Progress(image.folder.key, "skipped", "deadline"))
            return
        from prefect_flow_deploy.docker.push_pull import PushError  # the Docker SDK: loaded

        with self._lock:
            self.counters.push_refused += isinstance(error, PushError)
        message = (
            error.message if isinstance(error, FolderError) else f"{type(error).__name__}: {error}"
        )
        each = error.flow_errors if isinstance(error, FolderError) else {}
        with self._lock:
            self.images[image.folder.key] = ImageOutcome("failed", error=message, flow_errors=each)
        self.on_progress(Progress(image.folder.key, "failed", message.strip().splitlines()[0]))
        file = getattr(error, "file", None) or image.folder.dockerfile or image.folder.path
        log.error(
            f"{image.folder.key}: {message}",
            file=file,
            line=getattr(error, "line", None),
            title=f"{image.folder.key} failed",
        )


def _as_planned(image: ImagePlan) -> ImageOutcome:
    """An image the run did not touch: it exists as planned, or its folder failed to plan."""
    if image.action == "failed":
        return ImageOutcome("failed", error=image.reason)
    return ImageOutcome("exists", image.digest, image.code_dir)


def has_work(plan: Plan) -> bool:
    """Anything to build, check or write? A re-run with no change answers no."""
    return any(d.action in ("create", "update", "remove") for d in plan.deployments) or any(
        i.action == "build" or i.check for i in plan.images
    )


def _close_when_open(opening: Future[Registrar]) -> None:
    """Close the registrar once it is open (waiting for it, when the run ends first); one that
    failed to open has nothing to close, and its error was raised unless another was."""
    try:
        registrar = opening.result()
    except BaseException:
        return
    registrar.__exit__(None, None, None)


def _registrar(executor: Executor, provenance: dict[str, Any] | None) -> Registrar:
    """The server's writes for this plan (prefect's client: imported only now)."""
    from prefect_flow_deploy.clients.registration import Claim, Registrar, write_concurrency

    options = executor.options
    return Registrar(
        executor.api,
        executor.plan.pools_to_create,
        write_concurrency(executor.api.url, options.max_parallel),
        lambda pool: log.info(f"created work pool {pool.name!r} (type {pool.type})"),
        provenance,
        executor.history,
        Claim(options.repository, options.tenant),
        lambda level, message: log.annotate(level, message, title="Write lock"),
        options.force_order,
        log.info,
    )
