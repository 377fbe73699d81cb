"""The pipeline: discovery → plan → build → push → register. Each step is its own module;
this one only puts them in order, runs folders in parallel and collects the outcome."""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from . import builder, cancellation, http_retry, leftovers
from .checkout_history import CheckoutHistory
from .collisions import check_image_collisions, fail_name_collisions
from .commit_order import Superseded, order, recorded_commit
from .deployments import (
    ExistingDeployment,
    ScheduleError,
    ServerState,
    diff,
    fetch_state,
    fetch_unmanaged,
    in_tenant,
    ours,
)
from .discovery import UNREADABLE_PROJECT, discover, read_folder, report_folder_problems
from .docker_auth import load_logins
from .dockerfile import last_instruction_line
from .errors import ConfigurationError, FolderError, PrefectUnavailableError, RegistryError
from .exit_status import Tally, exit_code, explain
from .http_retry import DEADLINE, DeadlineReached
from .logger import log
from .model import (
    TENANT_TAG_PREFIX,
    DeploymentPlan,
    DeploymentSpec,
    FlowFolder,
    ImageDeletion,
    ImagePlan,
    Plan,
    Problem,
    Progress,
)
from .options import Options
from .ownership import foreign_owner, recorded_owner, takeover_message
from .planner import (
    FOLDER_LABEL,
    INPUTS_LABEL,
    BaseDigests,
    BuildRecipe,
    compact_inputs,
    decide,
    desired_deployments,
    plan_image,
    recipe_with_problems,
    variable_problem,
)
from .prefect_api import ApiSettings, check_workspace, read_server_version, resolve
from .provenance import github_version_info
from .refusals import refusal
from .registry import RegistryClient
from .requirements import requirement_line
from .server_version import triggers_unsupported, unsupported_server
from .spec_checks import check_specs
from .triggers import TriggerError
from .work_pools import Pool, PoolTypeError, invalid_variables, read_pools

PLAN_THREADS = 32
CATALOG_THRESHOLD = 20  # folders; below it, one HEAD each is as cheap as the catalog
Status = Literal["created", "updated", "unchanged", "removed", "orphaned", "failed", "skipped"]


@dataclass
class FlowResult:
    """One row of the outcome: a deployment and its image."""

    project: str
    folder: str
    flow: str
    deployment: str
    deployment_id: str | None
    image: str | None
    digest: str | None
    image_status: str  # exists / built / failed / skipped / build (planned)
    status: Status
    changed_fields: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Counters:
    built: int = 0
    pushed: int = 0
    deployment_writes: int = 0
    push_refused: int = 0  # for the exit status (exit_status.py)
    write_unavailable: int = 0
    deadline_skipped: int = 0


@dataclass
class RunResult:
    plan: Plan
    results: list[FlowResult]
    counters: Counters
    api_url: str | None
    seconds: float
    image_deletions: list[ImageDeletion] = field(default_factory=list)  # keep-images

    @property
    def failed(self) -> bool:
        return (
            any(r.status == "failed" for r in self.results)
            or any(p.severity == "error" for p in self.plan.problems)
            or any(f.failed for f in self.plan.folders)
            or self.counters.deadline_skipped > 0
        )

    @property
    def tally(self) -> Tally:
        c = self.counters
        return Tally(
            c.pushed, c.push_refused, c.deployment_writes, c.write_unavailable,
            c.deadline_skipped, self.failed,
        )  # fmt: skip

    @property
    def exit_code(self) -> int:
        return exit_code(self.tally)


