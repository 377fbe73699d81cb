"""The scenarios of `make reliability` (bench/reliability.py), in the order they run.

A scenario runs the command line for real and returns what it tried and what held; the
harness then checks the invariants (nothing lost or half-written, nothing left behind, a
re-run converges, bystanders untouched) on every checkout it ran. To add one: a function
`def name(world: World) -> list[Trial]` decorated with `@scenario("<category>")`, with
its own checkout (`world.checkout(...)`, its own tenant) when it would disturb the others.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.bad_inputs import CASES, CONFIG, GOOD, Case, expected_path, write_case, write_config
from tests.fault_proxy import DELAY, FOREVER, LOST, RESET, Fault, FaultProxy, fault_proxy
from tests.integration.test_bad_inputs import annotations

from reliability import (
    Checkout,
    Run,
    StderrReader,
    Trial,
    World,
    descendants_of,
    scenario,
    wait_for,
)

UPDATE = r"^/api/deployments/[0-9a-f-]{36}$"  # PATCH: one deployment's whole update
CREATE = r"^/api/deployments/?$"  # POST: create (an upsert by flow and name)
REGISTRY = "http://127.0.0.1:5000"


def set_up(world: World) -> None:
    """The main checkout (three flows), and two bystanders deployed once and never again:
    another repository in the same tenant and project, and another tenant. Every run of the
    main checkout prunes, so a prune that reached past its own repository would show."""
    main = world.checkout("main")
    for name in ("alpha", "beta", "gamma"):
        main.write(name, name)
    main.commit("flows")
    other_repo = world.checkout(
        "bystander-repo", tenant=main.tenant, repository=f"acme/rel-other-{world.suffix}"
    )
    other_repo.write("bystander", "bystander")
    other_tenant = world.checkout("bystander-tenant", tenant=f"rel{world.suffix}x",
                                  project=f"rx{world.suffix}")  # fmt: skip
    other_tenant.write("other", "other")
    runs = parallel([lambda c=c: c.run("deploy") for c in (main, other_repo, other_tenant)])
    for checkout, run in zip((main, other_repo, other_tenant), runs, strict=True):
        if run.code != 0:
            raise RuntimeError(f"set-up deploy of {checkout.name} failed:\n{run.stderr}")
    world.snapshot_bystanders(sorted(other_repo.expected | other_tenant.expected))
    world.checkouts = [main]
    url, world.registry_proxy = world.closing.enter_context(fault_proxy(REGISTRY, []))
    world.registry_proxy_host = url.removeprefix("http://").rstrip("/")


def parallel(calls: list[Callable[[], Run]]) -> list[Run]:
    results: list[Run | None] = [None] * len(calls)

    def one(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def main_checkout(world: World) -> Checkout:
    return next(c for c in world.checkouts if c.name == "main")


def tagged(world: World, checkout: Checkout, tag: str) -> list[str]:
    """The checkout's deployments that do not carry `tag` (the last config change)."""
    held = world.deployments(checkout.tenant)
    flows = world.flow_names({d["flow_id"] for d in held}) if held else {}
    return [
        f"{flows[d['flow_id']]}/{d['name']}"
        for d in held
        if f"repo:{checkout.repository}" in d["tags"] and tag not in d["tags"]
    ]


def deployment_ids(world: World, checkout: Checkout) -> dict[str, str]:
    """Flow name → the path of its deployment's writes, for faults aimed at one of them."""
    held = world.deployments(checkout.tenant)
    flows = world.flow_names({d["flow_id"] for d in held}) if held else {}
    return {flows[d["flow_id"]]: f"^/api/deployments/{d['id']}$" for d in held}


def faults_trial(name: str, proxy: FaultProxy, run: Run, why: list[str]) -> Trial:
    """Every fault the proxy injected survived when the run ended as it should have."""
    injected = len(proxy.faults)
    if not injected:
        why = [*why, "no fault was injected (the scenario did not reach its requests)"]
    return Trial("faults", name, max(injected, 1), 0 if why else injected, why)


