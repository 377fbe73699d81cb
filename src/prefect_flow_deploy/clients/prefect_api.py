"""Where the Prefect API is, and reading what it holds, without importing `prefect`.

Importing `prefect` costs about a second (its settings and client models), several times
what a re-run with nothing to do needs in all. So the read side speaks the REST API with
httpx: the same two filter calls the Prefect client makes. Writes (registration.py) use
Prefect's own client, and only run when there is something to write.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from prefect_flow_deploy.clients.http_retry import client_transport, proxy_mounts
from prefect_flow_deploy.clients.image_names import loopback_advice
from prefect_flow_deploy.core.errors import PrefectUnavailableError
from prefect_flow_deploy.core.urls import mask_credentials, scrub, without_credentials

PAGE = 200
# Prefect Cloud's workspace URLs: https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>
CLOUD_WORKSPACE = re.compile(
    r"^(?P<base>.*)/accounts/(?P<account>[^/]+)/workspaces/(?P<workspace>[^/]+)/?$"
)
# Client settings only Prefect knows how to apply: when one is set, resolve everything
# through Prefect's settings instead of reading the environment ourselves.
_PREFECT_ONLY = (
    "PREFECT_API_TLS_INSECURE_SKIP_VERIFY",
    "PREFECT_API_SSL_CERT_FILE",
    "PREFECT_CLIENT_CUSTOM_HEADERS",
    "PREFECT_API_AUTH_STRING",
)


@dataclass(frozen=True)
class ApiSettings:
    url: str
    key: str | None = None
    auth_string: str | None = None
    verify: bool | str = True
    headers: tuple[tuple[str, str], ...] = ()
    # One HTTP client for every read of a run (made on first use): a client's TLS context
    # costs 30 ms to make, and a plan reads five or six times.
    _shared: dict[str, httpx.Client] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, compare=False, hash=False, repr=False
    )

    @contextmanager
    def http_client(self) -> Iterator[httpx.Client]:
        """The run's client for these settings (kept open for the next read)."""
        with self._lock:
            if "client" not in self._shared:
                self._shared["client"] = self._new_client()
            client = self._shared["client"]
        yield client

    def _new_client(self) -> httpx.Client:
        headers = dict(self.headers)
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        elif self.auth_string:
            encoded = base64.b64encode(self.auth_string.encode()).decode()
            headers["Authorization"] = f"Basic {encoded}"
        return httpx.Client(
            base_url=self.url.rstrip("/") + "/",
            headers=headers,
            timeout=60,
            transport=client_transport(self.verify),
            mounts=proxy_mounts(self.verify),
        )

    @property
    def is_cloud(self) -> bool:
        return is_cloud(self.url)

    @property
    def shown(self) -> str:
        """The URL as it may be printed, stored or linked: without a login in it."""
        return without_credentials(self.url)


def is_cloud(api_url: str | None) -> bool:
    """Prefect Cloud: its host, or its workspace URL shape (a proxy or a stand-in)."""
    if not api_url:
        return False
    return httpx.URL(api_url).host.endswith("prefect.cloud") or bool(
        CLOUD_WORKSPACE.match(api_url.rstrip("/"))
    )


def check_workspace(settings: ApiSettings) -> None:
    """On Prefect Cloud, that the API key reaches the workspace of the URL, before anything
    is built: Cloud's `/me/workspaces` lists the workspaces a key can use (what `prefect
    cloud login` reads, prefect/client/cloud.py). A key of another workspace is one clear
    error naming the workspaces it does reach."""
    match = CLOUD_WORKSPACE.match(settings.url.rstrip("/"))
    if match is None or not settings.key:
        return
    try:
        with settings.http_client() as client:
            response = client.get(match["base"] + "/me/workspaces")
            response.raise_for_status()
            workspaces: list[dict[str, Any]] = response.json()
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc
    ids = {(str(w.get("account_id")), str(w.get("workspace_id"))) for w in workspaces}
    if (match["account"], match["workspace"]) in ids:
        return
    reachable = ", ".join(
        sorted(f"{w.get('account_handle')}/{w.get('workspace_handle')}" for w in workspaces)
    )
    raise PrefectUnavailableError(
        f"the Prefect API key does not belong to the workspace of {settings.shown} (the key "
        f"reaches: {reachable or 'no workspace'}). Use that workspace's key "
        "(prefect-api-key / PREFECT_API_KEY) or its URL (prefect-api-url)."
    )