class Engine:
    def __init__(
        self, options: Options, on_progress: Callable[[Progress], None] | None = None
    ) -> None:
        self.options = options
        http_retry.start_deadline(options.timeout_minutes)
        # Each folder's state as it changes, for a live view (report side, not here).
        self.on_progress = on_progress or (lambda _event: None)
        self.logins = load_logins(options.credentials(), os.environ)
        if self.logins.source:
            log.debug(f"registry logins: the run's own, and those of {self.logins.source}")
        self.registry = RegistryClient(self.logins)
        self.counters = Counters()
        cancellation.report_progress(
            lambda: (
                f"built {self.counters.built}, pushed {self.counters.pushed}, "
                f"deployment writes {self.counters.deployment_writes}"
            )
        )
        self.state = ServerState()
        self.recipes: dict[str, BuildRecipe] = {}
        self.folders_read: set[str] = set()
        self.pools: dict[str, Pool] = {}
        self.history: CheckoutHistory | None = None  # the checkout's commit (deploy order)

    # -- plan --------------------------------------------------------------------------------
    def plan(self) -> Plan:
        options = self.options
        clock = time.monotonic()
        with ThreadPoolExecutor(max_workers=1) as background:
            # The server answers while the repository is read.
            state = background.submit(_timed, _checked_state, self.api)
            self.history = CheckoutHistory(options.projects_root)
            folders = discover(options.projects_root, options.flows)
            self.folders_read = {f.key for f in folders}
            for folder in folders:
                self.on_progress(Progress(folder.key, "reading"))
            log.debug(f"read {len(folders)} flow folders in {time.monotonic() - clock:.2f}s")
            self.state, seconds = state.result()
        log.debug(f"read {len(self.state.deployments)} managed deployments in {seconds:.2f}s")
        check_image_collisions(folders, options)
        buildable = [f for f in folders if not f.failed and f.flows]
        # Reading and hashing files is CPU work on files the checkout left in the page
        # cache: threads would only contend for the GIL (measured 3x slower with 8).
        for folder in buildable:
            recipe = self._recipe(folder)
            if recipe is not None:
                self.recipes[folder.key] = recipe
        bases = BaseDigests(self.registry)
        bases.resolve_all(
            {ref for r in self.recipes.values() for ref, _ in r.bases}, options.max_parallel * 2
        )
        for _reference, message in bases.warnings.items():
            log.warning(message, title="Base image")

        code_dirs = {
            e.image: e.code_dir for e in self.state.deployments.values() if e.image and e.code_dir
        }
        images = [
            plan_image(folder, self.recipes[folder.key], bases, options, code_dirs)
            for folder in buildable
            if folder.key in self.recipes
        ]
        log.debug(f"hashed {len(images)} build contexts; at {time.monotonic() - clock:.2f}s")
        mark = time.monotonic()
        self._decide(images)
        log.debug(
            f"asked the registry about {len(images)} images in {time.monotonic() - mark:.2f}s"
        )
        self.pools = self._read_pools([i.folder for i in images if i.action != "failed"])
        specs = {
            image.folder.key: desired_deployments(image.folder, image, options, self.pools)
            for image in images
            if image.action != "failed"
        }
        for image in images:
            if image.action != "failed" and image.folder.failed:  # its pool cannot take it
                image.action, image.reason = "failed", _first_error(image.folder)
                specs.pop(image.folder.key, None)
        fail_name_collisions(images, specs)
        check_specs(images, specs, options)  # what the server would refuse
        deployments = _failed_flows(images, specs)
        self._take_over_unmanaged([s for group in specs.values() for s in group])
        self._reuse_image_schemas([s for group in specs.values() for s in group])
        for image in images:
            if image.action != "failed" and image.folder.key in specs:
                deployments += self._diff_folder(image, specs[image.folder.key])
        deployments += self._removals(folders, deployments)
        return Plan(folders, images, self._in_order(deployments))

    def _in_order(self, deployments: list[DeploymentPlan]) -> list[DeploymentPlan]:
        """Updates and removals the server's commit records forbid become skipped, each
        with a notice (commit_order.py)."""
        assert self.history is not None
        records = {n: recorded_commit(e.tags) for n, e in self.state.deployments.items()}
        relations = {
            c.sha: self.history.relation(c.sha)
            for d in deployments
            if d.action in ("update", "remove") and (c := records.get(d.full_name))
        }
        ordered = [
            order(d, records.get(d.full_name), self.history.commit, relations) for d in deployments
        ]
        for before, after in zip(deployments, ordered, strict=True):
            if after is not before:
                log.annotate("notice", f"{after.full_name}: {after.error}", title="Deploy order")
        return ordered

    def _read_pools(self, folders: list[FlowFolder]) -> dict[str, Pool]:
        """The work pools the deployments name, as the server holds them (or would create
        them): their type and job template decide the job variables."""
        names = {self.options.work_pool} | {
            c.work_pool for f in folders for c in f.deployment_configs if c.work_pool
        }
        try:
            return read_pools(self.api, names, self.options.work_pool_type)
        except PoolTypeError as exc:
            raise ConfigurationError(str(exc)) from exc

    def _reuse_image_schemas(self, specs: list[DeploymentSpec]) -> None:
        """A schema only the built image can compute (builder.image_schemas) was computed
        from this very content when the deployment holds this image's content tag: reuse it
        (a re-run with no change runs no container)."""
        for spec in specs:
            existing = self.state.deployments.get(spec.full_name)
            if spec.parameter_schema is not None or existing is None:
                continue
            held = existing.comparable
            if held.get("version") == spec.version and held.get("entrypoint") == spec.entrypoint:
                spec.parameter_schema = held.get("parameter_openapi_schema") or None

    def _decide(self, images: list[ImagePlan]) -> None:
        """Ask the registry which images exist: waiting on one HEAD each, so many at once
        (not bounded by max-parallel, which bounds builds and pushes)."""
        options = self.options
        todo = [i for i in images if i.action != "failed"]
        previous = self._previous_images()
        known = (
            self.registry.repositories(options.registry)
            if len(todo) > CATALOG_THRESHOLD and options.registry
            else None
        )
        registry_errors: list[RegistryError] = []

        def decide_one(image: ImagePlan) -> None:
            try:
                decide(image, options, self.registry, previous.get(image.folder.key), known)
            except RegistryError as exc:
                registry_errors.append(exc)
                image.folder.problems.append(
                    Problem("error", str(exc), image.folder.path, title="Registry")
                )
                image.action, image.reason = "failed", str(exc)

        with ThreadPoolExecutor(max_workers=PLAN_THREADS) as pool:
            list(pool.map(decide_one, todo))
        if todo and len(registry_errors) == len(todo):
            raise registry_errors[0]  # the registry itself is unusable: one clear message

    def _diff_folder(self, image: ImagePlan, specs: list[DeploymentSpec]) -> list[DeploymentPlan]:
        """The folder's deployments against the server; a schedule Prefect rejects fails
        the folder before anything is built."""
        failed: list[DeploymentPlan] = []
        for spec in list(specs):
            taken = (
                self._other_tenants(spec.full_name)
                or self._other_repository(spec.full_name)
                or self._other_folder(spec)
            )
            if taken:  # only this deployment: the folder's others still deploy
                image.folder.problems.append(
                    Problem(
                        "error",
                        taken,
                        spec.source_file,
                        spec.source_line,
                        "Name collision",
                        flow=spec.entrypoint,
                    )
                )
                failed.append(_failed_plan(spec, taken))
                specs.remove(spec)
        if not specs and failed:
            image.action, image.reason = "failed", failed[0].error or ""
            return failed
        plans = []
        for spec in specs:
            try:
                plans.append(diff(spec, self.state.deployments.get(spec.full_name)))
            except (ScheduleError, TriggerError) as exc:
                key = "schedules" if isinstance(exc, ScheduleError) else "triggers"
                line = spec.source_lines.get(key, spec.source_line)
                image.folder.problems.append(
                    Problem("error", str(exc), spec.source_file, line, f"prefect.yaml {key}")
                )
                image.action, image.reason = "failed", str(exc)
                return []
            refused = plans[-1].trigger_writes and triggers_unsupported(
                self.state.server_version, self.api.url
            )
            if refused:
                line = spec.source_lines.get("triggers", spec.source_line)
                image.folder.problems.append(
                    Problem("error", refused, spec.source_file, line, "prefect.yaml triggers")
                )
                image.action, image.reason = "failed", refused
                return []
            problem = self._refused_variables(plans[-1])
            if problem is not None:
                image.folder.problems.append(problem)
                image.action, image.reason = "failed", problem.message
                return []
        return failed + plans

    def _refused_variables(self, plan: DeploymentPlan) -> Problem | None:
        """Job variables about to be written that the server would refuse, judged now with
        its own rule: the folder fails before anything is built. (Unchanged ones were
        accepted already: a re-run with nothing to do does not import Prefect for this.)"""
        spec = plan.spec
        written = plan.action == "create" or {"job_variables", "work_pool_name"} & set(
            plan.changed_fields
        )
        if spec is None or not written or spec.work_pool not in self.pools:
            return None
        refused = invalid_variables(spec.job_variables, self.pools[spec.work_pool])
        if refused is None:
            return None
        variable, reason = refused
        return variable_problem(
            spec, variable, self.options,
            f"the work pool {spec.work_pool!r} refuses these job variables: {reason}",
        )  # fmt: skip

    def _take_over_unmanaged(self, specs: list[DeploymentSpec]) -> None:
        """A deployment of a wanted name that this tool did not make is updated in place
        (and from then on managed), not duplicated: the plan shows it as an update."""
        wanted = [s.full_name for s in specs if s.full_name not in self.state.deployments]
        for existing in fetch_unmanaged(self.api, wanted, self.state):
            self.state.deployments[existing.full_name] = existing

    def _other_folder(self, spec: DeploymentSpec) -> str | None:
        """The deployment belongs to another folder that this run did not read (`--flows`,
        a shard) and that still has a flow of that name: updating it would hijack that
        folder's deployment. (Folders read in this run were compared already; a folder that
        is gone, or no longer has the flow, means the flow moved: it is taken over.)"""
        existing = self.state.deployments.get(spec.full_name)
        other = existing.folder_key() if existing else None
        if not other or other == spec.folder_key or other in self.folders_read:
            return None
        path = self.options.projects_root / other
        if not path.is_dir():
            return None
        project = other.partition("/")[0]
        flow_name = spec.full_name.partition("/")[0]
        if not any(f.name == flow_name for f in read_folder(project, path).flows):
            return None
        return (
            f"the deployment {spec.full_name} belongs to {other}, which still has the flow "
            f"{flow_name!r}; deploying {spec.folder_key} would take it over. Give one of the "
            "flows another name= (or its prefect.yaml entry another name:)."
        )

    def _other_tenants(self, full_name: str) -> str | None:
        """Two tenants on one Prefect server would share deployment names: never overwrite
        another tenant's deployment. (One without a tenant is taken over: the path from a
        single deployment target to tenants.)"""
        existing = self.state.deployments.get(full_name)
        if existing is None or in_tenant(existing, self.options.tenant):
            return None
        theirs = next(
            (
                t.removeprefix(TENANT_TAG_PREFIX)
                for t in existing.tags
                if t.startswith(TENANT_TAG_PREFIX)
            ),
            None,
        )
        if theirs is None and self.options.tenant:
            return None
        ours = (
            f"tenant {self.options.tenant!r}" if self.options.tenant else "a run without a tenant"
        )
        return (
            f"the deployment {full_name} on this Prefect server belongs to tenant {theirs!r}, "
            f"and {ours} would overwrite it. Give each tenant its own Prefect workspace or "
            "server (prefect-api-url in its block of prefect-flow-deploy.yaml)"
            + ("." if self.options.tenant else f", or run with --tenant {theirs}.")
        )

    def _other_repository(self, full_name: str) -> str | None:
        """Two repositories on one server and tenant would share deployment names: never
        take over another repository's deployment (one recorded by none is taken over)."""
        existing = self.state.deployments.get(full_name)
        owner = foreign_owner(existing.tags, self.options.repository) if existing else None
        return takeover_message(full_name, owner, self.options.repository) if owner else None

    def _recipe(self, folder: FlowFolder) -> BuildRecipe | None:
        return recipe_with_problems(folder, self.options)

    def _ours(self, existing: ExistingDeployment) -> bool:
        return ours(existing, self.options.tenant, self.options.repository)

    @functools.cached_property
    def api(self) -> ApiSettings:
        return resolve(self.options.prefect_api_url, self.options.prefect_api_key)

    def _previous_images(self) -> dict[str, str]:
        previous: dict[str, str] = {}
        for existing in self.state.deployments.values():
            key = existing.folder_key()
            if key and existing.image and self._ours(existing):
                previous.setdefault(key, existing.image)
        return previous

    def _removals(
        self, folders: list[FlowFolder], desired: list[DeploymentPlan]
    ) -> list[DeploymentPlan]:
        """Managed deployments of this tenant whose folder or flow is gone. Folders that failed
        to read keep theirs: nothing deployed is lost because of a broken commit."""

        wanted = {d.full_name for d in desired}
        present = {f.key: f for f in folders}
        pattern = re.compile(self.options.flows) if self.options.flows else None
        removals = []
        for existing in self.state.deployments.values():
            key = existing.folder_key()
            if existing.full_name in wanted or not key or not self._ours(existing):
                continue  # another tenant's or repository's: never removed, not orphaned
            if pattern and not pattern.search(key):
                continue  # outside this run's scope (a shard, a dispatch pattern)
            folder = present.get(key)
            if folder is not None and (folder.failed or not self.recipes.get(key)):
                continue
            if f"{key.partition('/')[0]}/{UNREADABLE_PROJECT}" in present:
                continue  # its project could not be listed: its folders are unknown
            removals.append(
                DeploymentPlan(
                    None,
                    existing.full_name,
                    key,
                    "remove",
                    deployment_id=existing.id,
                    owner=recorded_owner(existing.tags),
                )
            )
        return removals

    # -- deploy -------------------------------------------------------------------------------
    def deploy(self) -> RunResult:
        started = time.monotonic()
        swept = leftovers.sweep()  # what a killed run left (its login, its containers)
        if swept:
            log.info(swept)
        plan = self.plan()
        report_problems(plan)
        self._emit_planned(plan)
        failures: dict[str, str] = {}
        written: dict[int, object] = {}
        if _has_work(plan):
            written = self._build_and_register(plan, failures)
        else:
            for image in plan.images:
                self.on_progress(Progress(image.folder.key, "done", "unchanged"))
        images = {i.folder.key: i for i in plan.images}
        results = [
            self._result(d, images.get(d.folder_key), failures, written) for d in plan.deployments
        ] + failed_folder_rows(plan)
        self.counters.deadline_skipped = sum(
            1 for r in results if r.status == "skipped" and (r.error or "").startswith(DEADLINE)
        )
        result = RunResult(
            plan, results, self.counters, self._api_url(), time.monotonic() - started
        )
        explanation = explain(result.tally, self._api_url(), self.options.timeout_minutes)
        if explanation is not None:
            log.error(explanation[1], title=explanation[0])
        if self.options.keep_images is not None and self.options.registry:
            if result.failed:
                log.info("keep-images: nothing deleted, as some flows failed to deploy")
            else:
                removed = [
                    d.full_name
                    for d in plan.deployments
                    if d.action == "remove"
                    and written.get(id(d)) is not None
                    and not isinstance(written.get(id(d)), BaseException)
                ]
                result.image_deletions = self._retain(plan, {}, removed=removed)
                result.seconds = time.monotonic() - started
        return result

    # -- progress ------------------------------------------------------------------------------
    def _emit_planned(self, plan: Plan) -> None:
        """After planning: folders that failed to plan, and what waits for a build."""
        for folder in plan.folders:
            errors = [p.message for p in folder.problems if p.severity == "error"]
            if errors:
                self.on_progress(Progress(folder.key, "failed", errors[0].splitlines()[0]))
            elif not folder.flows:
                self.on_progress(Progress(folder.key, "done", "no flow"))
        for image in plan.images:
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

    # -- keep-images ---------------------------------------------------------------------------
    def preview_retention(self, plan: Plan) -> None:
        """plan / dry run: what keep-images would delete once this plan is applied (each
        planned deployment holding its new image; a removal only with --prune)."""
        if self.options.keep_images is None or not self.options.registry:
            return
        planned: dict[str, str | None] = {}
        for deployment in plan.deployments:
            if deployment.spec is not None:
                planned[deployment.full_name] = deployment.spec.image
            elif deployment.action == "remove" and self.options.prune:
                planned[deployment.full_name] = None
        to_build = {i.repository: i.tag for i in plan.images if i.action == "build"}
        removed = [name for name, image in planned.items() if image is None]
        plan.image_deletions = self._retain(
            plan, planned, apply=False, to_build=to_build, removed=removed
        )

    def _retain(
        self,
        plan: Plan,
        planned: dict[str, str | None],
        apply: bool = True,
        to_build: dict[str, str] | None = None,
        removed: list[str] | None = None,
    ) -> list[ImageDeletion]:
        """Read every deployment on the server first: an image any of them uses is kept.
        `removed`: deployments this run removes (--prune), whose repositories are trimmed too."""
        from .prefect_api import read_all
        from .retention import Retention, references_after, repositories_of_removed

        server = {
            f"{d['flow_name']}/{d['name']}": (d.get("job_variables") or {}).get("image")
            for d in read_all(self.api)
        }
        retention = Retention(self.registry, self.options.registry_password)
        try:
            held = [e.image for n in removed or [] if (e := self.state.deployments.get(n))]
            deletions = retention.plan(
                {i.repository for i in plan.images}
                | repositories_of_removed(held, self.options.registry),
                references_after(server, planned),
                self.options.keep_images or 0,
                to_build,
            )
            if apply:
                deletions = retention.apply(deletions)
        finally:
            retention.close()
        for warning in retention.warnings:
            log.warning(warning, title="keep-images")
        return deletions

    def _build_and_register(self, plan: Plan, failures: dict[str, str]) -> dict[int, object]:
        from .registration import Registrar, write_concurrency  # imports prefect: only now

        deployments_of: dict[str, list[DeploymentPlan]] = defaultdict(list)
        for deployment in plan.deployments:
            if deployment.spec is not None:
                deployments_of[deployment.folder_key].append(deployment)
        used = {d.spec.work_pool for d in plan.deployments if d.spec}
        provenance = github_version_info(os.environ, "")
        if provenance and not self.api.is_cloud:
            log.debug(
                f"version_info (commit {provenance['commit_sha'][:12]} of "
                f"{provenance['repository']}) is not sent: a self-hosted "
                "Prefect server does not keep it (only Prefect Cloud does), and one before "
                "3.3.6 refuses it; the deployments' version is the image's content tag either way."
            )
            provenance = None
        with Registrar(
            self.api,
            [p for name, p in self.pools.items() if name in used and not p.exists],
            write_concurrency(self._api_url(), self.options.max_parallel),
            lambda pool: log.info(f"created work pool {pool.name!r} (type {pool.type})"),
            provenance,
            self.history,
        ) as registrar:

            def image_ready(image: ImagePlan) -> None:
                writes = []
                for deployment in deployments_of[image.folder.key]:
                    if deployment.action in ("failed", "skipped"):
                        continue
                    self._complete(deployment, image)
                    if self._should_write(deployment, failures):
                        writes.append(registrar.submit(deployment))
                self._track_writes(image.folder.key, writes)

            # --fail-fast promises that nothing is written when a folder fails, so there the
            # writes wait for every image; otherwise each folder registers when it is ready.
            pipelined = not self.options.fail_fast
            ready = self._images(plan, failures, image_ready if pipelined else None)
            if not pipelined:
                for image in ready:
                    image_ready(image)
            for deployment in plan.deployments:
                if deployment.action == "remove" and self._should_write(deployment, failures):
                    registrar.submit(deployment)
            return registrar.outcomes()

    def _images(
        self,
        plan: Plan,
        failures: dict[str, str],
        on_ready: Callable[[ImagePlan], None] | None,
    ) -> list[ImagePlan]:
        """Build, check and push what needs it; return the images ready for registration
        (and hand each to `on_ready` as soon as it is)."""
        ready: list[ImagePlan] = []

        def done(image: ImagePlan) -> None:
            ready.append(image)
            if on_ready is not None:
                on_ready(image)

        awaiting_schema = _pending_schema_folders(plan)
        work = [
            i
            for i in plan.images
            if i.action == "build"
            or (i.action == "exists" and (i.code_dir is None or i.folder.key in awaiting_schema))
        ]
        for image in plan.images:
            if image in work or image.action != "exists":
                continue
            done(image)  # nothing to build or check: its deployments can be written now
        if not work:
            return ready
        builder.docker_client()  # fail early and clearly when no engine is there
        if any(i.action == "build" for i in work):
            builder.buildkit_command()
        with (
            builder.docker_config(self.logins) as config_dir,
            ThreadPoolExecutor(max_workers=self.options.max_parallel) as pool,
        ):
            pending: dict[Future[None], ImagePlan] = {
                pool.submit(self._one_image, image, config_dir): image for image in work
            }
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    image = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        done(image)
                        continue
                    self._image_failed(image, error, failures)
                    if self.options.fail_fast:
                        for other_future, other in pending.items():
                            other_future.cancel()
                            failures.setdefault(
                                other.folder.key, "skipped: --fail-fast after another failure"
                            )
                            self.on_progress(Progress(other.folder.key, "skipped", "--fail-fast"))
                        pending.clear()
        return ready

    def _image_failed(
        self, image: ImagePlan, error: BaseException, failures: dict[str, str]
    ) -> None:
        if isinstance(error, DeadlineReached):
            failures[image.folder.key] = error.message
            self.on_progress(Progress(image.folder.key, "skipped", "deadline"))
            return
        self.counters.push_refused += isinstance(error, builder.PushError)
        message = (
            error.message if isinstance(error, FolderError) else f"{type(error).__name__}: {error}"
        )
        failures[image.folder.key] = message
        image.action = "failed"
        self.on_progress(Progress(image.folder.key, "failed", message.strip().splitlines()[0]))
        file = getattr(error, "file", None) or image.folder.dockerfile or image.folder.path
        log.error(
            f"{image.folder.key}: {message}",
            file=file,
            line=getattr(error, "line", None),
            title=f"{image.folder.key} failed",
        )

    def _one_image(self, image: ImagePlan, config_dir: str | None) -> None:
        folder, recipe = image.folder, self.recipes[image.folder.key]
        started = time.monotonic()
        phases: dict[str, float] = {}
        if image.action == "build":
            request = builder.BuildRequest(
                reference=image.reference,
                context=folder.path,
                dockerfile_text=recipe.dockerfile_text,
                dockerignore_text=recipe.dockerignore_text,
                build_args=recipe.build_args,
                labels={FOLDER_LABEL: folder.key, INPUTS_LABEL: compact_inputs(image.inputs)},
                cache_from=self._cache_sources(image),
                fresh=self.options.force,
                secrets=self.options.build_secrets,
            )
            http_retry.check_deadline(f"building {folder.key}")
            log.info(f"building {folder.key} ({image.reason})")
            self.on_progress(Progress(folder.key, "building"))
            if len(self.options.platform_list) > 1:
                self._multi_platform(image, recipe, request, config_dir, phases)
                return
            request.platform = next(iter(self.options.platform_list), None)
            output = builder.build(
                request,
                config_dir,
                lambda step: self.on_progress(Progress(folder.key, "building", step)),
            )
            phases["build"] = time.monotonic() - started
            self.counters.built += 1
            log.block(f"build {folder.key} → {image.reference}", output)
        else:
            self.on_progress(Progress(folder.key, "pulling", image.reference))
            builder.pull(image.reference, self.logins.get(_host(image.repository)))
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "checking"))
        self._check(image, recipe)
        phases["check"] = time.monotonic() - mark
        if self.options.registry and image.action == "build":
            http_retry.check_deadline(f"pushing {image.reference}")
            mark = time.monotonic()
            self.on_progress(Progress(folder.key, "pushing", image.reference))
            image.digest = builder.push(image.reference, self.logins.get(_host(image.repository)))
            phases["push"] = time.monotonic() - mark
            self.counters.pushed += 1
        elif not self.options.registry:
            image.digest = builder.local_image_id(image.reference)
        verb = (
            "built and pushed"
            if self.options.registry and image.action == "build"
            else ("built" if image.action == "build" else "checked")
        )
        detail = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
        log.info(f"{verb} {image.reference} ({time.monotonic() - started:.1f}s: {detail})")

    def _multi_platform(
        self,
        image: ImagePlan,
        recipe: BuildRecipe,
        request: builder.BuildRequest,
        config_dir: str | None,
        phases: dict[str, float],
    ) -> None:
        """One build per platform (the engine's own builder makes one platform at a time),
        each pushed under `<tag>-<os>-<arch>`, then one manifest list under the content tag.
        The image is checked on the engine's own platform (else the first, under emulation)."""
        started = time.monotonic()
        folder, login = image.folder, self.logins.get(_host(image.repository))
        platforms = self.options.platform_list
        references = {p: f"{image.reference}-{p.replace('/', '-')}" for p in platforms}
        for platform, reference in references.items():
            output = builder.build(
                replace(
                    request, reference=reference, platform=platform,
                    cache_from=[f"{c}-{platform.replace('/', '-')}" for c in request.cache_from],
                ),
                config_dir,
                lambda step: self.on_progress(Progress(folder.key, "building", step)),
            )  # fmt: skip
            log.block(f"build {folder.key} → {reference}", output)
        phases["build"] = time.monotonic() - started
        self.counters.built += 1
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "checking"))
        native = builder.native_platform()
        self._check(image, recipe, references.get(native, references[platforms[0]]))
        phases["check"] = time.monotonic() - mark
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "pushing", image.reference))
        pushed = [(p, builder.push(references[p], login)) for p in platforms]
        image.digest = self.registry.put_manifest_list(image.reference, pushed)
        phases["push"] = time.monotonic() - mark
        self.counters.pushed += 1
        detail = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
        log.info(
            f"built and pushed {image.reference} for {', '.join(platforms)} "
            f"({time.monotonic() - started:.1f}s: {detail})"
        )

    def _cache_sources(self, image: ImagePlan) -> list[str]:
        previous = self._previous_images().get(image.folder.key)
        return [previous] if previous and previous.startswith(image.repository + ":") else []

    def _check(self, image: ImagePlan, recipe: BuildRecipe, reference: str | None = None) -> None:
        folder = image.folder
        entry_files = {f.file: recipe.files[f.file] for f in folder.flows if f.file in recipe.files}
        missing = [f.file for f in folder.flows if f.file not in recipe.files]
        if missing:
            raise FolderError(
                f"{', '.join(missing)} is excluded from the build by .dockerignore, so the "
                "deployment could not find its flow. Remove the matching line from .dockerignore.",
                file=str(folder.path / ".dockerignore"),
            )
        modules = sorted({i.module for i in folder.imports} - {"prefect"})
        pending = [f.entrypoint for f in folder.flows if f.parameter_schema is None]
        result = builder.check_image(
            reference or image.reference, entry_files, recipe.expected_code_dir, modules, pending
        )
        if not result.prefect_version:
            raise FolderError(
                "the image has no `prefect` package, so the Docker worker cannot run the flow. "
                + (
                    "Base the Dockerfile on a prefecthq/prefect:3-… image or add `prefect>=3` to "
                    "requirements.txt and install it."
                    if folder.dockerfile
                    else "Use a base image with Prefect 3 (--base-image) or add `prefect>=3` to requirements.txt."
                ),
                file=str(folder.dockerfile or folder.requirements or folder.path),
            )
        _check_prefect_major(folder, result.prefect_version)
        if result.entrypoint_ignoring_command:
            raise _entrypoint_error(folder, result.entrypoint_ignoring_command)
        if not result.code_dir:
            raise FolderError(
                _missing_code_message(folder), file=str(folder.dockerfile or folder.path)
            )
        image.code_dir = result.code_dir
        self._warn_missing_modules(folder, result.missing_modules)
        self._compute_schemas(image, result.code_dir, result)

    def _compute_schemas(
        self, image: ImagePlan, code_dir: str, checked: builder.ImageCheck
    ) -> None:
        """Schemas the source alone cannot tell (a type from a library the engine does not
        have): Prefect computes them in the image (builder.image_schemas says why there)."""
        pending = [f.entrypoint for f in image.folder.flows if f.parameter_schema is None]
        if not pending:
            return
        answers = builder.image_schemas(image.reference, code_dir, pending, checked)
        for entrypoint, answer in answers.items():
            if "error" in answer:
                flow = next(f for f in image.folder.flows if f.entrypoint == entrypoint)
                raise FolderError(
                    f"Prefect cannot load the flow {entrypoint} in the built image, so no run "
                    f"of it would start: {answer['error']}",
                    file=str(image.folder.path / flow.file),
                    line=flow.line,
                )
            image.schemas[entrypoint] = answer["schema"]

    def _warn_missing_modules(self, folder: FlowFolder, missing: list[str]) -> None:
        """The most common run-time crash: a package imported but not in requirements.txt."""
        for module in missing:
            where = next(i for i in folder.imports if i.module == module)
            fix = (
                f"add it to {folder.key}/requirements.txt"
                if folder.dockerfile is None
                else f"install it in {folder.key}/Dockerfile"
            )
            fix += " (the pip name may differ)"
            local = self._outside_folder(folder, module)
            if local is not None:
                fix = (
                    f"`{local}` is in the repository but outside the flow folder, and the image "
                    f"holds only {folder.key}: move or copy it into the folder, or make it a "
                    "package and add it to requirements.txt"
                )
            log.warning(
                f"{folder.key}: {where.file} imports `{module}`, which the image does not have; "
                f"the flow will fail with ModuleNotFoundError: {fix}.",
                file=folder.path / where.file,
                line=where.line,
                title="Missing package",
            )

    def _outside_folder(self, folder: FlowFolder, module: str) -> str | None:
        """A shared module of the repository (beside the flow folders, in the project, at
        the root) that the code imports as if it were installed: a common monorepo habit."""
        root = self.options.projects_root
        for base in (folder.path.parent, root, root.parent):
            for candidate in (base / module, base / f"{module}.py"):
                if candidate.exists():
                    return candidate.relative_to(root.parent).as_posix()
        return None

    def _api_url(self) -> str | None:
        return self.api.url

    # -- register -----------------------------------------------------------------------------
    def _complete(self, deployment: DeploymentPlan, image: ImagePlan) -> None:
        """Now that the image is checked, the deployment knows where its code is: compare it
        with the server again (the code directory may differ from the plan's guess)."""
        assert deployment.spec is not None
        deployment.spec.code_dir = image.code_dir
        deployment.spec.image = image.reference
        if deployment.spec.parameter_schema is None:
            deployment.spec.parameter_schema = image.schemas.get(deployment.spec.entrypoint)
        refreshed = diff(deployment.spec, self.state.deployments.get(deployment.full_name))
        deployment.action, deployment.changed_fields = refreshed.action, refreshed.changed_fields
        deployment.changes, deployment.trigger_writes = refreshed.changes, refreshed.trigger_writes

    def _should_write(self, deployment: DeploymentPlan, failures: dict[str, str]) -> bool:
        if self.options.fail_fast and failures:
            return False
        if deployment.action == "remove":
            return self.options.prune
        return deployment.action in ("create", "update") and deployment.folder_key not in failures

    def _result(
        self,
        deployment: DeploymentPlan,
        image: ImagePlan | None,
        failures: dict[str, str],
        written: dict[int, object],
    ) -> FlowResult:
        project, _, folder = deployment.folder_key.partition("/")
        flow, _, name = deployment.full_name.partition("/")
        image_status = (
            {"build": "built", "exists": "exists", "failed": "failed"}.get(
                image.action, image.action
            )
            if image
            else "-"
        )
        result = FlowResult(
            project,
            folder,
            flow,
            name,
            deployment.deployment_id,
            image.reference if image else None,
            image.digest if image else None,
            image_status,
            "unchanged",
            deployment.changed_fields,
        )
        if deployment.action in ("failed", "skipped"):
            result.status, result.error = deployment.action, deployment.error
            return result
        if deployment.folder_key in failures and deployment.action != "remove":
            result.status = (
                "skipped"
                if failures[deployment.folder_key].startswith(("skipped", DEADLINE))
                else "failed"
            )
            result.error = failures[deployment.folder_key]
            return result
        outcome = written.get(id(deployment))
        if isinstance(outcome, Superseded):
            result.status, result.error = "skipped", str(outcome)
            log.annotate("notice", f"{deployment.full_name}: {outcome}", title="Deploy order")
        elif isinstance(outcome, DeadlineReached):
            result.status, result.error = "skipped", outcome.message
        elif isinstance(outcome, BaseException):
            self.counters.write_unavailable += http_retry.unavailable(outcome)
            message, file, line = refusal(outcome, deployment.spec)  # at its prefect.yaml line
            result.status, result.error = "failed", message
            log.error(
                f"{deployment.full_name}: registration failed: {message}",
                file=file,
                line=line,
                title="Registration failed",
            )
        elif outcome is not None:
            self.counters.deployment_writes += 1
            result.deployment_id = str(outcome)
            result.status = {"create": "created", "update": "updated", "remove": "removed"}[
                deployment.action
            ]  # type: ignore[assignment]
        elif deployment.action == "remove":  # its folder or flow is gone; kept without --prune
            result.status = "orphaned"
        elif self.options.fail_fast and failures:
            result.status = "skipped"
        return result


