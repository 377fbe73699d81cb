"""Register: write the deployments that differ (create, update, delete) with Prefect's own
client, while the images of other folders are still building. Imported only when there is
something to write."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentCreate, DeploymentUpdate, WorkPoolCreate
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectAlreadyExists
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.http_retry import (
    async_client_transport,
    async_proxy_mounts,
    check_deadline,
    tls_context,
)
from prefect_flow_deploy.clients.prefect_api import ApiSettings, is_cloud
from prefect_flow_deploy.clients.write_lock import WriteLocks
from prefect_flow_deploy.core.logger import Level
from prefect_flow_deploy.core.model import TENANT_TAG_PREFIX, DeploymentPlan, DeploymentSpec
from prefect_flow_deploy.core.server_state import Pool
from prefect_flow_deploy.deployment.commit_order import (
    Commit,
    Superseded,
    recorded_commit,
    superseded,
    tags_to_write,
)
from prefect_flow_deploy.deployment.field_loops import create_values, update_values
from prefect_flow_deploy.deployment.ownership import foreign_owner, takeover_message
from prefect_flow_deploy.rules.previews import rule as preview_rule


def make_client(settings: ApiSettings) -> PrefectClient:
    """Prefect's client over our retrying transport (http_retry): one policy and the run's
    deadline for writes as for reads. Its own retry loop is turned off where it runs
    (`OwnRetriesOff`), else each of its attempts would be retried again by ours."""
    return PrefectClient(
        settings.url,
        api_key=settings.key,
        auth_string=settings.auth_string,
        httpx_settings={
            # The run's context: given none, Prefect's client loads the CA bundle again.
            "verify": tls_context(settings.verify),
            "headers": dict(settings.headers),
            "transport": async_client_transport(settings.verify, final_retry_after="0"),
            "mounts": async_proxy_mounts(settings.verify, final_retry_after="0"),
        },
    )


class OwnRetriesOff:
    """Prefect's client retries in `send` (prefect/client/base.py, up to
    PREFECT_CLIENT_MAX_RETRIES); with 0 it makes one attempt. Calling this gives a context in
    which that setting is 0.

    The settings are copied once, when this is made, and each write only enters them:
    `temporary_settings` copies them on every entry, and a copy builds Prefect's whole
    settings model again from the environment and its TOML files (50 ms of CPU, 700 stat
    calls; measured 2026-12-05): 1.5 s of a 30-folder cold deploy, 50 s for 1,000 writes."""

    def __init__(self) -> None:
        current = get_settings_context()
        self._profile = current.profile
        self._settings = current.settings.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})

    def __call__(self) -> AbstractContextManager[object]:
        return SettingsContext(profile=self._profile, settings=self._settings)


async def ensure_work_pools(client: PrefectClient, pools: Sequence[Pool]) -> list[Pool]:
    """Create the pools that were missing when planning, of their type and with that
    worker's default template (read while planning); return those created."""
    created = []
    for pool in sorted(pools, key=lambda p: p.name):
        try:
            await client.create_work_pool(
                WorkPoolCreate(name=pool.name, type=pool.type, base_job_template=pool.template)
            )
            created.append(pool)
        except ObjectAlreadyExists:
            pass  # a concurrent run (another shard) created it meanwhile
    return created


def version_info(provenance: dict[str, Any] | None, spec: DeploymentSpec) -> Any:
    """The run's provenance for this deployment, its version the content tag (None: no
    provenance, or a Prefect client too old to send it)."""
    from prefect_flow_deploy.deployment.prefect_compat import version_info_class

    VersionInfo = version_info_class()
    if not provenance or VersionInfo is None:
        return None
    return VersionInfo(**{**provenance, "version": spec.version})


@dataclass(frozen=True)
class Claim:
    """Whose deployments this run writes: the repository and tenant it records."""

    repository: str | None = None
    tenant: str | None = None


class Claimed(Exception):
    """Another repository or tenant made the deployment after this run planned: the write
    would take it over, which the plan would have refused."""


def claimed_by_another(tags: list[str], claim: Claim, full_name: str) -> str | None:
    """Why the deployment, as the server holds it now, is not this run's to write (the
    plan's rules: decide.other_tenant, decide.other_repository), or None."""
    theirs = next(
        (t.removeprefix(TENANT_TAG_PREFIX) for t in tags if t.startswith(TENANT_TAG_PREFIX)), None
    )
    if theirs is not None and theirs != claim.tenant:
        return (
            f"the deployment {full_name} was created meanwhile by tenant {theirs!r} (after this "
            "run planned); it is not overwritten. Give each tenant its own Prefect workspace or "
            "server."
        )
    owner = foreign_owner(tags, claim.repository)
    return takeover_message(full_name, owner, claim.repository) if owner else None