def outcome(run: Run, code: int) -> list[str]:
    if run.code == code:
        return []
    errors = [line for line in run.stderr.splitlines() if line.startswith("error")]
    return [f"exit {run.code}, expected {code}: {' / '.join(errors[:3]) or last_lines(run.stderr)}"]


def last_lines(text: str, count: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-count:])


# -- faults: the Prefect API ------------------------------------------------------------


@scenario("faults")
def prefect_reads_while_planning(world: World) -> list[Trial]:
    """503, 429 with Retry-After, a reset connection, 504 and 502 on the plan's reads."""
    main = main_checkout(world)
    script: list[Fault | tuple[int, str | None]] = [
        (503, None), (429, "1"), (RESET, None), (504, "0"), (502, "0")
    ]  # fmt: skip
    with fault_proxy(world.stack.api_url, script) as (url, proxy):
        run = main.run("plan", "--json", api_url=url)
    from reliability import converged

    why = outcome(run, 0) or [f"plan differs: {p}" for p in converged(run, main)]
    return [faults_trial("reads while planning", proxy, run, why)]


@scenario("faults")
def prefect_writes(world: World) -> list[Trial]:
    """Faults on deployment writes: 503, 429, a reset before the server saw the request,
    and the answer lost after the server wrote (the retry repeats a write that happened)."""
    main = main_checkout(world)
    main.tags("v1")
    ids = deployment_ids(world, main)  # at most two faults in a row on one write
    script: list[Fault | tuple[int, str | None]] = [
        Fault(503, None, "PATCH", ids["alpha"]),
        Fault(LOST, None, "PATCH", ids["alpha"]),
        Fault(429, "1", "PATCH", ids["beta"]),
        Fault(502, "0", "PATCH", ids["beta"]),
        Fault(RESET, None, "PATCH", ids["gamma"]),
    ]
    with fault_proxy(world.stack.api_url, script) as (url, proxy):
        run = main.run("deploy", "--prune", api_url=url)
    why = outcome(run, 0) + [f"{n} not written" for n in tagged(world, main, "v1")]
    return [faults_trial("deployment writes", proxy, run, why)]


@dataclass
class Outage(Fault):
    """Every matching request gets the fault for `seconds` from the first one."""

    seconds: float = 10.0
    started: float | None = None

    def matches(self, method: str, path: str, passed: list[str] | None = None) -> bool:
        if not super().matches(method, path, passed):
            return False
        self.started = self.started or time.monotonic()
        return time.monotonic() < self.started + self.seconds


@scenario("faults")
def prefect_outage(world: World) -> list[Trial]:
    """The Prefect API answers 503 to every write for 10 s (a server restarting)."""
    main = main_checkout(world)
    main.tags("v2")
    outage = Outage(503, None, "PATCH", UPDATE, times=FOREVER)
    with fault_proxy(world.stack.api_url, [outage]) as (url, proxy):
        run = main.run("deploy", "--prune", api_url=url)
    why = outcome(run, 0) + [f"{n} not written" for n in tagged(world, main, "v2")]
    if not proxy.faults:
        why.append("no write met the outage")
    return [Trial("faults", "a 10 s outage", 1, 0 if why else 1, why)]


@scenario("faults")
def prefect_latency(world: World) -> list[Trial]:
    """Slow answers: 3 s of delay on the first four requests, reads and writes."""
    main = main_checkout(world)
    main.tags("v3")
    script: list[Fault | tuple[int, str | None]] = [Fault(DELAY, "3", times=4)]
    with fault_proxy(world.stack.api_url, script) as (url, proxy):
        run = main.run("deploy", "--prune", api_url=url)
    why = outcome(run, 0) + [f"{n} not written" for n in tagged(world, main, "v3")]
    return [faults_trial("latency", proxy, run, why)]