def _entrypoint_error(folder: FlowFolder, entrypoint: list[str]) -> FolderError:
    line = None
    if folder.dockerfile is not None:
        text = folder.dockerfile.read_text(errors="replace")
        line = last_instruction_line(text, "ENTRYPOINT")
    where = "its ENTRYPOINT" if line else "the ENTRYPOINT it inherits from its base image"
    return FolderError(
        f"the image runs {where}, {json.dumps(entrypoint)}, which does not run the command it "
        "is given: the Docker worker starts each flow run as the container's command "
        "(`prefect flow-run execute`), so no run of this deployment would start its flow. "
        "Remove the ENTRYPOINT (a CMD is fine: the worker replaces it), or end the "
        'entrypoint script with `exec "$@"`.',
        file=str(folder.dockerfile or folder.path),
        line=line,
    )


def _first_error(folder: FlowFolder) -> str:
    return next(p.message for p in folder.problems if p.severity == "error")


def _checked_state(api: ApiSettings) -> ServerState:
    """On Prefect Cloud, the key's workspace first (one clear error); a self-hosted server
    must be one we can write to; then the state."""
    check_workspace(api)
    found = None if api.is_cloud else read_server_version(api)
    refusal = unsupported_server(found, api.url) if found else None
    if refusal:
        raise PrefectUnavailableError(refusal)
    state = fetch_state(api)
    state.server_version = found
    return state