async def _current_tags(client: PrefectClient, plan: DeploymentPlan) -> list[str] | None:
    """The deployment's tags as the server holds them now; None when it does not exist."""
    flow_name, _, name = plan.full_name.partition("/")
    try:
        if plan.deployment_id and plan.action != "create":
            response = await client.request(
                "GET", "/deployments/{id}", path_params={"id": plan.deployment_id}
            )
        else:
            response = await client.request(
                "GET",
                "/deployments/name/{flow_name}/{deployment_name}",
                path_params={"flow_name": flow_name, "deployment_name": name},
            )
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise
    return list(response.json().get("tags") or [])


async def _recheck(
    client: PrefectClient,
    plan: DeploymentPlan,
    claim: Claim | None,
    history: CheckoutHistory | None,
    force_order: bool = False,
) -> None:
    """Read the deployment again just before writing over it: while this run was building
    (the plan read the server minutes ago), a run from a newer commit may have written it
    (raises Superseded), or another repository or tenant may have created it (raises Claimed:
    a create replaces a deployment of the same name)."""
    tags = await _current_tags(client, plan)
    if tags is None:
        return
    why = claimed_by_another(tags, claim, plan.full_name) if claim else None
    if why is None:  # a preview writes only its own; a deployment never takes a preview over
        why = preview_rule(plan.full_name, tags, plan.preview)
    if why:
        raise Claimed(why)
    if history and history.commit and not force_order:
        recorded = recorded_commit(tags)
        relation = history.relation(recorded.sha) if recorded else None
        order = superseded(history.commit, recorded, relation, int(time.time()))
        if order:
            raise Superseded(order)


async def apply(
    client: PrefectClient,
    plan: DeploymentPlan,
    provenance: dict[str, Any] | None = None,
    history: CheckoutHistory | None = None,
    claim: Claim | None = None,
    locks: WriteLocks | None = None,
    force_order: bool = False,
) -> str:
    """Carry out one create/update/remove; return the deployment id. Provenance and the
    commit record go with every write but are never compared: alone they never make a
    deployment changed. With `history` or `claim`, the deployment is read again first
    (raises Superseded or Claimed: see _recheck), and with `locks` that read and the write
    are one step no other run's write of the name can come between (write_lock)."""
    rechecked = bool(claim or (history and history.commit))
    async with locks.held(plan.full_name) if locks and rechecked else nullcontext():
        if rechecked:
            await _recheck(client, plan, claim, history, force_order)
        return await _write(client, plan, provenance, history.commit if history else None)


async def _write(
    client: PrefectClient,
    plan: DeploymentPlan,
    provenance: dict[str, Any] | None,
    commit: Commit | None,
) -> str:
    spec = plan.spec
    if plan.action == "remove":
        assert plan.deployment_id
        await client.delete_deployment(UUID(plan.deployment_id))
        return plan.deployment_id
    assert spec is not None and spec.code_dir is not None
    assert spec.parameter_schema is not None, "computed by the image check before writing"
    spec = replace(spec, tags=tags_to_write(spec.tags, commit))
    if plan.action == "create":
        flow_id = await client.create_flow_from_name(spec.flow_name)
        response = await client.request(
            "POST", "/deployments/", json=create_payload(spec, flow_id, provenance)
        )
        deployment_id = response.json()["id"]
        await write_triggers(client, spec, str(deployment_id), plan.trigger_writes)
        return str(deployment_id)
    assert plan.deployment_id
    update = update_body(spec, plan.changed_fields)
    if update is not None:
        info = version_info(provenance, spec)
        if info is not None:  # a field only clients from Prefect 3.4 have
            update.version_info = info
        await client.update_deployment(UUID(plan.deployment_id), update)
    await write_triggers(client, spec, plan.deployment_id, plan.trigger_writes)
    return plan.deployment_id


async def write_triggers(
    client: PrefectClient,
    spec: DeploymentSpec,
    deployment_id: str,
    writes: Sequence[tuple[str, str, str | None]],
) -> None:
    """Create, update or remove the deployment's automations, one by one as planned."""
    if not writes:
        return
    from prefect.events.schemas.automations import AutomationCore

    from prefect_flow_deploy.deployment.triggers import automations

    wanted = automations(spec, deployment_id)
    for action, name, automation_id in writes:
        if action == "remove":
            assert automation_id
            await client.delete_automation(UUID(automation_id))
            continue
        if action == "create":
            await client.create_automation(AutomationCore.model_validate(wanted[name]))
        else:
            assert automation_id
            # An update may not name the owner (the server keeps it; 422 otherwise); the
            # client sends only the fields set here.
            body = {k: v for k, v in wanted[name].items() if k != "owner_resource"}
            await client.update_automation(UUID(automation_id), AutomationCore.model_validate(body))