@scenario("faults")
def work_pool_read_500(world: World) -> list[Trial]:
    """One 500 on the work pool's read (it used to fail every deployment of the run)."""
    main = main_checkout(world)
    main.tags("v4")
    script: list[Fault | tuple[int, str | None]] = [Fault(500, None, "GET", r"/work_pools/")]
    with fault_proxy(world.stack.api_url, script) as (url, proxy):
        run = main.run("deploy", "--prune", api_url=url)
    why = outcome(run, 0) + [f"{n} not written" for n in tagged(world, main, "v4")]
    return [faults_trial("a 500 on the work pool", proxy, run, why)]


@scenario("faults")
def prefect_never_answers(world: World) -> list[Trial]:
    """A Prefect API that answers 503 for ever: exit 6, "cannot reach the Prefect API"."""
    main = main_checkout(world)
    with fault_proxy(world.stack.api_url, [(503, "0")], repeat=True) as (url, _proxy):
        run = main.run("plan", api_url=url)
    why = outcome(run, 6)
    if "Prefect API" not in run.stderr:
        why.append(f"no message naming the Prefect API: {last_lines(run.stderr)}")
    return [Trial("faults", "a Prefect API that never answers", 1, 0 if why else 1, why)]


# -- faults: the registry ----------------------------------------------------------------


def registry_checkout(world: World) -> Checkout:
    """A checkout whose registry is the long-lived proxy in front of :5000 (its images keep
    their names from one scenario to the next), with the base image's layers mounted into
    its repositories so that pushes through the proxy do not upload 500 MB."""
    found = next((c for c in world.checkouts if c.name == "registry"), None)
    if found:
        return found
    checkout = world.checkout("registry", tenant=f"rel{world.suffix}r", project=f"rg{world.suffix}")
    checkout.registry = f"{world.registry_proxy_host}/{checkout.tenant}"
    for name in ("one", "two"):
        checkout.write(name, name)
        mount_base_layers(world, f"{checkout.tenant}/{checkout.project}/{name}")
    return checkout


def mount_base_layers(world: World, repository: str) -> None:
    base = world.stack.base_image
    source, _, tag = base.partition("/")[2].rpartition(":")
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    with httpx.Client(base_url=REGISTRY, timeout=60) as client:
        manifest = client.get(f"/v2/{source}/manifests/{tag}", headers={"Accept": accept})
        manifest.raise_for_status()
        for layer in manifest.json()["layers"]:
            mounted = client.post(
                f"/v2/{repository}/blobs/uploads/",
                params={"mount": layer["digest"], "from": source},
            )
            if mounted.status_code != 201:
                raise RuntimeError(f"mounting {layer['digest']} into {repository}: {mounted}")


def armed(proxy: FaultProxy, script: list[Fault]) -> None:
    with proxy.lock:
        proxy.script, proxy.faults = list(script), []


@scenario("faults")
def registry_push_faults(world: World) -> list[Trial]:
    """Pushes through the proxy: a 503 on the first manifest PUT, a reset connection on a
    layer upload, a 503 on the registry's answer whether an image exists."""
    checkout = registry_checkout(world)
    proxy = world.registry_proxy
    armed(proxy, [
        Fault(503, None, "HEAD", r"/manifests/"),
        Fault(RESET, None, "PATCH", r"/blobs/uploads/"),
        Fault(503, None, "PUT", r"/manifests/"),
    ])  # fmt: skip
    run = checkout.run("deploy", "--prune")
    why = outcome(run, 0)
    missing = checkout.expected - {f"{n}/{checkout.project}" for n in names_of(world, checkout)}
    why += [f"{n} not deployed" for n in sorted(missing)]
    return [faults_trial("registry reads and pushes", proxy, run, why)]


def names_of(world: World, checkout: Checkout) -> list[str]:
    held = world.deployments(checkout.tenant)
    flows = world.flow_names({d["flow_id"] for d in held}) if held else {}
    return [flows[d["flow_id"]] for d in held]