def resolve(api_url: str | None, api_key: str | None) -> ApiSettings:
    """An explicit URL/key wins, then the PREFECT_* environment, then the Prefect profile.
    A login in the URL is masked before anything is printed (url_credentials.py)."""
    if api_url:
        settings = ApiSettings(api_url, api_key or None)
    elif (env_url := os.environ.get("PREFECT_API_URL")) and not any(
        os.environ.get(name) for name in _PREFECT_ONLY
    ):
        settings = ApiSettings(env_url, api_key or os.environ.get("PREFECT_API_KEY") or None)
    else:
        settings = _from_prefect_settings(api_key)
    mask_credentials(settings.url)
    return settings


def _from_prefect_settings(api_key: str | None) -> ApiSettings:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if not settings.api.url:
        # Without a URL Prefect would start a throw-away ephemeral server: deploying there
        # would look like success and leave nothing behind.
        raise PrefectUnavailableError(
            "no Prefect API is configured. Set prefect-api-url (--prefect-api-url or "
            "PREFECT_API_URL), or select a profile that has one (`prefect profile use …`, "
            "`prefect cloud login`)."
        )
    key = api_key or _secret(settings.api.key)
    verify: bool | str = not settings.api.tls_insecure_skip_verify
    if verify and settings.api.ssl_cert_file:
        verify = str(settings.api.ssl_cert_file)
    return ApiSettings(
        str(settings.api.url),
        key,
        _secret(settings.api.auth_string),
        verify,
        tuple((settings.client.custom_headers or {}).items()),
    )


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def read_server_version(settings: ApiSettings) -> str | None:
    """The server's Prefect version: `GET /api/admin/version` answers `prefect.__version__`
    as a JSON string (prefect/server/api/admin.py, `read_version`). None for Prefect Cloud,
    which Prefect's client never asks either ("Cloud is always compatible as a server",
    `raise_for_api_version_mismatch`), or for an answer that is not a string."""
    if settings.is_cloud:
        return None
    try:
        with settings.http_client() as client:
            response = client.get("admin/version")
            response.raise_for_status()
            found = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise unavailable(settings.url, exc) from exc
    return found if isinstance(found, str) else None


def read_managed(settings: ApiSettings, tag: str) -> list[dict[str, Any]]:
    """Every deployment carrying `tag`, as the API's JSON, with its flow's name added under
    `flow_name`: a few paged calls, not one per flow."""
    return _read(settings, {"deployments": {"tags": {"all_": [tag]}}})


def read_all(settings: ApiSettings) -> list[dict[str, Any]]:
    """Every deployment on the server, whoever made it and whatever its tenant."""
    return _read(settings, {})


def read_named(settings: ApiSettings, full_names: list[str]) -> list[dict[str, Any]]:
    """The deployments called `<flow>/<name>` among `full_names`, whoever made them. The
    flows first: on a server that has none of them (a first deploy) that is the only call."""
    if not full_names:
        return []
    pairs = [name.split("/", 1) for name in full_names]
    flow_names = sorted({f for f, _ in pairs})
    try:
        with settings.http_client() as client:
            flow_ids = [
                flow["id"]
                for start in range(0, len(flow_names), PAGE)
                for flow in _post(
                    client,
                    "flows/filter",
                    {"flows": {"name": {"any_": flow_names[start : start + PAGE]}}, "limit": PAGE},
                )
            ]
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc
    if not flow_ids:
        return []
    found = _read(
        settings,
        {
            "deployments": {"name": {"any_": sorted({n for _, n in pairs})}},
            "flows": {"id": {"any_": flow_ids}},
        },
    )
    wanted = set(full_names)
    return [d for d in found if f"{d['flow_name']}/{d['name']}" in wanted]


