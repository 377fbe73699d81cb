"""`make reliability`: real runs of the command line against the stack's registry
(127.0.0.1:5000) and Prefect server (:4200), some behind our fault-injecting proxy on
loopback (tests/fault_proxy.py), then one table of what was tried and what held.

    .venv/bin/python bench/reliability.py [--only faults,signals] [--list] [--keep]

Every scenario is a function registered with `@scenario(category)` (bench/reliability_scenarios.py)
that runs the CLI and returns `Trial`s: how many things it tried (faults the proxy injected,
signals sent, bad inputs written, concurrent runs) and how many of them held. After each
scenario the harness checks, for every checkout it touched, the invariants no scenario may
break, and counts each breach as a thing lost or left half-done:

- every deployment of the checkout's tenant on the server is whole (image, version, pull
  step, entrypoint, ownership tags all from one write) and its image is in the registry;
- no deployment the checkout had before is gone unless the scenario removed it (lost);
- the deployments of a bystander tenant and of a bystander repository in the same tenant
  (deployed once at the start, never run again) are exactly as they were;
- nothing is left behind: no temporary file of the tool in the runs' TMPDIR, no check
  container labelled with a run's process id, no build client still running;
- a re-run converges: `plan` after at most one more `deploy` says nothing to build and
  every deployment unchanged.

The "trust" scenarios (bench/reliability_trust.py) hand runs what they should not trust: an
edited plan file, forged commit records, a registry prefix shared with another repository,
a deployment whose ownership tag was taken off by hand.

Counts come from the runs and the proxy, never from this file. Isolation: every name has
this run's suffix (tenant, registry namespace, projects, work pool), as the tests do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from common import process_stats

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]
DOCKER = "/usr/bin/docker"
CHECK_LABEL = "prefect-flow-deploy.run"
RUN_TIMEOUT = 300  # one run of the CLI; a run that hangs is killed and counted as failed
MANIFESTS = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)
# category → (what is counted, what holding means): the table's rows.
CATEGORIES = {
    "faults": ("faults injected", "survived"),
    "concurrency": ("concurrent scenarios", "consistent"),
    "signals": ("signals", "clean exits"),
    "bad inputs": ("bad inputs tried", "reported at file and line"),
    "trust": ("trust cases tried (tampering, poisoning, shared prefixes, forged tags)", "held"),
}


def log(message: str) -> None:
    print(f"[reliability {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Trial:
    """What one scenario tried and how much of it held; `why` says what did not."""

    category: str
    name: str
    tried: int
    held: int
    why: list[str] = field(default_factory=list)


@dataclass
class Run:
    command: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float
    pid: int

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass(frozen=True)
class Stack:
    base_image: str
    registry: str  # host:port of the open registry
    api_url: str
    auth_registry: str
    auth_user: str
    auth_password: str

    @classmethod
    def from_env(cls) -> Stack:
        env = os.environ
        password = Path(env["PFD_AUTH_PASSWORD_FILE"]).read_text().strip()
        return cls(
            env["PFD_BASE_IMAGE"],
            env["PFD_REGISTRY"],
            env["PREFECT_API_URL"],
            env["PFD_AUTH_REGISTRY"],
            env["PFD_AUTH_USER"],
            password,
        )


def flow_source(function: str, body: str = "return 'ok'") -> str:
    return f"from prefect import flow\n\n\n@flow\ndef {function}(name: str = 'world') -> str:\n    {body}\n"


def git(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    ident = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    done = subprocess.run(
        ["git", *ident, "-C", str(path), *args],
        capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.stdout.strip()


class Checkout:
    """One repository checkout (a git repository with projects/ and the config file) that
    deploys to one tenant as one repository. Its runs get their own TMPDIR, searched for
    leftovers afterwards; `expected` holds the deployments that must stay on the server."""

    def __init__(self, world: World, name: str, tenant: str, repository: str, project: str):
        self.world, self.name = world, name
        self.path = world.work / name
        self.root = self.path / "projects"
        self.tmp = world.work / f"{name}-tmp"
        self.root.mkdir(parents=True)
        self.tmp.mkdir()
        self.tenant, self.repository, self.project = tenant, repository, project
        self.registry = f"{world.stack.registry}/{tenant}"
        self.expected: set[str] = set()
        self.failing: set[str] = set()  # folders expected to fail (bad inputs)
        self.pids: list[int] = []
        self.dirty = False
        self.tags("v0")
        git(self.path, "init", "-q")

    def write(self, folder: str, function: str, body: str = "return 'ok'", **files: str) -> Path:
        path = self.root / self.project / folder
        path.mkdir(parents=True, exist_ok=True)
        (path / "flow.py").write_text(flow_source(function, body))
        for name, text in files.items():
            (path / name).write_text(text)
        self.expected.add(f"{function.replace('_', '-')}/{self.project}")
        return path

    def tags(self, tag: str) -> None:
        """A deployment-only change: every deployment's tags, no image rebuilt."""
        config = {"tenants": {self.tenant: {"tags": [tag]}}}
        (self.path / "prefect-flow-deploy.yaml").write_text(json.dumps(config))

    def commit(self, message: str, when: float | None = None) -> str:
        """A commit of everything; `when`: its time (a later commit is later by the clock)."""
        git(self.path, "add", "-A")
        stamp = f"@{int(when or time.time())} +0000"
        git(
            self.path,
            "commit",
            "-qm",
            message,
            "--allow-empty",
            env={"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp},
        )
        return git(self.path, "rev-parse", "HEAD")

    def args(self, registry: str | None = None, api_url: str | None = None) -> list[str]:
        return [
            "--projects-root", str(self.root), "--registry", registry or self.registry,
            "--base-image", self.world.stack.base_image, "--tenant", self.tenant,
            "--work-pool", self.world.work_pool, "--create-work-pool",
            "--repository", self.repository,
            "--prefect-api-url", api_url or self.world.stack.api_url,
        ]  # fmt: skip

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        return {**env, "TMPDIR": str(self.tmp), **(extra or {})}

    def start(
        self,
        command: str,
        *extra: str,
        registry: str | None = None,
        api_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]:
        self.dirty = True
        process = subprocess.Popen(
            [*CLI, command, *self.args(registry, api_url), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env(env), cwd=self.path, start_new_session=True,
        )  # fmt: skip
        self.pids.append(process.pid)
        return process

    def run(self, command: str, *extra: str, **kwargs: Any) -> Run:
        started = time.monotonic()
        process = self.start(command, *extra, **kwargs)
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            stderr += f"\n[reliability] killed after {RUN_TIMEOUT} s"
        run = Run(process.args, process.returncode, stdout, stderr,  # type: ignore[arg-type]
                  time.monotonic() - started, process.pid)  # fmt: skip
        self.world.runs += 1
        logs = self.world.work / "logs"
        logs.mkdir(exist_ok=True)
        stem = logs / f"{self.world.runs:03}-{self.name}-{command}"
        stem.with_suffix(".out").write_text(stdout)
        stem.with_suffix(".err").write_text(stderr)
        return run


class World:
    """This run's isolated names and the clients the checks read the server and registry with."""

    def __init__(self, stack: Stack, work: Path) -> None:
        self.stack, self.work = stack, work
        self.suffix = uuid.uuid4().hex[:6]
        self.work_pool = f"rel-{self.suffix}"
        self.api = httpx.Client(base_url=stack.api_url.rstrip("/") + "/", timeout=60)
        self.registry_api = httpx.Client(base_url=f"http://{stack.registry}", timeout=60)
        self.checkouts: list[Checkout] = []
        self.bystanders: dict[str, dict[str, Any]] = {}
        self.runs = 0
        self.closing = contextlib.ExitStack()  # proxies that live as long as the run
        self.registry_proxy: Any = None  # a FaultProxy in front of the registry, and its
        self.registry_proxy_host = ""  # host:port, for images whose names must not change

    def checkout(self, name: str, tenant: str | None = None, repository: str | None = None,
                 project: str | None = None) -> Checkout:  # fmt: skip
        made = Checkout(
            self,
            name,
            tenant or f"rel{self.suffix}",
            repository or f"acme/rel-{self.suffix}",
            project or f"rp{self.suffix}",
        )
        self.checkouts.append(made)
        return made

    # -- what the server and the registry hold -------------------------------------------

    def deployments(self, tenant: str) -> list[dict[str, Any]]:
        body = {"deployments": {"tags": {"all_": [f"tenant:{tenant}"]}}, "limit": 200}
        for attempt in range(6):  # the shared SQLite server answers 503 while it is busy
            response = self.api.post("deployments/filter", json=body)
            if response.status_code not in (429, 502, 503, 504):
                break
            time.sleep(2**attempt)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def deployment(self, full_name: str) -> dict[str, Any] | None:
        flow, _, name = full_name.partition("/")
        response = self.api.get(f"deployments/name/{flow}/{name}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def flow_names(self, flow_ids: set[str]) -> dict[str, str]:
        body = {"flows": {"id": {"any_": sorted(flow_ids)}}}
        response = self.api.post("flows/filter", json=body)
        response.raise_for_status()
        return {f["id"]: f["name"] for f in response.json()}

    def image_exists(self, reference: str) -> bool:
        """In the registry's storage, asked directly (an image pushed through a proxy on
        another port is stored there too)."""
        _host, _, rest = reference.partition("/")
        repository, _, tag = rest.rpartition(":")
        response = self.registry_api.head(
            f"/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFESTS}
        )
        return response.status_code == 200

    def snapshot_bystanders(self, names: list[str]) -> None:
        for name in names:
            found = self.deployment(name)
            if found is None:
                raise RuntimeError(f"bystander {name} was not deployed")
            self.bystanders[name] = found


# -- the invariants --------------------------------------------------------------------------

WHOLE_TAGS = ("managed-by:prefect-flow-deploy", "tenant:", "repo:", "project:", "folder:")


def half_written(
    world: World, name: str, deployment: dict[str, Any], checkout: Checkout
) -> list[str]:
    """What is missing from a deployment that one whole write would have set."""
    problems = []
    image = (deployment.get("job_variables") or {}).get("image")
    if not image:
        problems.append(f"{name}: no image in its job variables")
    elif not world.image_exists(image):
        problems.append(f"{name}: its image {image} is not in the registry")
    elif deployment.get("version") != image.rpartition(":")[2]:
        problems.append(f"{name}: version {deployment.get('version')} is not its image's tag")
    if not deployment.get("pull_steps") or not deployment.get("entrypoint"):
        problems.append(f"{name}: no pull step or entrypoint")
    tags = deployment.get("tags") or []
    problems += [
        f"{name}: no {t}… tag" for t in WHOLE_TAGS if not any(x.startswith(t) for x in tags)
    ]
    versions = [t for t in tags if re.fullmatch(r"v\d+", t)]
    if len(versions) != 1:  # the config file's tags of one write, never a mix of two
        problems.append(f"{name}: tags of {len(versions)} writes: {versions}")
    if f"tenant:{checkout.tenant}" not in tags:
        problems.append(f"{name}: not tagged tenant:{checkout.tenant}")
    return problems


def audit(world: World, checkout: Checkout) -> list[str]:
    """Lost or half-done things of one checkout, as the server and registry hold them."""
    held = world.deployments(checkout.tenant)
    names = world.flow_names({d["flow_id"] for d in held}) if held else {}
    present = {f"{names.get(d['flow_id'], '?')}/{d['name']}": d for d in held}
    problems = [f"lost: {name}" for name in sorted(checkout.expected - set(present))]
    for full, deployment in sorted(present.items()):
        if f"repo:{checkout.repository}" in (deployment.get("tags") or []):
            problems += [
                f"half-written {p}" for p in half_written(world, full, deployment, checkout)
            ]
    return problems + leftovers(checkout)


def leftovers(checkout: Checkout) -> list[str]:
    """Temporary files in the runs' TMPDIR, check containers and build clients of its runs."""
    found = [f"left on disk: {p.name}" for p in sorted(checkout.tmp.iterdir())]
    labels = subprocess.run(
        [DOCKER, "ps", "-a", "--filter", f"label={CHECK_LABEL}",
         "--format", f'{{{{.Label "{CHECK_LABEL}"}}}} {{{{.Names}}}}'],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    pids = {str(p) for p in checkout.pids}
    # The label's value is the run's id, `<pid>.<start time>.<host>` (leftovers.RunId).
    found += [
        f"check container left: {line}" for line in labels if line.split(".")[0] in pids and line
    ]
    found += [f"process left: {pid}" for pid in descendants_of(checkout.pids)]
    return found


def descendants_of(pids: list[int]) -> list[int]:
    """Live processes whose session is one of the runs' (each run starts a session)."""
    # fields[3]: the session id; fields[0]: the state ("Z": a zombie, already ended)
    return [pid for pid, fields in process_stats() if int(fields[3]) in pids and fields[0] != "Z"]


def bystanders_touched(world: World) -> list[str]:
    touched = []
    for name, before in world.bystanders.items():
        after = world.deployment(name)
        if after is None:
            touched.append(f"lost: bystander {name} deleted")
        elif (after["updated"], after["tags"], after["job_variables"]) != (
            before["updated"], before["tags"], before["job_variables"]
        ):  # fmt: skip
            touched.append(f"bystander {name} changed")
    return touched


def converged(run: Run, checkout: Checkout) -> list[str]:
    """What a `plan --json` still wants to do (folders expected to fail excepted)."""
    if not run.stdout.strip():
        return [f"plan printed no JSON (exit {run.code}): {run.stderr[-300:]}"]
    pending = []
    for item in run.json()["items"]:
        folder = item["folder"].rsplit("/", 1)[-1]
        if folder in checkout.failing:
            continue
        if item.get("image_action") == "build" or item.get("deployment_action") not in (
            "unchanged",
            None,
        ):
            pending.append(
                f"{item['folder']}: {item.get('image_action')}/{item.get('deployment_action')}"
            )
    return pending


def settle(world: World, checkout: Checkout) -> tuple[list[str], list[str]]:
    """A re-run converges: a plan, and when it has work, one deploy and a plan again.
    Returns (what a re-run that succeeded left undone: lost or half-done; what a re-run
    that failed, saying so, left: the server refused it, a note)."""
    pending = converged(checkout.run("plan", "--json"), checkout)
    if not pending:
        return [], []
    rerun = checkout.run("deploy")
    pending = converged(checkout.run("plan", "--json"), checkout)
    if rerun.code == 0:
        return [f"did not converge though the re-run succeeded: {p}" for p in pending], []
    errors = [x for x in rerun.stderr.splitlines() if x.startswith("error")][:2]
    return [], [f"re-run failed (exit {rerun.code}: {' / '.join(errors)}): {p}" for p in pending]


# -- scenarios ---------------------------------------------------------------------------

Scenario = Callable[[World], list[Trial]]
SCENARIOS: list[tuple[str, str, Scenario]] = []


def scenario(category: str) -> Callable[[Scenario], Scenario]:
    """Registers a scenario; the order of registration is the order of the runs."""

    def register(function: Scenario) -> Scenario:
        SCENARIOS.append((category, function.__name__, function))
        return function

    return register


@dataclass
class Outcome:
    category: str
    scenario: str
    trials: list[Trial]
    lost: list[str]
    notes: list[str]  # re-runs that failed and said so (a server refusing under load)
    seconds: float


def run_scenario(world: World, category: str, name: str, function: Scenario) -> Outcome:
    log(f"{category}: {name}")
    started = time.monotonic()
    for checkout in world.checkouts:
        checkout.dirty, checkout.pids = False, []
    try:
        trials = function(world)
    except Exception as exc:  # a scenario that breaks is a failure of the table, not a crash
        trials = [Trial(category, name, 1, 0, [f"scenario raised {exc!r}"])]
    lost, notes = [], []
    for checkout in [c for c in world.checkouts if c.dirty]:
        try:
            undone, failed = settle(world, checkout)
            problems = undone + audit(world, checkout)
        except Exception as exc:  # the checks could not run: nothing is known to be whole
            problems, failed = [f"the checks failed: {exc!r}"], []
        lost += [f"{checkout.name}: {p}" for p in problems]
        notes += [f"{checkout.name}: {p}" for p in failed]
    lost += bystanders_touched(world)
    outcome = Outcome(category, name, trials, lost, notes, time.monotonic() - started)
    for trial in trials:
        mark = "ok" if trial.held == trial.tried else "NOT HELD"
        log(f"  {trial.name}: {trial.held}/{trial.tried} {mark} {'; '.join(trial.why)}")
    for problem in lost:
        log(f"  LOST OR HALF-DONE: {problem}")
    for note in notes:
        log(f"  re-run: {note}")
    return outcome


def table(outcomes: list[Outcome]) -> str:
    lines = ["| what | tried | held | lost or left half-done |", "|---|---:|---:|---:|"]
    for category, (counted, held) in CATEGORIES.items():
        mine = [o for o in outcomes if o.category == category]
        if not mine:
            continue
        tried = sum(t.tried for o in mine for t in o.trials)
        kept = sum(t.held for o in mine for t in o.trials)
        lost = sum(len(o.lost) for o in mine)
        lines.append(f"| {counted} / {held} | {tried} | {kept} | {lost} |")
    total = sum(len(o.lost) for o in outcomes)
    lines.append(f"| **things lost or left half-done (must be 0)** | | | **{total}** |")
    return "\n".join(lines)


def main() -> int:
    import reliability_scenarios
    import reliability_trust  # noqa: F401  (its scenarios register on import, after the others)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated categories or scenario names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or {s[0], s[1]} & set(args.only.split(","))]
    if args.list:
        for category, name, function in SCENARIOS:
            print(f"{category:12} {name:40} {(function.__doc__ or '').strip().splitlines()[0]}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="pfd-reliability-"))
    world = World(Stack.from_env(), work)
    started = time.monotonic()
    log(f"work folder {work}, suffix {world.suffix}")
    try:
        reliability_scenarios.set_up(world)
        outcomes = [run_scenario(world, *s) for s in chosen]
    finally:  # interrupted: no run of ours keeps going (each is a session of its own)
        for pid in descendants_of([p for c in world.checkouts for p in c.pids]):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        world.closing.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    print(table(outcomes))
    print(f"\n{len(outcomes)} scenarios, {world.runs} runs of the CLI, {seconds:.0f} s")
    for outcome in outcomes:
        for trial in outcome.trials:
            if trial.held < trial.tried:
                print(f"- not held: {outcome.category}/{trial.name}: {'; '.join(trial.why)}")
        for problem in outcome.lost:
            print(f"- lost or half-done after {outcome.scenario}: {problem}")
        for note in outcome.notes:
            print(f"- re-run after {outcome.scenario} failed, nothing half-done: {note}")
    save(outcomes, seconds, world)
    return 1 if any(o.lost for o in outcomes) else 0


def save(outcomes: list[Outcome], seconds: float, world: World) -> None:
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"reliability-{time.strftime('%Y%m%d-%H%M%S')}.json"
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "loadavg": os.getloadavg()}  # fmt: skip
    data = {"seconds": seconds, "runs": world.runs, "machine": machine,
            "outcomes": [asdict(o) for o in outcomes]}  # fmt: skip
    path.write_text(json.dumps(data, indent=2))
    log(f"written {path.relative_to(ROOT)}")


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


class StderrReader:
    """Collects a running process's stderr lines in a thread, to wait for one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        stream = process.stderr
        self.thread = threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")))
        self.thread.start()

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def text(self) -> str:
        self.thread.join(timeout=10)
        return "".join(self.lines)


def send(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    os.kill(process.pid, signum)


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
    import reliability  # this file as a module: the scenarios register into its SCENARIOS

    sys.exit(reliability.main())
