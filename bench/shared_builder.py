"""Fresh runners with their own engines against one shared builder (issue 27): wall time and
bytes pulled from the registry for a fan-out of S shards × F folders, twice: the first
deploy of the repository ("cold"), then the next commit, which changes the code of every
folder and none of its dependencies ("change").

    .venv/bin/python bench/shared_builder.py [--shards 3 --folders 10] [--quick]

A runner is what a fresh GitHub runner is: a fresh work folder (a copy of the checkout), its
own TMPDIR, and
- `local`: an engine of its own with an empty build cache: a new dockerd on a new data root
  for every runner (scripts/builder-engine.sh with this benchmark's folder, port and bridge;
  started before the shard and removed after it, untimed, as GitHub starts the runner);
- `shared`: no engine of its own (DOCKER_HOST names no socket) and `--builder` the one shared
  engine (TCP with TLS, started fresh for the mode, then kept for both phases).

The shards of each phase are the tool's own matrix (action_report.matrix on a plan made in
this process, untimed: on GitHub a plan job makes it), so the second phase is sharded by the
build times the first phase labelled its images with. The shards of a phase run one after
the other (the machine has 2 cores): "max shard" is the wall time of the fan-out when its
jobs run at once on separate runners, "sum" the runner time paid. Bytes pulled: the bodies of
blob GETs the registry answered 200 during the shard (its access log), i.e. what the
engines downloaded: the base image, and the inline cache's layers.

The registry and the Prefect server are private (bench/common.BenchStack, never the shared
:5000/:4200): each mode pushes to its own registry path, and starts with no deployment on the
server; the base is the stand-in prefect image, copied into the private registry over HTTP
(untimed). Each folder's dependency step is
synthetic, because the benchmark's engines have no route to the internet (they run with
--iptables=false --ip-masq=false, leaving the host's firewall alone): it waits 2 s (a
download) and writes 4 MB of incompressible bytes (an installed package set), distinct per
folder, before the code is copied. Results: bench/results/<time>-shared-builder.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from common import REPO, STAND_IN, VENV_BIN, WORK_POOL, BenchStack, free_port, log, machine_info
from common import run_measured as measured_run
from prefect_flow_deploy.clients.http_retry import client_transport
from prefect_flow_deploy.reports.action import matrix
from prefect_flow_deploy.run.engine import Engine
from prefect_flow_deploy.settings.cascade import explicit_layer, resolve_options

RESULTS = REPO / "bench" / "results"
ENGINE_SCRIPT = REPO / "scripts" / "builder-engine.sh"
WORK = Path("/var/tmp/pfd-bench27")  # engines' data roots: overlay2 wants a real file system
PREFECT_PORT = 4327  # not the shared :4200, nor run.py's :4300
BLOB_GET = re.compile(r'"GET /v2/\S+/blobs/sha256:[0-9a-f]+ HTTP/[\d.]+" 200 (\d+)')
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Dockerd:
    """An engine of scripts/builder-engine.sh, with this benchmark's folder, port and bridge."""

    directory: Path
    bridge: str
    subnet: str
    port: int = 0

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PFD_BUILDER_DIR": str(self.directory),
            "PFD_BUILDER_PORT": str(self.port),
            "PFD_BUILDER_BRIDGE": self.bridge,
            "PFD_BUILDER_SUBNET": self.subnet,
        }

    def up(self) -> None:
        self.port = free_port(23700, 23799)
        subprocess.run(["bash", str(ENGINE_SCRIPT), "up"], env=self.env(), check=True)

    def remove(self) -> None:
        """Stopped, its bridge and its data root gone: the next one starts empty."""
        subprocess.run(["bash", str(ENGINE_SCRIPT), "reset"], env=self.env(), check=True)
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def socket(self) -> str:
        return f"unix://{self.directory}/docker.sock"

    @property
    def host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def tls_env(self) -> dict[str, str]:
        tls = self.directory / "tls"
        return {
            f"PFD_BUILDER_TLS_{name.upper()}": (tls / f"{name}.pem").read_text()
            for name in ("ca", "cert", "key")
        }


@dataclass
class ShardRun:
    shard: str
    folders: int
    seconds: float
    exit_code: int
    pulled_bytes: int
    built: int
    estimated_seconds: float


@dataclass
class Phase:
    mode: str
    phase: str
    shards: list[ShardRun] = field(default_factory=list)

    @property
    def max_seconds(self) -> float:
        return max(s.seconds for s in self.shards)

    @property
    def sum_seconds(self) -> float:
        return sum(s.seconds for s in self.shards)

    @property
    def pulled(self) -> int:
        return sum(s.pulled_bytes for s in self.shards)


