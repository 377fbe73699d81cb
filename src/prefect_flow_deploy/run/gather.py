"""Gather: everything a plan is decided from, read from the world as fast as it allows.

The server's state while the repository is read; each folder's build recipe and content
tag; the base images' digests; whether each image is in the registry (many questions at
once); the work pools; the deployments of a wanted name the tool did not make (taken over);
and the folders this run did not read that still hold a flow of a wanted name. The answer
is `Inputs`, plain immutable data for `decide.plan`. No decision is made here: where gather
needs one to know what to ask (which folders become images, which names are wanted), it
calls the same pure function decide uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from prefect_flow_deploy.clients import build_seconds
from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.prefect_api import (
    ApiSettings,
    check_workspace,
    read_server_version,
)
from prefect_flow_deploy.clients.prefect_state import fetch_state, fetch_unmanaged
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels, parse_reference
from prefect_flow_deploy.clients.work_pools import read_pools
from prefect_flow_deploy.core.errors import (
    ConfigurationError,
    PrefectUnavailableError,
    RegistryError,
)
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import BuildRecipe, FlowFolder, ImageAnswer, Progress
from prefect_flow_deploy.core.server_state import Pool, ServerState
from prefect_flow_deploy.deployment.commit_order import Relation, recorded_commit
from prefect_flow_deploy.docker.base_images import BaseDigests
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.discovery import discover, read_folder
from prefect_flow_deploy.reading.recipes import (
    file_warnings,
    image_answer,
    recipe_for,
)
from prefect_flow_deploy.rules.collisions import image_collisions
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.rules.pools import PoolTypeError
from prefect_flow_deploy.rules.previews import PullState, to_ask
from prefect_flow_deploy.rules.server_version import unsupported_server
from prefect_flow_deploy.rules.specs import (
    previous_images,
    previous_inputs,
    wanted_names,
)
from prefect_flow_deploy.settings.cascade import config_line
from prefect_flow_deploy.settings.options import Options

PLAN_THREADS = 32
CATALOG_THRESHOLD = 20  # folders; below it, one HEAD each is as cheap as the catalog


# The pull requests' states, asked of GitHub (the action's; None: nobody to ask).
PullStates = Callable[[list[int]], Mapping[int, PullState]]


def gather(
    options: Options,
    registry: RegistryClient,
    api: ApiSettings,
    history: CheckoutHistory,
    on_progress: Callable[[Progress], None],
    pull_states: PullStates | None = None,
) -> Inputs:
    with file_reads.one_read_each():  # the readers and the content hash share each file's bytes
        inputs = _gather(options, registry, api, history, on_progress)
    if not options.previews or pull_states is None:
        return inputs
    asked = to_ask(inputs.snapshot, options)  # the sweep: a bounded number of questions
    return replace(inputs, pull_states=dict(pull_states(asked)) if asked else {})


def _gather(
    options: Options,
    registry: RegistryClient,
    api: ApiSettings,
    history: CheckoutHistory,
    on_progress: Callable[[Progress], None],
) -> Inputs:
    clock = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as background:
        # The server answers while the repository is read.
        state_future = background.submit(_timed, _checked_state, api)
        folders = discover(options.projects_root, options.flows, options.repository)
        for folder in folders:
            on_progress(Progress(folder.key, "reading"))
        log.debug(f"read {len(folders)} flow folders in {time.monotonic() - clock:.2f}s")
        state, seconds = state_future.result()
    log.debug(f"read {len(state.deployments)} managed deployments in {seconds:.2f}s")
    collisions = image_collisions(folders, options)
    buildable = [f for f in folders if f.flows and not f.failed and f.key not in collisions]
    recipes, recipe_errors = _recipes(buildable, options)
    by_key = {f.key: f for f in buildable}
    warnings = {k: file_warnings(by_key[k], r) for k, r in recipes.items()}
    bases = BaseDigests(registry)
    bases.resolve_all(
        {ref for r in recipes.values() for ref, _ in r.bases}, options.max_parallel * 2
    )
    for _reference, message in bases.warnings.items():
        log.warning(message, title="Base image")
    answers = {
        key: image_answer(by_key[key], r, bases.digests, bases.problems, options)
        for key, r in recipes.items()
    }
    log.debug(f"hashed {len(answers)} build contexts; at {time.monotonic() - clock:.2f}s")
    mark = time.monotonic()
    answers = _ask_registry(answers, state, options, registry)
    log.debug(f"asked the registry about {len(answers)} images in {time.monotonic() - mark:.2f}s")
    imaged = [by_key[k] for k, a in answers.items() if a.tag and a.registry_error is None]
    pools = _read_pools(imaged, options, api)
    wanted = sorted({n for folder in imaged for n in wanted_names(folder, options.preview)})
    unmanaged = fetch_unmanaged(api, [n for n in wanted if n not in state.deployments], state)
    snapshot = replace(
        state, deployments={**state.deployments, **{e.full_name: e for e in unmanaged}}
    )
    others = _other_folders(snapshot, set(wanted), {f.key for f in folders}, options)
    return Inputs(
        tuple(folders), recipes, recipe_errors, warnings, answers, snapshot, pools, others,
        api.shown,
        api.is_cloud, history.commit, _relations(snapshot, history),
        parameters_at=config_line(options.source("parameters"), options.projects_root),
        now=int(time.time()),
    )  # fmt: skip


def _recipes(
    folders: list[FlowFolder], options: Options
) -> tuple[dict[str, BuildRecipe], dict[str, str]]:
    """Each folder's build recipe (reading and hashing its files), or why it cannot be read.
    Reading and hashing files is CPU work on files the checkout left in the page cache:
    threads would only contend for the GIL (measured 3x slower with 8)."""
    recipes: dict[str, BuildRecipe] = {}
    errors: dict[str, str] = {}
    for folder in folders:
        try:
            recipes[folder.key] = recipe_for(folder, options)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors[folder.key] = str(exc)
    return recipes, errors


def _ask_registry(
    answers: dict[str, ImageAnswer],
    state: ServerState,
    options: Options,
    registry: RegistryClient,
) -> dict[str, ImageAnswer]:
    """Which images exist, and for those to build what the deployed one was made of: waiting
    on one HEAD each, so many at once (not bounded by max-parallel, which bounds builds and
    pushes). A registry that answers none of them is unusable: one clear error."""
    todo = {k: a for k, a in answers.items() if a.tag}
    previous = previous_images(state, options)
    known = (
        registry.repositories(options.registry)
        if len(todo) > CATALOG_THRESHOLD and options.registry
        else None
    )

    def ask(item: tuple[str, ImageAnswer]) -> tuple[str, ImageAnswer, RegistryError | None]:
        key, answer = item
        try:
            digest = _existing_digest(f"{answer.repository}:{answer.tag}", options, registry, known)
            old, before, seconds = previous.get(key), None, None
            # The deployed image's inputs label says what changed (same repository only),
            # its build-seconds label what the rebuild may cost (the matrix's shards).
            if (
                not digest
                and not options.force
                and old
                and "/" in old
                and old.startswith(answer.repository + ":")
            ):
                labels = image_labels(registry, old)
                before, seconds = previous_inputs(labels), build_seconds.read(labels)
            found = replace(
                answer, digest=digest, previous_inputs=before, previous_build_seconds=seconds
            )
            return key, found, None
        except RegistryError as exc:
            return key, replace(answer, registry_error=str(exc)), exc

    with ThreadPoolExecutor(max_workers=PLAN_THREADS) as pool:
        asked = list(pool.map(ask, todo.items()))
    errors = [error for _, _, error in asked if error is not None]
    if asked and len(errors) == len(asked):
        raise errors[0]  # the registry itself is unusable: one clear message
    return {**answers, **{key: answer for key, answer, _ in asked}}


def _existing_digest(
    reference: str, options: Options, registry: RegistryClient, known: set[str] | None = None
) -> str | None:
    """The image's digest if it is already there: in the registry, or locally without one.
    `known`: the registry's repositories, when its catalog told (a repository that does not
    exist holds no tag: no need to ask)."""
    if options.registry:
        if known is not None and parse_reference(reference).repository not in known:
            return None
        return registry.manifest_digest(reference)
    from prefect_flow_deploy.docker.engine_session import (
        local_image_id,  # the Docker SDK: only without a registry
    )

    return local_image_id(reference)


def _read_pools(folders: list[FlowFolder], options: Options, api: ApiSettings) -> dict[str, Pool]:
    """The work pools the deployments name, as the server holds them (or would create
    them): their type and job template decide the job variables."""
    names = {options.work_pool} | {
        c.work_pool for f in folders for c in f.deployment_configs if c.work_pool
    }
    if options.preview is not None and options.preview_work_pool:
        names.add(options.preview_work_pool)
    try:
        return read_pools(api, names, options.work_pool_type)
    except PoolTypeError as exc:
        raise ConfigurationError(str(exc)) from exc


def _other_folders(
    snapshot: ServerState, wanted: set[str], read: set[str], options: Options
) -> dict[str, frozenset[str]]:
    """Folders this run did not read that hold a deployment of a wanted name: the flow
    names each still has (decide.other_folder tells a moved flow from a hijack)."""
    others: dict[str, frozenset[str]] = {}
    for name in sorted(wanted):
        existing = snapshot.deployments.get(name)
        key = existing.folder_key() if existing else None
        if not key or key in read or key in others:
            continue
        path = options.projects_root / key
        if path.is_dir():
            project = key.partition("/")[0]
            others[key] = frozenset(f.name for f in read_folder(project, path).flows)
    return others


def _relations(snapshot: ServerState, history: CheckoutHistory) -> dict[str, Relation | None]:
    """How each commit the server's deployments record relates to the checkout's (deploy
    order): one question per distinct commit, usually a handful."""
    if history.commit is None:
        return {}
    recorded = {c.sha for e in snapshot.deployments.values() if (c := recorded_commit(e.tags))}
    return {sha: history.relation(sha) for sha in sorted(recorded - {history.commit.sha})}


def _checked_state(api: ApiSettings) -> ServerState:
    """On Prefect Cloud, the key's workspace first (one clear error); a self-hosted server
    must be one we can write to; then the state."""
    check_workspace(api)
    found = None if api.is_cloud else read_server_version(api)
    refusal = unsupported_server(found, api.shown) if found else None
    if refusal:
        raise PrefectUnavailableError(refusal)
    return replace(fetch_state(api), server_version=found)


def _timed(
    function: Callable[[ApiSettings], ServerState], api: ApiSettings
) -> tuple[ServerState, float]:
    started = time.monotonic()
    return function(api), time.monotonic() - started