def _timed(
    function: Callable[[ApiSettings], ServerState], api: ApiSettings
) -> tuple[ServerState, float]:
    started = time.monotonic()
    return function(api), time.monotonic() - started


def _has_work(plan: Plan) -> bool:
    """Anything to build, check or write? A re-run with no change answers no."""
    return any(d.action not in ("unchanged", "failed", "skipped") for d in plan.deployments) or any(
        i.action == "build" or (i.action == "exists" and i.code_dir is None) for i in plan.images
    )


def _host(repository: str) -> str:
    from .naming import registry_host

    return registry_host(repository)


def _check_prefect_major(folder: FlowFolder, version: str | None) -> None:
    """Prefect 2 in the image (an old pin in requirements.txt) cannot run a Prefect 3 flow
    run: say so now, pointing at the pin."""
    major = (version or "").split(".")[0]
    if not major.isdigit() or int(major) >= 3:
        return
    file: Path | None = folder.dockerfile or folder.requirements or folder.path
    line = requirement_line(folder.requirements, "prefect") if folder.requirements else None
    if line is not None:
        file = folder.requirements
    raise FolderError(
        f"the image has Prefect {version}, and the deployment is run by a Prefect 3 worker, "
        "which cannot start it. Require `prefect>=3` (or remove the pin and use the base "
        "image's Prefect 3).",
        file=str(file),
        line=line,
    )