def write_repository(root: Path, projects: int, folders: int) -> None:
    for p in range(projects):
        for f in range(folders):
            folder = root / "projects" / f"team{p}" / f"flow{f:02d}"
            folder.mkdir(parents=True)
            (folder / "flow.py").write_text(
                "from prefect import flow\n\n\n"
                f"@flow\ndef flow{p}_{f:02d}(n: int = 1) -> int:\n    return n\n"
            )
            (folder / "Dockerfile").write_text(
                "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
                'RUN python3 -c "import os, time; time.sleep(2); '
                f"open('/opt/deps-team{p}-flow{f:02d}.bin', 'wb').write(os.urandom(4 << 20))\"\n"
                "WORKDIR /opt/flow\nCOPY . .\n"
            )


def change_every_folder(root: Path) -> None:
    for flow in sorted((root / "projects").glob("*/*/flow.py")):
        flow.write_text(flow.read_text() + "# the next commit\n")


def copy_image(source: str, target: str) -> None:
    """A schema 2 image from one registry to another over HTTP (no engine involved)."""
    (src_host, src_path), (dst_host, dst_path) = (r.split("/", 1) for r in (source, target))
    src_repo, src_tag = src_path.rsplit(":", 1)
    dst_repo, dst_tag = dst_path.rsplit(":", 1)
    with httpx.Client(timeout=300) as http:
        answer = http.get(
            f"http://{src_host}/v2/{src_repo}/manifests/{src_tag}", headers={"Accept": MANIFEST}
        )
        answer.raise_for_status()
        manifest = answer.json()
        for blob in [manifest["config"], *manifest["layers"]]:
            digest = blob["digest"]
            if http.head(f"http://{dst_host}/v2/{dst_repo}/blobs/{digest}").status_code == 200:
                continue
            data = http.get(f"http://{src_host}/v2/{src_repo}/blobs/{digest}").content
            started = http.post(f"http://{dst_host}/v2/{dst_repo}/blobs/uploads/")
            location = httpx.URL(f"http://{dst_host}").join(started.headers["Location"])
            http.put(
                str(location.copy_merge_params({"digest": digest})), content=data
            ).raise_for_status()
        http.put(
            f"http://{dst_host}/v2/{dst_repo}/manifests/{dst_tag}",
            content=answer.content,
            headers={"Content-Type": MANIFEST},
        ).raise_for_status()


def pulled_since(stack: BenchStack, offset: int) -> int:
    with stack.registry_log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return sum(int(m.group(1)) for m in BLOB_GET.finditer(text))


class Bench:
    def __init__(self, shards: int, projects: int, folders: int, work: Path) -> None:
        self.shards, self.projects, self.folders = shards, projects, folders
        self.work = work
        self.stack = BenchStack(work / "stack", prefect_port=PREFECT_PORT)
        self.source = work / "source"
        self.phases: list[Phase] = []

    def registry(self, mode: str) -> str:
        return f"{self.stack.registry_host}/{mode}"

    @property
    def base(self) -> str:
        return f"{self.stack.registry_host}/base/prefect:3"

    def options(self, root: Path, mode: str) -> list[str]:
        return [
            "--projects-root", str(root / "projects"), "--registry", self.registry(mode),
            "--base-image", self.base, "--work-pool", WORK_POOL, "--repository", "acme/bench",
        ]  # fmt: skip

    def start(self) -> None:
        """A private registry (the base copied in) and Prefect server, once."""
        self.stack.reset()
        self.stack.create_work_pool()
        copy_image(STAND_IN, self.base)

    def fresh_world(self) -> None:
        """No deployment on the server (each mode has its own registry path, empty), and the
        checkout as it was before any commit of the benchmark."""
        # The tool's retry policy: the SQLite server answers 503 while it is busy.
        with httpx.Client(
            base_url=self.stack.api_url, timeout=60, transport=client_transport()
        ) as api:
            found = api.post("/deployments/filter", json={"limit": 200})
            found.raise_for_status()
            for deployment in found.json():
                api.delete(f"/deployments/{deployment['id']}").raise_for_status()
        shutil.rmtree(self.source, ignore_errors=True)
        write_repository(self.source, self.projects, self.folders)

    def shards_of_the_plan(self, mode: str) -> list[dict[str, str]]:
        """The action's matrix for this checkout: a plan made here, as a plan job makes it."""
        layer = explicit_layer(
            {
                "projects_root": self.source / "projects",
                "registry": self.registry(mode),
                "base_image": self.base,
                "work_pool": WORK_POOL,
                "repository": "acme/bench",
                "prefect_api_url": self.stack.api_url,
            },
            lambda name: f"--{name}",
        )
        options = resolve_options(layer, self.stack.client_env())
        plan = Engine(options).plan()
        return matrix(plan, self.shards)["include"]

    def run_phase(self, mode: str, phase: str, shared: Dockerd | None) -> Phase:
        result = Phase(mode, phase)
        for shard in self.shards_of_the_plan(mode):
            runner = self.work / mode / phase / f"runner-{shard['shard']}"
            shutil.copytree(self.source, runner / "checkout")
            (runner / "tmp").mkdir()
            env = {**self.stack.client_env(), "TMPDIR": str(runner / "tmp")}
            own: Dockerd | None = None
            command = [str(VENV_BIN / "prefect-flow-deploy"), "deploy", "--flows", shard["flows"]]
            command += self.options(runner / "checkout", mode)
            if shared is None:  # a fresh runner: an engine with an empty build cache
                own = Dockerd(WORK / f"runner-{mode}-{phase}-{shard['shard']}", "pfd-b27l",
                              "172.29.28.1/24")  # fmt: skip
                own.up()
                env["DOCKER_HOST"] = own.socket
            else:
                env["DOCKER_HOST"] = f"unix://{runner}/no-engine-here.sock"
                env.update(shared.tls_env())
                command += ["--builder", shared.host]
            offset = self.stack.registry_log_size()
            try:
                done = measured_run(command, env, runner / "checkout", runner / "logs" / "deploy")
            finally:
                if own is not None:
                    own.remove()
            built = len(re.findall(r"^built and pushed ", done.stderr, re.MULTILINE))
            run = ShardRun(
                shard["shard"], len(shard["folders"].split()), round(done.seconds, 1),
                done.exit_code, pulled_since(self.stack, offset), built,
                float(shard["seconds"]),
            )  # fmt: skip
            log(f"{mode} {phase} shard {run.shard}: {run.folders} folders, {run.seconds:.1f}s, "
                f"pulled {run.pulled_bytes / 1e6:.0f} MB, exit {run.exit_code}")  # fmt: skip
            if done.exit_code != 0:
                raise RuntimeError(
                    f"{mode} {phase} shard {run.shard} failed:\n{done.stderr[-3000:]}"
                )
            result.shards.append(run)
        self.phases.append(result)
        return result

    def run_mode(self, mode: str) -> None:
        self.fresh_world()
        shared = None
        if mode == "shared":
            shared = Dockerd(WORK / "shared", "pfd-b27s", "172.29.29.1/24")
            shared.remove()  # an empty build cache to start from, as for the local runners
            shared.up()
        try:
            self.run_phase(mode, "cold", shared)
            change_every_folder(self.source)
            self.run_phase(mode, "change", shared)
        finally:
            if shared is not None:
                shared.remove()