@scenario("faults")
def registry_refuses_every_push(world: World) -> list[Trial]:
    """A registry that refuses every manifest PUT: exit 5 (the registry), as documented."""
    checkout = registry_checkout(world)
    changed = checkout.root / checkout.project / "one" / "flow.py"
    changed.write_text(changed.read_text() + "# changed\n")
    proxy = world.registry_proxy
    armed(proxy, [Fault(503, None, "PUT", r"/manifests/", times=FOREVER)])
    try:
        run = checkout.run("deploy", "--prune")
    finally:
        armed(proxy, [])
    why = outcome(run, 5)
    return [Trial("faults", "a registry refusing every push", 1, 0 if why else 1, why)]


# -- signals -----------------------------------------------------------------------------


def signal_checkout(world: World) -> Checkout:
    """Its own tenant: a folder whose build takes 12 s (`RUN sleep`), and a quick one."""
    found = next((c for c in world.checkouts if c.name == "signals"), None)
    if found:
        return found
    checkout = world.checkout("signals", tenant=f"rel{world.suffix}s", project=f"rs{world.suffix}")
    checkout.write("quick", "quick")
    checkout.write("slow", "slow", Dockerfile=slow_dockerfile(world.suffix))
    return checkout


LOGIN = ["--registry-username", "someone", "--registry-password", "pw-reliability-canary"]


def clean_exit(
    checkout: Checkout,
    process: subprocess.Popen[str],
    reader: StderrReader,
    signum: signal.Signals,
    sent: float,
) -> list[str]:
    """Exit 128+N within 10 s, said so, and nothing of the run left: the login's temporary
    Docker config, its build clients, its check containers."""
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return [f"still running 30 s after {signum.name}"]
    seconds = time.monotonic() - sent
    text = reader.text
    why = []
    if code != 128 + signum:
        why.append(f"exit {code}, expected {128 + signum}")
    if seconds >= 10:
        why.append(f"exited {seconds:.1f} s after the signal")
    if f"interrupted by {signum.name}" not in text:
        why.append(f"no word of the interruption: {last_lines(text)}")
    if "pw-reliability-canary" in text:
        why.append("the registry password was printed")
    left = [p.name for p in checkout.tmp.iterdir()]
    if left:
        why.append(f"left on disk: {left}")
    alive = descendants_of([process.pid])
    if alive:
        why.append(f"{len(alive)} processes of the run still running")
    return why


def slow_dockerfile(salt: str) -> str:
    """A build that takes 12 s; `salt` in the RUN, or BuildKit's cache answers for it."""
    return f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN echo {salt} && sleep 12\nCOPY . /opt/prefect/flows/slow\n"


def changed_slow_folder(checkout: Checkout, why: str) -> None:
    """New content for the slow folder: a build to interrupt (the last one completed)."""
    (checkout.root / checkout.project / "slow" / "Dockerfile").write_text(slow_dockerfile(why))


def signal_mid_build(world: World, signum: signal.Signals) -> Trial:
    checkout = signal_checkout(world)
    changed_slow_folder(checkout, f"{signum.name}-{world.suffix}")
    process = checkout.start("deploy", "--prune", *LOGIN)
    reader = StderrReader(process)
    if not wait_for(lambda: reader.has(f"building {checkout.project}/slow"), 120):
        process.kill()
        return Trial("signals", f"{signum.name} mid-build", 1, 0, ["the build never started"])
    time.sleep(3)  # its `sleep 12` is under way
    sent = time.monotonic()
    os.kill(process.pid, signum)
    why = clean_exit(checkout, process, reader, signum, sent)
    return Trial("signals", f"{signum.name} mid-build", 1, 0 if why else 1, why)


@scenario("signals")
def sigterm_mid_build(world: World) -> list[Trial]:
    """SIGTERM (a cancelled job, `timeout`) while a folder builds."""
    return [signal_mid_build(world, signal.SIGTERM)]


