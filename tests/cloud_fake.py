"""A small stand-in for Prefect Cloud (127.0.0.1, port 0) for what cannot run here: its
workspace URLs, its API-key check, its rate limiting and its version_info. It speaks the
shapes Prefect's own client reads and writes:

- `GET /api/me/workspaces`: a list of `Workspace` (prefect/client/schemas/objects.py;
  read by CloudClient.read_workspaces, prefect/client/cloud.py); an unknown key is 401.
- `POST …/flows/` → the flow (the client reads `id`, prefect/client/orchestration/_flows);
  `POST …/deployments/` → `{"id": …}` (…/_deployments/client.py create_deployment), the
  body being DeploymentCreate as the client dumps it, `version_info` included;
  `POST …/deployments/filter` → DeploymentResponse JSON; `POST …/flows/filter`;
  `POST …/automations/filter`; `GET …/work_pools/<name>` → a docker pool.
- Global concurrency limits and their leases, which registration's write lock takes around
  each write (write_lock.py), with the OSS server's shapes (prefect/server/api/
  concurrency_limits_v2.py; Cloud's client is the same, prefect/client/orchestration/
  _concurrency_limits/client.py): `POST …/v2/concurrency_limits/` {name, limit} → 201 the
  limit, 409 if the name exists; `…/increment-with-lease` {names, slots, mode,
  lease_duration} → 200 {lease_id, limits: [{id, name, limit}]} (only limits that exist),
  423 with Retry-After when a limit is full; `…/decrement-with-lease` {lease_id} → 204;
  `…/leases/<id>/renew` → 204, 410 for an unknown lease.
- 429 with `Retry-After` when rate limited (docs.prefect.io/latest/cloud/rate-limits:
  "endpoints return a 429 response with a Retry-After header").
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from prefect_docker.worker import DockerWorker

from tests.loopback_server import LoopbackServer

ACCOUNT = str(uuid.UUID(int=1))
WORKSPACE = str(uuid.UUID(int=2))
OTHER_WORKSPACE = str(uuid.UUID(int=3))
KEY = "pnu_rightworkspacekey000000000000000000"
OTHER_KEY = "pnu_otherworkspacekey00000000000000000"


def workspace(workspace_id: str, handle: str) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT, "account_name": "Acme", "account_handle": "acme",
        "workspace_id": workspace_id, "workspace_name": handle, "workspace_description": "",
        "workspace_handle": handle,
    }  # fmt: skip


class FakeCloud:
    def __init__(self, rate_limited: dict[str, int] | None = None, write_delay: float = 0.0):
        self.requests: list[tuple[str, str, float]] = []  # method, path, monotonic time
        self.flows: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.created_bodies: list[dict[str, Any]] = []
        # "METHOD path-suffix" → how many more times to answer 429 (Retry-After: 1)
        self.rate_limited = dict(rate_limited or {})
        self.write_delay = write_delay
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.limits: dict[str, dict[str, Any]] = {}  # by name, with `active_slots`
        self.leases: dict[str, tuple[list[str], int]] = {}  # id → limit names, slots
        self.unlocked_writes: list[str] = []  # deployments created without their lock's lease
        self._server = LoopbackServer(self._handler())

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/accounts/{ACCOUNT}/workspaces/{WORKSPACE}"

    def __enter__(self) -> FakeCloud:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def calls(self, method: str, suffix: str) -> int:
        return len(self.times(method, suffix))

    def times(self, method: str, suffix: str) -> list[float]:
        return [t for m, p, t in self.requests if m == method and p.endswith(suffix)]

    # -- the API ---------------------------------------------------------------------------
    def answer(self, method: str, path: str, key: str | None, body: Any) -> tuple[int, Any]:
        if path == "/api/me/workspaces":
            if key == KEY:
                return 200, [workspace(WORKSPACE, "prod")]
            if key == OTHER_KEY:
                return 200, [workspace(OTHER_WORKSPACE, "dev")]
            return 401, {"detail": "Invalid authentication credentials"}
        prefix = f"/api/accounts/{ACCOUNT}/workspaces/{WORKSPACE}"
        if not path.startswith(prefix):
            return 404, {"detail": "Not Found"}
        if key != KEY:
            return 403, {"detail": "Forbidden"}
        route = f"{method} {path.removeprefix(prefix)}"
        if route == "POST /deployments/filter":
            return 200, list(self.deployments.values())
        if route == "POST /flows/filter":
            wanted = body.get("flows") or {}
            ids = (wanted.get("id") or {}).get("any_")
            names = (wanted.get("name") or {}).get("any_")
            return 200, [
                f for f in self.flows.values()
                if (ids is None or f["id"] in ids) and (names is None or f["name"] in names)
            ]  # fmt: skip
        if route == "POST /automations/filter":
            return 200, []
        if route.startswith("GET /work_pools/"):
            name = route.removeprefix("GET /work_pools/")
            template = DockerWorker.get_default_base_job_template()
            return 200, {"name": name, "type": "docker", "base_job_template": template}
        if route == "POST /flows/":
            flow = next((f for f in self.flows.values() if f["name"] == body["name"]), None)
            if flow is None:
                flow = {"id": str(uuid.uuid4()), "name": body["name"], "tags": [], "labels": {}}
                self.flows[flow["id"]] = flow
            return 201, flow
        if route == "POST /deployments/":
            return 201, self._create_deployment(body)
        if route.startswith("POST /v2/concurrency_limits/"):
            return self._concurrency(route.removeprefix("POST /v2/concurrency_limits/"), body)
        return 404, {"detail": f"not in the fake: {route}"}

    def _concurrency(self, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            if action == "":
                if body["name"] in self.limits:
                    return 409, {"detail": "Data integrity conflict."}
                limit = {"id": str(uuid.uuid4()), "name": body["name"], "limit": body["limit"]}
                self.limits[body["name"]] = {**limit, "active": True, "active_slots": 0}
                return 201, self.limits[body["name"]]
            if action == "increment-with-lease":
                found = [self.limits[n] for n in body["names"] if n in self.limits]
                if any(f["active_slots"] + body["slots"] > f["limit"] for f in found):
                    return 423, None
                for limit in found:
                    limit["active_slots"] += body["slots"]
                lease_id = str(uuid.uuid4())
                self.leases[lease_id] = ([f["name"] for f in found], body["slots"])
                minimal = [{k: f[k] for k in ("id", "name", "limit")} for f in found]
                return 200, {"lease_id": lease_id, "limits": minimal}
            if action == "decrement-with-lease":
                names, slots = self.leases.pop(body["lease_id"], ([], 0))
                for name in names:
                    self.limits[name]["active_slots"] -= slots
                return 204, None
            if action.startswith("leases/") and action.endswith("/renew"):
                known = action.split("/")[1] in self.leases
                return (204, None) if known else (410, {"detail": "Lease not found"})
        return 404, {"detail": f"not in the fake: POST /v2/concurrency_limits/{action}"}

    def _create_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        from prefect_flow_deploy.clients.write_lock import lock_name

        with self._lock:
            full_name = f"{self.flows[body['flow_id']]['name']}/{body['name']}"
            lock = self.limits.get(lock_name(full_name))
            if lock is None or lock["active_slots"] < 1:
                self.unlocked_writes.append(full_name)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.write_delay)  # a network round trip to Cloud
        with self._lock:
            self.in_flight -= 1
            self.created_bodies.append(body)
        deployment_id = str(uuid.uuid4())
        limit = body.get("concurrency_limit")
        self.deployments[deployment_id] = {
            **body,
            "id": deployment_id,
            "global_concurrency_limit": {"limit": limit} if limit else None,
            "work_queue_name": body.get("work_queue_name") or "default",
            "schedules": [],
            "updated": "2026-12-01T00:00:00Z",
        }
        return {"id": deployment_id, "name": body["name"]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                path = self.path.split("?")[0]
                auth = self.headers.get("Authorization") or ""
                key = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                fake.requests.append((method, path, time.monotonic()))
                route = f"{method} {path.rsplit('/workspaces/' + WORKSPACE, 1)[-1]}"
                with fake._lock:
                    throttle = fake.rate_limited.get(route, 0)
                    if throttle:
                        fake.rate_limited[route] = throttle - 1
                if throttle:
                    self._send(429, {"detail": "Rate limit exceeded"}, {"Retry-After": "1"})
                    return
                status, answer = fake.answer(method, path, key, body)
                self._send(status, answer, {"Retry-After": "0.1"} if status == 423 else None)

            def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                payload = b"" if status == 204 else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

        return Handler
