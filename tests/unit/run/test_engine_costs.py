"""Costs counted, not timed: what a plan asks of the world and of the CPU for N and 10·N
flow folders, where each count must not grow with the number of deployments.

The repository is tests/corpus/scaled.py's (the corpus' real shapes, five flows a folder, a
schedule and job variables on every third), planned by the engine against the real Prefect
server running in this process (tests/inprocess_prefect.py) with a work pool whose job
template has a schema (the docker worker's default), and a registry answering as the OCI
Distribution Specification says (tests/oci_registry.py). Two states: nothing deployed (a
first plan: every deployment a create, every job variable judged), and everything deployed
(the no-op a CI re-run plans: every image there, every deployment unchanged).

Counted: jsonschema's meta-schema checks and validations, Prefect API requests, registry
requests, files opened under the repository, runs of the cycle collector, (in a child
process replaying the no-op's exact answers) the modules a no-op plan imports, and, for a
deploy's writes of the first plan's creates, the Prefect settings models built. Before these counts existed, a plan judged
the pool's job template once per deployment (issue 21: 89 of 97 profiled seconds).
"""

from __future__ import annotations

import builtins
import gc
import io
import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from prefect_flow_deploy.clients import prefect_api
from prefect_flow_deploy.clients.http_retry import AsyncRetryTransport, RetryTransport
from prefect_flow_deploy.core.model import Plan
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given
from tests.corpus import scaled
from tests.inprocess_prefect import CountingTransport, prefect_server
from tests.oci_registry import OciRegistry, registry_through

ROOT = Path(__file__).resolve().parents[3]
N = 3  # folders; 10·N = 30 (about 15 and 150 deployments)
REGISTRY = "registry.test/flows"
BASE = "registry.test/base/prefect:3"
POOL = "costs-pool"


@dataclass
class Run:
    plan: Plan
    requests: Counter[str]
    opened: Counter[str]  # path under the projects root → times opened
    checked_schemas: int  # meta-schema checks
    validations: int  # jsonschema iter_errors calls (job variables and parameters)
    exchanges: list[dict[str, Any]]
    collections: int  # runs of the cycle collector while the plan was made

    def count(self, host: str) -> int:
        return sum(n for key, n in self.requests.items() if key.startswith(host + " "))


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with prefect_server() as client:
        from prefect.server.api import collections  # noqa: F401  (the bundled templates)

        template = docker_template()
        client.post(
            "work_pools/", json={"name": POOL, "type": "docker", "base_job_template": template}
        ).raise_for_status()
        yield client


def docker_template() -> dict[str, Any]:
    import prefect.server.api

    bundled = (
        Path(prefect.server.api.__file__).parent
        / "collections_data/views/aggregate-worker-metadata.json"
    )
    for collection in json.loads(bundled.read_text()).values():
        for worker in collection.values():
            if worker["type"] == "docker":
                template: dict[str, Any] = worker["default_base_job_configuration"]
                return template
    raise AssertionError("no docker worker in Prefect's bundled metadata")