@scenario("signals")
def sigint_mid_build(world: World) -> list[Trial]:
    """SIGINT (Ctrl-C) while a folder builds."""
    return [signal_mid_build(world, signal.SIGINT)]


def signal_mid_writes(world: World, signum: signal.Signals, tag: str) -> Trial:
    """Writes slowed to 2 s each by the proxy; the signal when the second is in flight."""
    main = main_checkout(world)
    main.tags(tag)
    name = f"{signum.name} between deployment writes"
    with fault_proxy(world.stack.api_url, [Fault(DELAY, "2", "PATCH", UPDATE, times=FOREVER)]) as (
        url,
        proxy,
    ):
        process = main.start("deploy", "--prune", api_url=url)
        reader = StderrReader(process)
        if not wait_for(lambda: len(proxy.faults) >= 2, 120):
            process.kill()
            return Trial("signals", name, 1, 0, [f"no second write: {last_lines(reader.text)}"])
        sent = time.monotonic()
        os.kill(process.pid, signum)
        why = clean_exit(main, process, reader, signum, sent)
    return Trial("signals", name, 1, 0 if why else 1, why)


@scenario("signals")
def sigterm_between_writes(world: World) -> list[Trial]:
    """SIGTERM while deployments are being written: each is whole, old or new."""
    return [signal_mid_writes(world, signal.SIGTERM, "v5")]


@scenario("signals")
def sigint_between_writes(world: World) -> list[Trial]:
    """SIGINT while deployments are being written."""
    return [signal_mid_writes(world, signal.SIGINT, "v6")]


@scenario("signals")
def sigkill_then_next_run(world: World) -> list[Trial]:
    """SIGKILL of the run's whole process group mid-build (nothing can clean up then): the
    next run converges and removes what the killed one left (its login's Docker config)."""
    checkout = signal_checkout(world)
    changed_slow_folder(checkout, f"SIGKILL-{world.suffix}")
    process = checkout.start("deploy", "--prune", *LOGIN)
    reader = StderrReader(process)
    if not wait_for(lambda: reader.has(f"building {checkout.project}/slow"), 120):
        process.kill()
        return [Trial("signals", "SIGKILL, then a run", 1, 0, ["the build never started"])]
    time.sleep(3)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    reader.thread.join(timeout=10)
    left_by_kill = sorted(p.name for p in checkout.tmp.iterdir())
    after = checkout.run("deploy", "--prune", *LOGIN)
    why = outcome(after, 0)
    still = sorted(p.name for p in checkout.tmp.iterdir())
    if still:
        why.append(f"the next run left the killed run's {still} on disk (it left {left_by_kill})")
    return [Trial("signals", "SIGKILL, then a run", 1, 0 if why else 1, why)]


# -- concurrency -------------------------------------------------------------------------


def deployed_images(world: World, checkout: Checkout) -> dict[str, str]:
    held = world.deployments(checkout.tenant)
    flows = world.flow_names({d["flow_id"] for d in held}) if held else {}
    return {flows[d["flow_id"]]: d["job_variables"].get("image", "") for d in held}


def wanted_images(run: Run) -> dict[str, str]:
    return {row["flow"]: row["image"] for row in run.json() if row.get("image")}


@scenario("concurrency")
def one_checkout_twice_at_once(world: World) -> list[Trial]:
    """Two deploys of the same change at once (a re-run while the first still runs)."""
    main = main_checkout(world)
    alpha = main.root / main.project / "alpha" / "flow.py"
    alpha.write_text(alpha.read_text() + "# twice\n")
    runs = parallel([lambda: main.run("deploy", "--json", "--prune")] * 2)
    why = [w for run in runs for w in outcome(run, 0)]
    if not why:
        wanted = wanted_images(runs[0])
        if wanted_images(runs[1]) != wanted:
            why.append("the two runs wanted different images")
        held = deployed_images(world, main)
        why += [
            f"{f}: {held.get(f)} deployed, {i} wanted"
            for f, i in wanted.items()
            if held.get(f) != i
        ]
    return [Trial("concurrency", "one checkout twice at once", 1, 0 if why else 1, why)]