def _read(settings: ApiSettings, body: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        with settings.http_client() as client:
            deployments: list[dict[str, Any]] = []
            while True:
                page = _post(
                    client,
                    "deployments/filter",
                    {**body, "limit": PAGE, "offset": len(deployments)},
                )
                deployments += page
                if len(page) < PAGE:
                    break
            flow_ids = sorted({d["flow_id"] for d in deployments})
            names: dict[str, str] = {}
            for start in range(0, len(flow_ids), PAGE):
                flows = _post(
                    client,
                    "flows/filter",
                    {"flows": {"id": {"any_": flow_ids[start : start + PAGE]}}, "limit": PAGE},
                )
                names.update({f["id"]: f["name"] for f in flows})
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc
    for deployment in deployments:
        deployment["flow_name"] = names.get(deployment["flow_id"], "?")
    return deployments


def read_tagged_automations(settings: ApiSettings, tag: str) -> list[dict[str, Any]]:
    """Automations carrying `tag`, as the API's JSON. Paged; a server without the
    automations API (404) has none."""
    body = {"automations": {"tags": {"all_": [tag]}}}
    return _automations(settings, "automations/filter", body)


def read_related_automations(settings: ApiSettings, deployment_id: str) -> list[dict[str, Any]]:
    """Automations related to a deployment: owned by it, or running it."""
    return _automations(settings, f"automations/related-to/prefect.deployment.{deployment_id}")


def _automations(
    settings: ApiSettings, path: str, body: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    automations: list[dict[str, Any]] = []
    try:
        with settings.http_client() as client:
            while True:
                if body is None:
                    response = client.get(path)
                else:
                    page_body = {**body, "limit": PAGE, "offset": len(automations)}
                    response = client.post(path, json=page_body)
                if response.status_code == 404 or no_automation_tags(response):
                    return []
                response.raise_for_status()
                page: list[dict[str, Any]] = response.json()
                automations += page
                if body is None or len(page) < PAGE:
                    return automations
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc


def no_automation_tags(response: httpx.Response) -> bool:
    """A server whose automations have no tags yet (before 3.4.7: its AutomationFilter
    refuses `tags`, 422 extra_forbidden) holds no tagged automation."""
    if response.status_code != 422:
        return False
    try:
        details = response.json().get("exception_detail") or []
    except ValueError:
        return False
    return any(
        d.get("type") == "extra_forbidden" and list(d.get("loc") or [])[-1:] == ["tags"]
        for d in details
        if isinstance(d, dict)
    )


def read_variables(settings: ApiSettings, names: list[str]) -> dict[str, Any]:
    """The values of the server's variables of these names (those it has), for the
    `{{ prefect.variables.<name> }}` of deployments' parameters: one request a page."""
    values: dict[str, Any] = {}
    try:
        with settings.http_client() as client:
            for start in range(0, len(names), PAGE):
                body = {"variables": {"name": {"any_": names[start : start + PAGE]}}, "limit": PAGE}
                values.update(
                    {v["name"]: v["value"] for v in _post(client, "variables/filter", body)}
                )
    except httpx.HTTPError as exc:
        raise unavailable(settings.url, exc) from exc
    return values


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def unavailable(url: str, exc: Exception) -> PrefectUnavailableError:
    """The error for an API that cannot be used, without a login the URL (or the
    exception's text, which may quote it) holds."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    url, text = without_credentials(url), scrub(str(exc))
    if status in (401, 403):
        return PrefectUnavailableError(
            f"the Prefect API at {url} refused the credentials (HTTP {status}). "
            "Check prefect-api-key (PREFECT_API_KEY) and that it belongs to this workspace."
        )
    return PrefectUnavailableError(
        f"cannot reach the Prefect API at {url}: {text}. Check prefect-api-url "
        "(PREFECT_API_URL), e.g. https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>."
        + loopback_advice(urlsplit(url).hostname or "")
    )