class Recording(httpx.BaseTransport):
    """Keeps every exchange (for the replay in a child process)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.exchanges, self.lock = inner, [], threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read()  # decoded: the headers that described the encoding go
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _ENCODING}
        with self.lock:
            self.exchanges.append(
                {
                    "method": request.method,
                    "url": str(request.url),
                    "body": request.content.decode(),
                    "status": response.status_code,
                    "headers": headers,
                    "content": body.decode(),
                }
            )
        return httpx.Response(response.status_code, headers=headers, content=body)


_ENCODING = {"content-encoding", "content-length", "transfer-encoding"}


def plan_counted(
    root: Path, server: Any, oci: OciRegistry, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> Run:
    routes = CountingTransport({"prefect.test": server._transport, "registry.test": oci})
    recording = Recording(routes)

    def transport(*_args: Any, **_kwargs: Any) -> RetryTransport:
        return RetryTransport(recording)  # type: ignore[arg-type]

    monkeypatch.setattr(prefect_api, "client_transport", transport)
    registry_through(monkeypatch, transport)
    opened: Counter[str] = Counter()
    real_open = io.open
    prefix = str(root) + os.sep

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        path = os.path.abspath(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else ""
        handle = real_open(file, *args, **kwargs)
        if path.startswith(prefix):
            opened[path[len(prefix) :]] += 1
        return handle

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    checked = [0]
    validations = [0]
    # Every meta-schema check, whatever validator class asks (jsonschema.validate, Prefect's
    # own class, ours), is jsonschema's check_schema, which starts with
    # `validator_for(cls.META_SCHEMA, …)`; values are validated by iter_errors on a class
    # made for their schema (a meta-schema's own validation aside).
    real_validator_for = jsonschema.validators.validator_for

    def is_meta(schema: Any) -> bool:  # a meta-schema (a copy of one included) by its $id
        return isinstance(schema, dict) and str(schema.get("$id", "")).startswith(
            "https://json-schema.org/draft"
        )

    def validator_for(schema: Any, *args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_name == "check_schema":
            checked[0] += 1
        return real_validator_for(schema, *args, **kwargs)

    validator = jsonschema.Draft202012Validator
    real_iter = validator.iter_errors

    def iter_errors(self: Any, instance: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_meta(self.schema):
            validations[0] += 1
        return real_iter(self, instance, *args, **kwargs)

    monkeypatch.setattr(jsonschema.validators, "validator_for", validator_for)
    monkeypatch.setattr(validator, "iter_errors", iter_errors)
    engine = Engine(options(root, **extra))
    collections = [0]

    def collected(phase: str, _info: dict[str, int]) -> None:
        collections[0] += phase == "start"

    gc.callbacks.append(collected)
    try:
        plan = engine.plan()
    finally:
        gc.callbacks.remove(collected)
        monkeypatch.undo()
    return Run(
        plan, routes.requests, opened, checked[0], validations[0], recording.exchanges,
        collections[0],
    )  # fmt: skip


def options(root: Path, **extra: Any) -> Any:
    given = {
        **extra,
        "projects_root": root,
        "registry": REGISTRY,
        "base_image": BASE,
        "work_pool": POOL,
        "prefect_api_url": "http://prefect.test/api",
        "repository": "acme/costs",
    }
    return resolve_options({name: Given(value, "test") for name, value in given.items()})


def seed(plan: Plan, server: Any, oci: OciRegistry) -> None:
    """What a deploy of this plan leaves: every image under its content tag, every
    deployment written with the body the engine's own create sends."""
    from prefect_flow_deploy.clients.registration import create_payload

    # The server judges each create's job variables against the pool's template with a
    # meta-schema check per request (the cost this file keeps out of our plans): 0.1 s a
    # deployment. The engine judged them already (the first plan); seed without it.
    pool = f"work_pools/{POOL}"
    server.patch(pool, json={"base_job_template": {}}).raise_for_status()
    for image in plan.images:
        repository = image.repository.removeprefix("registry.test/")
        oci.put(repository, image.tag)
    for deployment in plan.deployments:
        spec = deployment.spec
        assert deployment.action == "create" and spec is not None, deployment
        spec = replace(
            spec,
            code_dir=spec.code_dir or "/opt/prefect/flows",
            parameter_schema=spec.parameter_schema or {"type": "object", "properties": {}},
        )
        flow = server.post("flows/", json={"name": spec.flow_name})
        flow.raise_for_status()
        created = server.post(
            "deployments/", json=create_payload(spec, uuid.UUID(flow.json()["id"]))
        )
        created.raise_for_status()
    server.patch(pool, json={"base_job_template": docker_template()}).raise_for_status()


@dataclass
class Scenario:
    first: Run  # nothing deployed
    noop: Run  # everything deployed
    preview: Run  # everything deployed, planned as a pull request's previews (none changed)