@scenario("concurrency")
def two_tenants_at_once(world: World) -> list[Trial]:
    """A deploy to another tenant (a first deploy, building) while the main one updates."""
    main = main_checkout(world)
    main.tags("v7")
    twin = world.checkout("twin", tenant=f"rel{world.suffix}t", project=f"rt{world.suffix}")
    twin.write("first", "first")
    twin.write("second", "second")
    runs = parallel([lambda: main.run("deploy", "--prune"), lambda: twin.run("deploy", "--prune")])
    why = [w for run in runs for w in outcome(run, 0)]
    why += [f"{n} not written" for n in tagged(world, main, "v7")]
    missing = twin.expected - {f"{n}/{twin.project}" for n in names_of(world, twin)}
    why += [f"{n} not deployed" for n in sorted(missing)]
    return [Trial("concurrency", "two tenants at once", 1, 0 if why else 1, why)]


@scenario("concurrency")
def two_repositories_race_for_one_name(world: World) -> list[Trial]:
    """Two repositories, same tenant, project and flow name, deploying at once: one owns
    the deployment, the other fails naming it; never one's image under the other's name."""
    tenant, project = f"rel{world.suffix}c", f"rc{world.suffix}"
    first = world.checkout("race-a", tenant=tenant, project=project,
                           repository=f"acme/race-a-{world.suffix}")  # fmt: skip
    second = world.checkout("race-b", tenant=tenant, project=project,
                            repository=f"acme/race-b-{world.suffix}")  # fmt: skip
    first.write("race", "race", "return 'a'")
    second.write("race", "race", "return 'b'")
    runs = parallel([lambda: first.run("deploy", "--json"), lambda: second.run("deploy", "--json")])
    winners = [c for c, r in zip((first, second), runs, strict=True) if r.code == 0]
    held_tags = (world.deployment(f"race/{project}") or {}).get("tags", [])
    for checkout in (first, second):  # the re-runs: the owner's converge, the other's fails
        if f"repo:{checkout.repository}" not in held_tags:
            checkout.expected, checkout.failing = set(), {"race"}
    why = []
    if len(winners) != 1:
        why.append(
            f"exits {[r.code for r in runs]}: {len(winners)} runs think they own race/{project}"
        )
    else:
        winner, run = winners[0], runs[0] if winners[0] is first else runs[1]
        lost_run = runs[1] if winner is first else runs[0]
        if "belongs to repository" not in lost_run.stderr:
            why.append(f"the loser does not name the owner: {last_lines(lost_run.stderr)}")
        held = world.deployment(f"race/{project}") or {}
        if f"repo:{winner.repository}" not in held.get("tags", []):
            why.append(f"owned by {held.get('tags')}, not {winner.repository}")
        if held.get("job_variables", {}).get("image") != wanted_images(run).get("race"):
            why.append("the deployment runs another image than its owner's")
    return [Trial("concurrency", "two repositories race for one name", 1, 0 if why else 1, why)]


