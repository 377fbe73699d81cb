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

from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.prefect_api import (
    ApiSettings,
    check_workspace,
    read_server_version,
    read_variables,
)
from prefect_flow_deploy.clients.prefect_state import fetch_state, fetch_unmanaged
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.clients.work_pools import read_pools
from prefect_flow_deploy.core.errors import (
    ConfigurationError,
    PrefectUnavailableError,
)
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import FlowFolder, Progress
from prefect_flow_deploy.core.server_state import Pool, ServerState
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.discovery import discover, read_folder
from prefect_flow_deploy.reading.recipes import file_warnings
from prefect_flow_deploy.rules.collisions import image_collisions
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.rules.pools import PoolTypeError
from prefect_flow_deploy.rules.previews import PullState, to_ask
from prefect_flow_deploy.rules.server_variables import variable_names
from prefect_flow_deploy.rules.server_version import unsupported_server
from prefect_flow_deploy.rules.specs import (
    wanted_names,
)
from prefect_flow_deploy.run.image_questions import ImageQuestions
from prefect_flow_deploy.settings.cascade import config_line
from prefect_flow_deploy.settings.options import Options

PLAN_THREADS = 32  # questions to the registry at once: each waits on one round trip


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
    with (
        ThreadPoolExecutor(max_workers=1) as background,
        ThreadPoolExecutor(max_workers=PLAN_THREADS) as pool,
    ):
        # The server answers while the repository is read; the registry about each folder's
        # image as soon as the folder is read (image_questions.py), while the next are read.
        state_future = background.submit(_timed, _checked_state, api)
        questions = ImageQuestions(options, registry, lambda: state_future.result()[0], pool)

        def read(folder: FlowFolder) -> None:
            """Each folder's image is asked about as soon as it is read (image_questions.py):
            the registry answers while the next folders are read."""
            on_progress(Progress(folder.key, "reading"))
            if folder.flows and not folder.failed:
                questions.read(folder)  # and takes in the answers that have come
            else:
                questions.poll()

        folders = discover(options.projects_root, options.flows, options.repository, read)
        log.debug(f"read {len(folders)} flow folders in {time.monotonic() - clock:.2f}s")
        collisions = image_collisions(folders, options)
        buildable = [f for f in folders if f.flows and not f.failed and f.key not in collisions]
        found = questions.answers({f.key for f in buildable})
        state, seconds = state_future.result()
    log.debug(f"read {len(state.deployments)} managed deployments in {seconds:.2f}s")
    log.debug(
        f"asked the registry about {len(found.answers)} images; at {time.monotonic() - clock:.2f}s"
    )
    for _reference, message in found.base_warnings.items():
        log.warning(message, title="Base image")
    by_key = {f.key: f for f in buildable}
    recipes, recipe_errors, answers = found.recipes, found.recipe_errors, found.answers
    warnings = {k: file_warnings(by_key[k], r) for k, r in recipes.items()}
    imaged = [by_key[k] for k, a in answers.items() if a.tag and a.registry_error is None]
    pools = _read_pools(imaged, options, api)
    wanted = sorted({n for folder in imaged for n in wanted_names(folder, options.preview)})
    unmanaged = fetch_unmanaged(api, [n for n in wanted if n not in state.deployments], state)
    snapshot = replace(
        state, deployments={**state.deployments, **{e.full_name: e for e in unmanaged}}
    )
    others = _other_folders(snapshot, set(wanted), {f.key for f in folders}, options)
    named = variable_names(imaged, options.parameters)  # most repositories: none, no request
    variables = read_variables(api, named) if named else {}
    return Inputs(
        tuple(folders), recipes, recipe_errors, warnings, answers, snapshot, pools, others,
        api.shown,
        api.is_cloud, history.commit, {},  # relations: asked once the plan needs them (engine)
        parameters_at=config_line(options.source("parameters"), options.projects_root),
        now=int(time.time()),
        variables=variables,
    )  # fmt: skip


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