@pytest.fixture(scope="module")
def runs(server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Scenario]:
    found = {}
    for folders in (N, 10 * N):
        root = scaled.write(tmp_path_factory.mktemp(f"costs{folders}") / "projects", folders)
        oci = OciRegistry()
        oci.put("base/prefect", "3")
        with pytest.MonkeyPatch.context() as patch:
            first = plan_counted(root, server, oci, patch)
        seed(first.plan, server, oci)
        with pytest.MonkeyPatch.context() as patch:
            noop = plan_counted(root, server, oci, patch)
        with pytest.MonkeyPatch.context() as patch:
            preview = plan_counted(root, server, oci, patch, previews=True, pull_request=5)
        found[folders] = Scenario(first, noop, preview)
        server.post("deployments/filter", json={})  # (the next size's server holds both)
        for deployment in noop.plan.deployments:
            server.delete(f"deployments/{deployment.deployment_id}").raise_for_status()
    return found


def test_the_scenarios_are_what_they_say(runs: dict[int, Scenario]) -> None:
    for folders, scenario in runs.items():
        actions = Counter(d.action for d in scenario.first.plan.deployments)
        assert set(actions) == {"create"} and actions["create"] >= 4 * folders, actions
        assert {i.action for i in scenario.first.plan.images} == {"build"}
        assert not [
            p for f in scenario.first.plan.folders for p in f.problems if p.severity == "error"
        ]
        assert Counter(d.action for d in scenario.noop.plan.deployments) == {
            "unchanged": actions["create"]
        }
        assert {i.action for i in scenario.noop.plan.images} == {"exists"}


def test_the_job_template_is_checked_once_and_each_variable_set_judged_once(
    runs: dict[int, Scenario],
) -> None:
    """One meta-schema check (the pool's template), and validations bounded by the distinct
    job variable sets (the image aside), the same for N and 10·N folders: never once per
    deployment (Prefect's `validate` per deployment checked the template 150 times here)."""
    template = docker_template()["variables"]["properties"]
    defaults = sum(1 for p in template.values() if isinstance(p, dict) and "default" in p)
    for scenario in runs.values():
        first = scenario.first
        assert first.checked_schemas == 1  # the corpus' parameters need no jsonschema
        variable_sets = {
            json.dumps(
                {k: v for k, v in d.spec.job_variables.items() if k != "image"}, sort_keys=True
            )
            for d in first.plan.deployments
            if d.spec is not None
        }
        # Each default once, then each distinct set once; the corpus' parameters are plain
        # types their values have (judged without jsonschema).
        assert first.validations <= defaults + len(variable_sets) <= 3 + defaults
        assert scenario.noop.checked_schemas == scenario.noop.validations == 0  # unchanged