def report(phases: list[Phase]) -> dict[str, Any]:
    print(f"\n{'mode':<8}{'phase':<8}{'shards (s)':<28}{'max s':>8}{'sum s':>8}{'pulled MB':>11}")
    for p in phases:
        shards = " ".join(f"{s.seconds:.0f}" for s in p.shards)
        print(f"{p.mode:<8}{p.phase:<8}{shards:<28}{p.max_seconds:>8.1f}{p.sum_seconds:>8.1f}"
              f"{p.pulled / 1e6:>11.0f}")  # fmt: skip
    by = {(p.mode, p.phase): p for p in phases}
    ratios: dict[str, Any] = {}
    for phase in ("cold", "change"):
        local, shared = by[("local", phase)], by[("shared", phase)]
        ratios[phase] = {
            "max_wall_local_over_shared": round(local.max_seconds / shared.max_seconds, 2),
            "sum_wall_local_over_shared": round(local.sum_seconds / shared.sum_seconds, 2),
            "pulled_local_over_shared": round(local.pulled / shared.pulled, 1)
            if shared.pulled
            else None,
            "pulled_mb": {"local": round(local.pulled / 1e6), "shared": round(shared.pulled / 1e6)},
        }
        print(f"{phase}: local/shared wall (max shard) {ratios[phase]['max_wall_local_over_shared']}×, "
              f"runner time {ratios[phase]['sum_wall_local_over_shared']}×, bytes pulled "
              f"{ratios[phase]['pulled_mb']['local']} MB vs {ratios[phase]['pulled_mb']['shared']} MB")  # fmt: skip
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--folders", type=int, default=10, help="folders per shard")
    parser.add_argument("--quick", action="store_true", help="2 shards × 2 folders")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    shards, per_shard = (2, 2) if args.quick else (args.shards, args.folders)
    started = time.monotonic()
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="pfd-bench27-", dir="/var/tmp"))
    bench = Bench(shards, shards, per_shard, work)  # one project a shard's worth of folders
    bench.stack.check_ports_free()
    try:
        bench.start()
        for mode in ("local", "shared"):
            bench.run_mode(mode)
    finally:
        bench.stack.stop()
        shutil.rmtree(WORK, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    ratios = report(bench.phases)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-shared-builder.json"
    path.write_text(json.dumps({
        "machine": machine, "shards": shards, "folders_per_shard": per_shard,
        "phases": [{**asdict(p), "max_seconds": p.max_seconds, "sum_seconds": p.sum_seconds,
                    "pulled_bytes": p.pulled} for p in bench.phases],
        "ratios": ratios, "seconds": round(time.monotonic() - started, 1),
    }, indent=1) + "\n")  # fmt: skip
    print(f"\nwrote {path.relative_to(REPO)} ({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