def _missing_code_message(folder: FlowFolder) -> str:
    dockerfile = folder.dockerfile
    hint = "add `COPY . /opt/prefect/flows/<folder>` and `WORKDIR /opt/prefect/flows/<folder>`"
    if dockerfile is not None:
        for number, line in enumerate(dockerfile.read_text(encoding="utf-8").splitlines(), start=1):
            words = line.strip().split()
            if words and words[0].upper() in ("COPY", "ADD") and "." in words[1:2]:
                hint = f"line {number} (`{line.strip()}`) does not put the flow files where they can be found; make it `COPY . /opt/prefect/flows/{folder.name}` and add `WORKDIR /opt/prefect/flows/{folder.name}`"
                break
    return (
        f"the image does not contain this folder's flow files ({', '.join(sorted({f.file for f in folder.flows}))}), "
        f"so the deployment would crash with FileNotFoundError: {hint}."
    )


def _failed_plan(spec: DeploymentSpec, error: str) -> DeploymentPlan:
    return DeploymentPlan(spec, spec.full_name, spec.folder_key, "failed", error=error)


def _failed_flows(
    images: list[ImagePlan], specs: dict[str, list[DeploymentSpec]]
) -> list[DeploymentPlan]:
    """Take out of `specs` the deployments of flows that fail on their own (a collision), as
    failed plans; a folder left with nothing to deploy is not built."""
    failed: list[DeploymentPlan] = []
    for image in images:
        group = specs.get(image.folder.key)
        if group is None:
            continue
        before = len(failed)
        for spec in list(group):
            error = image.folder.flow_error(spec.entrypoint)
            if error is not None:
                failed.append(_failed_plan(spec, error))
                group.remove(spec)
        if not group and len(failed) > before:
            image.action, image.reason = "failed", "every flow of the folder failed"
            specs.pop(image.folder.key)
    return failed


def _pending_schema_folders(plan: Plan) -> set[str]:
    """Folders with a deployment to write whose schema only the image can compute."""
    return {
        d.folder_key
        for d in plan.deployments
        if d.spec is not None
        and d.spec.parameter_schema is None
        and d.action in ("create", "update")
    }


def failed_folder_rows(plan: Plan) -> list[FlowResult]:
    """Folders that could not even be planned (syntax error, bad prefect.yaml, …): one row
    each, so that outputs and summaries show them."""
    planned = {d.folder_key for d in plan.deployments} | {
        i.folder.key for i in plan.images if i.action != "failed"
    }
    rows = []
    for folder in plan.folders:
        if folder.failed and folder.key not in planned:
            errors = "; ".join(p.message for p in folder.problems if p.severity == "error")
            rows.append(
                FlowResult(
                    folder.project,
                    folder.name,
                    "-",
                    folder.project,
                    None,
                    None,
                    None,
                    "failed",
                    "failed",
                    [],
                    errors,
                )
            )
    return rows


def report_problems(plan: Plan) -> None:
    report_folder_problems(plan.folders)