def test_a_no_op_plan_asks_prefect_a_constant_number_of_times(runs: dict[int, Scenario]) -> None:
    """A constant plus pages (200 deployments a page): never a request per deployment."""
    small, large = runs[N].noop, runs[10 * N].noop
    pages = -(-5 * 10 * N // prefect_api.PAGE) - 1  # more pages of deployments at 10·N
    assert large.count("prefect.test") - small.count("prefect.test") <= pages
    assert small.count("prefect.test") <= 8, small.requests


def test_a_preview_plan_adds_a_constant_number_of_prefect_requests(
    runs: dict[int, Scenario],
) -> None:
    """A pull request's preview plan asks what the no-op asks, plus the deployments of the
    preview names (one call for all): the same few for N and 10·N folders."""
    for scenario in runs.values():
        assert scenario.preview.plan.deployments == () and scenario.preview.plan.images == ()
        extra = scenario.preview.count("prefect.test") - scenario.noop.count("prefect.test")
        assert 0 <= extra <= 2, (scenario.preview.requests, scenario.noop.requests)
        assert scenario.preview.count("registry.test") == scenario.noop.count("registry.test")


def test_a_no_op_plan_asks_the_registry_at_most_once_a_folder(runs: dict[int, Scenario]) -> None:
    for folders, scenario in runs.items():
        asked = scenario.noop.count("registry.test")
        # One HEAD per folder's image, the base image's digest, the catalog (one page).
        assert asked <= folders + 2, scenario.noop.requests
        per_reference = Counter(
            k for k in scenario.noop.requests if "/manifests/" in k and "/base/" not in k
        )
        assert max(scenario.noop.requests[k] for k in per_reference) == 1


def test_the_cycle_collector_does_not_run_while_a_plan_is_made(
    runs: dict[int, Scenario],
) -> None:
    """What a plan reads lives until the plan is made: each collection would trace it all
    again (core/collector.py: 1.1-1.3 s of a 5,000-folder plan). One at most, the same for
    N and 10·N folders: the first once the collector is on again (the collector counts every
    allocation it did not see and runs at the next one). Without the pause: hundreds."""
    counted = {
        (folders, state): getattr(scenario, state).collections
        for folders, scenario in runs.items()
        for state in ("first", "noop", "preview")
    }
    assert set(counted.values()) <= {0, 1}, counted
    assert gc.isenabled()


def written_through_the_registrar(server: Any, plan: Plan, count: int) -> tuple[int, int]:
    """Write the plan's first `count` creates as a deploy does (the Registrar: Prefect's
    client, our transport, its own retries off) to the in-process server; return how many
    writes landed and how many times Prefect's settings were built meanwhile (each
    pydantic-settings model made: the whole settings model is dozens of them). One write at
    a time: the in-process server's SQLite, written from the Registrar's event loop and the
    test client's, answers "database is locked" to writes at once."""
    import pydantic_settings

    from prefect_flow_deploy.clients import registration

    built = [0]
    real_init = pydantic_settings.BaseSettings.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        real_init(self, *args, **kwargs)

    creates = []
    for deployment in [d for d in plan.deployments if d.action == "create"][:count]:
        assert deployment.spec is not None
        spec = replace(
            deployment.spec,
            code_dir=deployment.spec.code_dir or "/opt/prefect/flows",
            parameter_schema=deployment.spec.parameter_schema or {"type": "object"},
        )
        creates.append(replace(deployment, spec=spec))
    asgi = httpx.ASGITransport(app=server.app)
    settings = prefect_api.ApiSettings("http://prefect.test/api")
    # As seed(): the server's own meta-schema check of the template is not what is counted.
    pool = f"work_pools/{POOL}"
    server.patch(pool, json={"base_job_template": {}}).raise_for_status()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                registration, "async_client_transport", lambda *a, **k: AsyncRetryTransport(asgi)
            )
            patch.setattr(registration, "async_proxy_mounts", lambda *a, **k: {})
            with registration.Registrar(settings, [], 1, lambda pool: None) as registrar:
                patch.setattr(pydantic_settings.BaseSettings, "__init__", counting_init)
                futures = [registrar.submit(create) for create in creates]
                written = [future.result(timeout=120) for future in futures]
    finally:
        server.patch(pool, json={"base_job_template": docker_template()}).raise_for_status()
    return len(written), built[0]


def test_writing_deployments_builds_prefect_s_settings_a_constant_number_of_times(
    server: Any, runs: dict[int, Scenario]
) -> None:
    """Each write runs with Prefect's own retries off. Prefect's `temporary_settings` built
    its settings model again on every entry (50 ms of CPU a write, from the environment and
    TOML files): 1.5 s of a 30-folder cold deploy, once per deployment. Now once a run."""
    plan = runs[10 * N].first.plan
    small = written_through_the_registrar(server, plan, 5)
    large = written_through_the_registrar(server, plan, 50)
    assert small[0] == 5 and large[0] == 50
    assert small[1] == large[1] == 0, (small, large)


def test_each_file_is_read_once(runs: dict[int, Scenario]) -> None:
    """Readers and the content hash share each file's bytes (file_reads.py)."""
    for scenario in runs.values():
        for run in (scenario.first, scenario.noop):
            assert run.opened, "the count sees the files"
            twice = {path: n for path, n in run.opened.items() if n > 1}
            assert not twice, twice


