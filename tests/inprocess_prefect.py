"""The real Prefect server, in this process: its own ASGI application (prefect.server.api.
server.create_app) on a SQLite database of its own, reached through Starlette's test
transport instead of a socket. Same routes, models and database code as `prefect server
start`; no process, no port, none of its background services (nothing here runs flows).

For the count tests (tests/unit/run/test_engine_costs.py): every request the engine makes goes through
`transport`, which counts them. Starting it takes about 5 s; migrating a new database takes
about 10 s more, so a migrated one is kept per Prefect version under /var/tmp and copied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CACHE = Path(os.environ.get("PFD_TEST_CACHE", "/var/tmp/pfd-test-cache"))
# Every service `prefect server start` would run: none is needed to answer the API.
SERVICES_OFF = (
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED",
    "PREFECT_SERVER_SERVICES_EVENT_LOGGER_ENABLED",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_ENABLED",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",
)


class CountingTransport(httpx.BaseTransport):
    """Routes by host to the transports given; counts each request as `METHOD /path`."""

    def __init__(self, routes: dict[str, httpx.BaseTransport]) -> None:
        self.routes = routes
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests[f"{request.url.host} {request.method} {request.url.path}"] += 1
        return self.routes[request.url.host].handle_request(request)

    def count(self, host: str) -> int:
        return sum(n for key, n in self.requests.items() if key.startswith(host + " "))

    def reset(self) -> None:
        self.requests.clear()


def _settings(database: Path) -> dict[str, str]:
    return {
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        **dict.fromkeys(SERVICES_OFF, "false"),
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Prefect reads its settings from the environment when asked (get_current_settings)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        refresh_global_settings_context()


def _migrated_template() -> Path:
    import prefect

    template = CACHE / f"prefect-{prefect.__version__}.db"
    if not template.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=CACHE)) / "migrating.db"
        with _running(scratch):
            pass  # the application's start-up migrates the database
        os.replace(scratch, template)
    return template


@contextmanager
def _running(database: Path) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's note on httpx in its test client
        from starlette.testclient import TestClient
    with _environment(_settings(database)):
        from prefect.server.api.server import create_app

        app = create_app(ephemeral=True, ignore_cache=True)
        with TestClient(app, base_url="http://prefect.test/api/") as client:
            yield client


@contextmanager
def prefect_server() -> Iterator[Any]:
    """A started server: its TestClient (an httpx.Client on the API's base URL), whose
    `_transport` answers any request."""
    template = _migrated_template()
    # In memory (/dev/shm where there is one): SQLite syncs every commit to disk otherwise.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        database = Path(folder) / "prefect.db"
        shutil.copyfile(template, database)
        with _running(database) as client:
            yield client