def create_payload(
    spec: DeploymentSpec, flow_id: UUID, provenance: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of `POST /deployments/`: only the fields we set (deployment_fields.FIELDS).
    The client's own `create_deployment` also sends its newer fields at their defaults (a
    schedule's `replaces`, ...), which a server older than the client rejects (422,
    extra_forbidden); left out, the server applies the same defaults."""
    assert spec.code_dir is not None
    info = version_info(provenance, spec)
    # A newer optional field only when it holds something: even a null is refused.
    newer: dict[str, Any] = {"version_info": info} if info is not None else {}
    create = DeploymentCreate(flow_id=flow_id, **create_values(spec), **newer)
    payload: dict[str, Any] = create.model_dump(mode="json", exclude_unset=True)
    return payload


def update_body(spec: DeploymentSpec, changed_fields: Sequence[str]) -> DeploymentUpdate | None:
    """The `PATCH /deployments/{id}` of these changed fields (None: nothing to patch, as
    when only triggers changed: they are automations). The tags carry the commit record:
    every PATCH rewrites them."""
    assert spec.code_dir is not None
    if not update_values(spec, changed_fields):
        return None
    return DeploymentUpdate(**update_values(spec, [*changed_fields, "tags"]))


def write_concurrency(api_url: str | None, max_parallel: int) -> int:
    """How many deployment writes to have in flight. Prefect Cloud takes concurrent writes
    and each costs a network round trip, so overlap them. A self-hosted server is usually on
    SQLite (the default), which serialises writers: concurrent writes there wait on the
    database lock and get slower, not faster (measured here: 30 creates took 1.3 s one at a
    time and 6.4 s four at a time); on Postgres a local write takes tens of milliseconds."""
    return max(1, max_parallel * 2) if is_cloud(api_url) else 1


class Registrar:
    """Writes deployments while images are still building: a background thread runs one
    Prefect client on its own event loop, and each folder's deployments are handed over as
    soon as its image is ready, so registration overlaps the builds instead of following
    them. Work pools are ensured before the first write (a run whose every folder fails
    creates none)."""

    def __init__(
        self,
        settings: ApiSettings,
        pools: Sequence[Pool],
        concurrency: int,
        on_pool_created: Callable[[Pool], None],
        provenance: dict[str, Any] | None = None,
        history: CheckoutHistory | None = None,
        claim: Claim | None = None,
        say: Callable[[Level, str], None] = lambda level, message: None,
        force_order: bool = False,
        waiting: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._client = make_client(settings)
        self._retries_off = OwnRetriesOff()
        self._locks = WriteLocks(self._client, say, waiting)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._semaphore: asyncio.Semaphore | None = None
        self._pools: Future[list[Pool]] | None = None
        self._starting = threading.Lock()
        self._wanted_pools, self._concurrency = pools, concurrency
        self._on_pool_created = on_pool_created
        self._provenance = provenance
        self._history = history
        self._claim = claim
        self._force_order = force_order

    def __enter__(self) -> Registrar:
        self._thread.start()
        self._call(self._client.__aenter__()).result()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call(self._client.__aexit__(None, None, None)).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self) -> list[Pool]:
        self._semaphore = asyncio.Semaphore(self._concurrency)
        with self._retries_off():
            created = await ensure_work_pools(self._client, self._wanted_pools)
        for pool in created:
            self._on_pool_created(pool)
        return created

    def submit(self, plan: DeploymentPlan) -> Future[str]:
        with self._starting:  # the pools, on the first write: none when every folder fails
            if self._pools is None:
                self._pools = self._call(self._start())
        future: Future[str] = self._call(self._write(plan))
        return future

    async def _write(self, plan: DeploymentPlan) -> str:
        assert self._pools is not None
        await asyncio.wrap_future(self._pools)  # the work pool must exist before a deployment
        assert self._semaphore is not None
        async with self._semaphore:
            check_deadline(f"writing {plan.full_name}")
            with self._retries_off():
                return await apply(
                    self._client, plan, self._provenance, self._history, self._claim,
                    self._locks, self._force_order,
                )  # fmt: skip