REPLAY = r"""
import json, sys, traceback
WHY = {}
class _Watch:  # who imports a heavy module first: said when the test fails
    def find_spec(self, name, path=None, target=None):
        stack = traceback.extract_stack(limit=20)
        asked = any(f.filename == "<frozen importlib.util>" for f in stack)  # not an import
        if name in ("prefect", "docker", "jsonschema", "github", "asyncio") and not asked:
            WHY.setdefault(name, "".join(traceback.format_list(stack)))
sys.meta_path.insert(0, _Watch())
from prefect_flow_deploy import cli  # first, as the console script does
import httpx
from prefect_flow_deploy.clients import prefect_api
from prefect_flow_deploy.clients import http_pools
from prefect_flow_deploy.clients.direct_heads import DirectHeads
from prefect_flow_deploy.clients.http_retry import RetryTransport
from prefect_flow_deploy.run import engine
import gc

COLLECTIONS = []  # the cycle collector's runs once the plan started
planning = engine.Engine.plan
def plan(self):
    gc.callbacks.append(lambda phase, info: COLLECTIONS.append(phase) if phase == "start" else None)
    return planning(self)
engine.Engine.plan = plan

exchanges = json.load(open(sys.argv[1]))
answers = {}
for e in exchanges:
    answers.setdefault((e["method"], e["url"], e["body"]), []).append(e)

class Replay(httpx.BaseTransport):
    def handle_request(self, request):
        key = (request.method, str(request.url), request.content.decode())
        e = answers[key][0]
        return httpx.Response(e["status"], headers=e["headers"], content=e["content"].encode())

transport = lambda *a, **k: RetryTransport(Replay())
prefect_api.client_transport = transport
http_pools.client_transport = transport
DirectHeads.for_environment = staticmethod(lambda timeout: None)  # HEADs by the transport too
sys.argv = ["prefect-flow-deploy", *sys.argv[2:]]
try:
    cli.main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
names = sorted(n for n, module in sys.modules.items() if module is not None)  # loaded
print(json.dumps({"code": code, "modules": names, "why": WHY, "collections": len(COLLECTIONS)}),
      file=sys.stderr)
"""


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_a_no_op_plan_imports_no_prefect_docker_jsonschema_or_pygithub(
    runs: dict[int, Scenario], tmp_path: Path, command: str
) -> None:
    """In a child process, the no-op plan of 10·N folders through the command line, the
    server's and the registry's exact answers replayed. Imported besides the package and the
    standard library: typer and rich (the command line), httpx, pyyaml and griffe (parameter descriptions in docstrings, as Prefect reads
    them). Never `prefect` (1.3 s of start-up), the Docker SDK (no engine is needed to plan;
    Docker's .dockerignore rules are dockerignore.py's), jsonschema (nothing to judge) or
    PyGithub (nothing to comment), nor asyncio (no async request: 25 ms of start-up), nor
    httpx's own command line (`httpx._main`, with pygments: 30 ms), nor dulwich outside a
    git checkout. The same for a no-op `deploy`, with no engine reachable (a
    labelled leftover on the machine's engine would rightly load the SDK to sweep it)."""
    run = runs[10 * N].noop
    recorded = tmp_path / "exchanges.json"
    recorded.write_text(json.dumps(run.exchanges))
    root = run.plan.folders[0].path.parent.parent
    args = [
        "--projects-root", str(root), "--registry", REGISTRY, "--base-image", BASE,
        "--work-pool", POOL, "--prefect-api-url", "http://prefect.test/api",
        "--repository", "acme/costs", "--json",
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", REPLAY, str(recorded), command, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        # No Docker config here: with one (logins), docker-py's auth module reads it.
        env={**os.environ, "GITHUB_ACTIONS": "", "HOME": str(tmp_path), "DOCKER_CONFIG": "",
             "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"},
    )  # fmt: skip
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result["code"] == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout)
    if command == "plan":
        unchanged = printed["summary"]["deployments"]["unchanged"]
    else:
        unchanged = sum(row["status"] == "unchanged" for row in printed)
    assert unchanged == len(run.plan.deployments)
    modules = set(result["modules"])
    for heavy in ("prefect", "docker", "jsonschema", "github", "asyncio"):
        assert heavy not in modules, f"a no-op plan imported {heavy}:\n{result['why'][heavy]}"
    assert not {"httpx._main", "pygments"} & modules
    assert {"typer", "httpx", "yaml"} <= modules  # the count sees imports
    if command == "plan":  # its process ends after the output: nothing to collect before
        assert result["collections"] == 0  # (process_end.no_collection_until_exit)
    else:  # a deploy goes on: the collector on again once the plan is made
        assert result["collections"] >= 1