@scenario("concurrency")
def older_checkout_finishing_last(world: World) -> list[Trial]:
    """A run from an older commit that finishes after a newer one must not put the old
    image back (the older run skips with a notice)."""
    newer = world.checkout("history", tenant=f"rel{world.suffix}h", project=f"rh{world.suffix}")
    newer.write("timeline", "timeline", "return 'old'")
    newer.commit("old", when=time.time() - 120)
    older = world.checkout("history-old", tenant=newer.tenant, project=newer.project)
    older.expected, older.failing = set(), {"timeline"}
    shutil.rmtree(older.path)
    subprocess.run(["git", "clone", "-q", str(newer.path), str(older.path)], check=True)
    newer.write("timeline", "timeline", "return 'new'")
    newer.commit("new")
    first = newer.run("deploy", "--json")
    wanted = wanted_images(first).get("timeline") if first.code == 0 else None
    last = older.run("deploy", "--json")
    held = (world.deployment(f"timeline/{newer.project}") or {}).get("job_variables", {})
    why = outcome(first, 0) + outcome(last, 0)  # the older run skips, with a notice
    if held.get("image") != wanted:
        why.append(
            f"the older checkout put back {held.get('image')} over {wanted} (exit {last.code})"
        )
    older.dirty = False  # an older checkout is not re-run to converge: it must not win
    return [Trial("concurrency", "older checkout finishing last", 1, 0 if why else 1, why)]


# -- bad inputs --------------------------------------------------------------------------


def reported(run: Run, project: str, case: Case, line: int | None) -> list[str]:
    """Why the case is not reported as tests/integration/test_bad_inputs.py requires: an
    annotation of its severity at its file and line, with the advice; its deployment's fate."""
    want = expected_path(Path("projects"), project, case).as_posix()
    at = [
        a
        for a in annotations(run.stderr)
        if (a.severity, a.file, a.line) == (case.severity, want, line)
    ]
    if not any(case.advice in a.message for a in at):
        return [f"{case.kind}: no {case.severity} at {want}:{line} with {case.advice!r}"]
    folder_project = f"{case.project}-{project}" if case.project else project
    rows = [r for r in run.json() if (r["project"], r["folder"]) == (folder_project, case.kind)]
    statuses = {r["status"] for r in rows}
    fate = "failed" if "failed" in statuses else "created" if "created" in statuses else None
    if fate != case.outcome:
        return [f"{case.kind}: its deployment {fate}, expected {case.outcome}"]
    return []


@scenario("bad inputs")
def bad_inputs_beside_a_good_folder(world: World) -> list[Trial]:
    """Every case of the bad-input suite (tests/bad_inputs.py) at once, beside a good folder
    that must deploy, through `deploy --json` as on GitHub: each at its file and line (an
    annotation) with what to do, and its deployment failed (or, for a warning, deployed)."""
    checkout = world.checkout("bad", tenant=f"rel{world.suffix}b", project=f"rb{world.suffix}")
    stack = world.stack
    files = {"base": stack.base_image, "python_base": os.environ["PFD_BASE_PYTHON"],
             "registry": stack.registry}  # fmt: skip
    write_case(checkout.root, checkout.project, Case(GOOD, {}, ".", None, ""), files)
    checkout.expected.add(f"{GOOD}/{checkout.project}")
    for case in CASES:
        write_case(checkout.root, checkout.project, case, files)
        if case.outcome != "created":
            checkout.failing |= {case.kind, *case.others}
    # The cases set in the tenant's block of the config file (tests/bad_inputs.py), with the
    # checkout's own tags kept (appended: the cases' lines stay where write_config says).
    lines = write_config(checkout.root, checkout.tenant, CASES)
    with (checkout.path / CONFIG).open("a") as config:
        config.write("    tags: [v0]\n")
    github = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(checkout.path)}
    run = checkout.run("deploy", "--json", "--prune", env=github)
    why = [] if run.code == 1 and "Traceback" not in run.stderr else [f"exit {run.code}"]
    rows = run.json() if run.stdout.strip() else []
    good = {r["status"] for r in rows if r["folder"] == GOOD}
    if good != {"created"}:
        why.append(f"the good folder: {good or 'no outcome'}")
    held = 0
    for case in CASES:
        line = lines.get(case.kind, case.line)
        missed = reported(run, checkout.project, case, line) if rows else [f"{case.kind}: no JSON"]
        held += not missed
        why += missed
    return [
        Trial(
            "bad inputs", "the bad-input suite", len(CASES), held if good == {"created"} else 0, why
        )
    ]
