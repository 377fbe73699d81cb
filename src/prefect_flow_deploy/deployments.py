"""Register: compare the deployments we want with what the Prefect server holds, and write
only the difference. Unchanged deployments get no write at all, so their `updated` time,
schedules and upcoming scheduled runs stay exactly as they were.

Prefect 3 client API throughout (not the `prefect` CLI).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import (
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
    WorkPoolCreate,
)
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterTags,
    FlowFilter,
    FlowFilterId,
)
from prefect.client.schemas.responses import DeploymentResponse
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError

from .errors import PrefectUnavailableError
from .model import MANAGED_TAG, TENANT_TAG_PREFIX, DeploymentPlan, DeploymentSpec

SET_WORKDIR_STEP = "prefect.deployments.steps.set_working_directory"
PAGE = 200


def make_client(api_url: str | None, api_key: str | None) -> PrefectClient:
    """An explicit URL/key wins; otherwise the PREFECT_* environment or the local profile."""
    if api_url:
        return PrefectClient(api_url, api_key=api_key)
    from prefect.settings import PREFECT_API_KEY, PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        # Without a URL Prefect would start a throw-away ephemeral server: deploying there
        # would look like success and leave nothing behind.
        raise PrefectUnavailableError(
            "no Prefect API is configured. Set prefect-api-url (--prefect-api-url or "
            "PREFECT_API_URL), or select a profile that has one (`prefect profile use …`, "
            "`prefect cloud login`)."
        )
    key = PREFECT_API_KEY.value()
    return PrefectClient(
        str(url), api_key=key.get_secret_value() if hasattr(key, "get_secret_value") else key
    )


@dataclass
class ExistingDeployment:
    id: str
    flow_name: str
    name: str
    tags: list[str]
    comparable: dict[str, Any]
    image: str | None
    code_dir: str | None
    updated: str | None

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def folder_key(self) -> str | None:
        return next((t.removeprefix("folder:") for t in self.tags if t.startswith("folder:")), None)


@dataclass
class ServerState:
    deployments: dict[str, ExistingDeployment] = field(default_factory=dict)  # by full name


async def fetch_state(client: PrefectClient) -> ServerState:
    """Every deployment this tool manages, with its flow name: a few paged calls, not one
    per flow."""
    try:
        responses: list[DeploymentResponse] = []
        offset = 0
        while True:
            page = await client.read_deployments(
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[MANAGED_TAG])),
                limit=PAGE,
                offset=offset,
            )
            responses += page
            if len(page) < PAGE:
                break
            offset += PAGE
        flow_ids = list({d.flow_id for d in responses})
        names: dict[UUID, str] = {}
        for start in range(0, len(flow_ids), PAGE):
            flows = await client.read_flows(
                flow_filter=FlowFilter(id=FlowFilterId(any_=flow_ids[start : start + PAGE])),
                limit=PAGE,
            )
            names.update({f.id: f.name for f in flows})
    except (httpx.HTTPError, PrefectHTTPStatusError) as exc:
        raise _unavailable(client, exc) from exc
    state = ServerState()
    for response in responses:
        existing = _existing(response, names.get(response.flow_id, "?"))
        state.deployments[existing.full_name] = existing
    return state


def _unavailable(client: PrefectClient, exc: Exception) -> PrefectUnavailableError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return PrefectUnavailableError(
            f"the Prefect API at {client.api_url} refused the credentials (HTTP {status}). "
            "Check prefect-api-key (PREFECT_API_KEY) and that it belongs to this workspace."
        )
    return PrefectUnavailableError(
        f"cannot reach the Prefect API at {client.api_url}: {exc}. Check prefect-api-url "
        "(PREFECT_API_URL), e.g. https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>."
    )


def _existing(response: DeploymentResponse, flow_name: str) -> ExistingDeployment:
    pull_steps = response.pull_steps or []
    code_dir = next(
        (
            step[SET_WORKDIR_STEP].get("directory")
            for step in pull_steps
            if SET_WORKDIR_STEP in step
        ),
        None,
    )
    image = (response.job_variables or {}).get("image")
    return ExistingDeployment(
        id=str(response.id),
        flow_name=flow_name,
        name=response.name,
        tags=list(response.tags),
        comparable=_comparable_existing(response),
        image=image,
        code_dir=code_dir,
        updated=str(response.updated) if response.updated else None,
    )


# -- comparison ------------------------------------------------------------------------------


def _normal_schedule(
    schedule: Any, active: bool, parameters: dict[str, Any], slug: str | None
) -> dict[str, Any]:
    dumped = schedule.model_dump(mode="json", exclude_none=True)
    return {"schedule": dumped, "active": active, "parameters": parameters or {}, "slug": slug}


def schedule_creates(spec: DeploymentSpec) -> list[DeploymentScheduleCreate]:
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule

    return [
        DeploymentScheduleCreate(**_schedule_config_to_deployment_schedule(s))
        for s in spec.schedules
    ]


def pull_steps(code_dir: str) -> list[dict[str, Any]]:
    return [{SET_WORKDIR_STEP: {"directory": code_dir}}]


def comparable_desired(spec: DeploymentSpec) -> dict[str, Any]:
    schedules = [
        _normal_schedule(
            s.schedule, s.active if s.active is not None else True, s.parameters, s.slug
        )
        for s in schedule_creates(spec)
    ]
    return _canonical(
        {
            "description": spec.description or "",
            "version": spec.version,
            "tags": sorted(spec.tags),
            "parameters": spec.parameters,
            "parameter_openapi_schema": spec.parameter_schema,
            "enforce_parameter_schema": spec.enforce_parameter_schema,
            "entrypoint": spec.entrypoint,
            "path": None,
            "pull_steps": pull_steps(spec.code_dir) if spec.code_dir else None,
            "work_pool_name": spec.work_pool,
            "job_variables": spec.job_variables,
            "concurrency_limit": spec.concurrency_limit,
            "paused": spec.paused,
            "schedules": schedules,
        }
    )


def _comparable_existing(response: DeploymentResponse) -> dict[str, Any]:
    schedules = [
        _normal_schedule(s.schedule, s.active, s.parameters, s.slug) for s in response.schedules
    ]
    return _canonical(
        {
            "description": response.description or "",
            "version": response.version,
            "tags": sorted(response.tags),
            "parameters": response.parameters,
            "parameter_openapi_schema": response.parameter_openapi_schema,
            "enforce_parameter_schema": response.enforce_parameter_schema,
            "entrypoint": response.entrypoint,
            "path": response.path,
            "pull_steps": response.pull_steps,
            "work_pool_name": response.work_pool_name,
            "job_variables": response.job_variables,
            "concurrency_limit": _concurrency_limit(response),
            "paused": response.paused,
            "schedules": schedules,
        }
    )


def _concurrency_limit(response: DeploymentResponse) -> int | None:
    # `concurrency_limit` on responses is deprecated in favour of the global limit object.
    limit = response.global_concurrency_limit
    return limit.limit if limit is not None else None


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True, default=str))
    return result


def changed_fields(desired: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    changed = []
    for key, value in desired.items():
        if key == "pull_steps" and value is None:
            continue  # not known until the image is built and checked
        if key == "schedules":
            # A schedule without a slug in prefect.yaml matches the server's whatever its slug.
            current = [
                {**s, "slug": None} if d.get("slug") is None else s
                for s, d in zip(existing.get(key, []), value, strict=False)
            ]
            if len(current) != len(value) or current != value:
                changed.append(key)
            continue
        if existing.get(key) != value:
            changed.append(key)
    return changed


def diff(spec: DeploymentSpec, existing: ExistingDeployment | None) -> DeploymentPlan:
    if existing is None:
        return DeploymentPlan(spec, spec.full_name, spec.folder_key, "create")
    fields = changed_fields(comparable_desired(spec), existing.comparable)
    if fields:
        return DeploymentPlan(spec, spec.full_name, spec.folder_key, "update", fields, existing.id)
    return DeploymentPlan(spec, spec.full_name, spec.folder_key, "unchanged", [], existing.id)


def in_tenant(existing: ExistingDeployment, tenant: str | None) -> bool:
    tenants = [t for t in existing.tags if t.startswith(TENANT_TAG_PREFIX)]
    return (f"{TENANT_TAG_PREFIX}{tenant}" in tenants) if tenant else not tenants


# -- writes ------------------------------------------------------------------------------------


async def ensure_work_pools(client: PrefectClient, names: set[str]) -> list[str]:
    """Create missing work pools of type docker; return the names created."""
    created = []
    for name in sorted(names):
        try:
            await client.read_work_pool(name)
            continue
        except ObjectNotFound:
            pass
        template = await _docker_job_template(client)
        try:
            await client.create_work_pool(
                WorkPoolCreate(name=name, type="docker", base_job_template=template or {})
            )
            created.append(name)
        except ObjectAlreadyExists:
            pass  # a concurrent run (another shard) created it meanwhile
    return created


async def _docker_job_template(client: PrefectClient) -> dict[str, Any] | None:
    """The Docker worker's default job template, from the server's collection registry
    (through this client: Prefect's own helper would open a client from global settings,
    which an explicit --prefect-api-url does not set)."""
    try:
        metadata = await client.read_worker_metadata()
    except (httpx.HTTPError, PrefectHTTPStatusError):
        return None
    for collection in metadata.values():
        for worker in collection.values():
            if isinstance(worker, dict) and worker.get("type") == "docker":
                template = worker.get("default_base_job_configuration")
                return template if isinstance(template, dict) else None
    return None


async def apply(client: PrefectClient, plan: DeploymentPlan, fresh: bool = False) -> str:
    """Carry out one create/update/remove; return the deployment id."""
    spec = plan.spec
    if plan.action == "remove":
        assert plan.deployment_id
        await client.delete_deployment(UUID(plan.deployment_id))
        return plan.deployment_id
    assert spec is not None and spec.code_dir is not None
    if plan.action == "create":
        flow_id = await client.create_flow_from_name(spec.flow_name)
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name=spec.name,
            version=spec.version,
            schedules=schedule_creates(spec),
            concurrency_limit=spec.concurrency_limit,
            parameters=spec.parameters,
            # Prefect turns a None description into the string "None" on create.
            description=spec.description or "",
            work_pool_name=spec.work_pool,
            tags=spec.tags,
            entrypoint=spec.entrypoint,
            parameter_openapi_schema=spec.parameter_schema,
            paused=spec.paused,
            pull_steps=pull_steps(spec.code_dir),
            enforce_parameter_schema=spec.enforce_parameter_schema,
            job_variables=spec.job_variables,
        )
        return str(deployment_id)
    assert plan.deployment_id
    await client.update_deployment(UUID(plan.deployment_id), _update(spec, plan.changed_fields))
    return plan.deployment_id


def _update(spec: DeploymentSpec, fields: list[str]) -> DeploymentUpdate:
    assert spec.code_dir is not None
    values: dict[str, Any] = {
        "description": spec.description or "",
        "version": spec.version,
        "tags": spec.tags,
        "parameters": spec.parameters,
        "parameter_openapi_schema": spec.parameter_schema,
        "enforce_parameter_schema": spec.enforce_parameter_schema,
        "entrypoint": spec.entrypoint,
        "path": None,
        "pull_steps": pull_steps(spec.code_dir),
        "work_pool_name": spec.work_pool,
        "job_variables": spec.job_variables,
        "concurrency_limit": spec.concurrency_limit,
        "paused": spec.paused,
    }
    update = {k: v for k, v in values.items() if k in fields}
    if "schedules" in fields:
        update["schedules"] = [
            DeploymentScheduleUpdate(**s.model_dump(exclude={"replaces"}, exclude_none=True))
            for s in schedule_creates(spec)
        ]
    return DeploymentUpdate(**update)


async def read_unmanaged(client: PrefectClient, full_name: str) -> ExistingDeployment | None:
    """A deployment of that name that this tool did not create (adopted on first deploy)."""
    try:
        response = await client.read_deployment_by_name(full_name)
    except ObjectNotFound:
        return None
    return _existing(response, full_name.split("/", 1)[0])


def write_concurrency(api_url: str | None, max_parallel: int) -> int:
    """How many deployment writes to have in flight. Prefect Cloud takes concurrent writes
    and each costs a network round trip, so overlap them. A self-hosted server is usually on
    SQLite (the default), which serialises writers: concurrent writes there wait on the
    database lock and get slower, not faster (measured here: 30 creates took 1.3 s one at a
    time and 6.4 s four at a time); on Postgres a local write takes tens of milliseconds."""
    host = httpx.URL(api_url).host if api_url else ""
    return max(1, max_parallel * 2) if host.endswith("prefect.cloud") else 1


class Registrar:
    """Writes deployments while images are still building: a background thread runs one
    Prefect client on its own event loop, and each folder's deployments are handed over as
    soon as its image is ready, so registration overlaps the builds instead of following
    them. Work pools are ensured first, concurrently with the first builds."""

    def __init__(
        self,
        api_url: str | None,
        api_key: str | None,
        pools: set[str],
        concurrency: int,
        on_pool_created: Callable[[str], None],
    ) -> None:
        self._client = make_client(api_url, api_key)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._semaphore: asyncio.Semaphore | None = None
        self._pools: Future[list[str]] | None = None
        self._futures: dict[int, Future[str]] = {}
        self._wanted_pools, self._concurrency = pools, concurrency
        self._on_pool_created = on_pool_created

    def __enter__(self) -> Registrar:
        self._thread.start()
        self._call(self._client.__aenter__()).result()
        self._pools = self._call(self._start())
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

    async def _start(self) -> list[str]:
        self._semaphore = asyncio.Semaphore(self._concurrency)
        created = await ensure_work_pools(self._client, self._wanted_pools)
        for name in created:
            self._on_pool_created(name)
        return created

    def submit(self, plan: DeploymentPlan) -> None:
        self._futures[id(plan)] = self._call(self._write(plan))

    async def _write(self, plan: DeploymentPlan) -> str:
        assert self._pools is not None
        await asyncio.wrap_future(self._pools)  # the work pool must exist before a deployment
        assert self._semaphore is not None
        async with self._semaphore:
            if plan.action == "create" and plan.spec is not None:
                adopted = await read_unmanaged(self._client, plan.full_name)
                if adopted is not None:  # made by hand or by `prefect deploy`: take it over
                    refreshed = diff(plan.spec, adopted)
                    plan.action, plan.deployment_id = "update", adopted.id
                    plan.changed_fields = refreshed.changed_fields or ["tags"]
            return await apply(self._client, plan)

    def outcomes(self) -> dict[int, object]:
        """Wait for every write; per plan (by id) its deployment id or the exception."""
        results: dict[int, object] = {}
        for key, future in self._futures.items():
            try:
                results[key] = future.result()
            except Exception as exc:
                results[key] = exc
        return results

