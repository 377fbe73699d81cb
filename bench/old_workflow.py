"""The old hand-written workflow, as a baseline: for each flow folder `docker build`,
`docker push`, register; one folder after another (`--parallel 1`) or N folders at a time
(`--parallel 10`, what a GitHub matrix with `max-parallel: 10` gives).

It rebuilds and re-pushes every folder on every run (the tag is the run's tag, as a commit SHA
or run number would be) and writes every deployment every run, which is what the old workflow
did. Builds and pushes use the docker CLI with BuildKit, like a workflow's `run:` steps on a
current runner. The Dockerfile for a folder without one is a competent hand-written one
(requirements layer before the code), so the baseline gets the same layer caching as ours.

Registration uses the Prefect client in this one process (create_flow_from_name +
create_deployment, which upserts), not `prefect deploy` per folder: it is the cheapest way to
register, so this baseline does not pay a Prefect CLI start-up (about 1.5 s of CPU) per folder,
and the comparison with it is, if anything, kind to the old workflow.

    python bench/old_workflow.py --projects-root DIR --registry HOST/NS --base-image REF \
        --work-pool POOL --tag TAG [--parallel N]
"""

from __future__ import annotations

import argparse

# Registered up front: threads that first look up the idna codec at the same time can fail
# with "LookupError: unknown encoding: idna": it broke 10-at-a-time runs here.
import encodings.idna  # noqa: F401
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DOCKER = "/usr/bin/docker"
_FLOW = re.compile(r'@flow\(name="(?P<name>[^"]+)"\)\s*\ndef (?P<function>\w+)\(')
_WORKDIR = re.compile(r"^\s*WORKDIR\s+(\S+)", re.MULTILINE | re.IGNORECASE)
_lock = threading.Lock()
counts = {"built": 0, "pushed": 0, "registered": 0, "failed": 0}


@dataclass
class Folder:
    project: str
    name: str
    path: Path

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}"


def folders(root: Path) -> list[Folder]:
    return [
        Folder(project.name, folder.name, folder)
        for project in sorted(p for p in root.iterdir() if p.is_dir())
        for folder in sorted(f for f in project.iterdir() if f.is_dir())
    ]


def dockerfile_for(folder: Folder, base_image: str, scratch: Path) -> tuple[Path, str]:
    """The folder's own Dockerfile, or the workflow's template; and the code directory."""
    own = folder.path / "Dockerfile"
    if own.is_file():
        workdirs = _WORKDIR.findall(own.read_text())
        return own, workdirs[-1] if workdirs else "/"
    code_dir = f"/opt/prefect/flows/{folder.project}/{folder.name}"
    lines = [f"FROM {base_image}", f"WORKDIR {code_dir}"]
    if (folder.path / "requirements.txt").is_file():
        lines += [
            "COPY requirements.txt .",
            "RUN python -m pip install --root-user-action=ignore -r requirements.txt",
        ]
    lines += ["COPY . .", ""]
    path = scratch / f"{folder.project}-{folder.name}.Dockerfile"
    path.write_text("\n".join(lines))
    return path, code_dir


def run(command: list[str]) -> None:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
        raise RuntimeError(f"{' '.join(command[:2])} failed:\n{tail}")


def register(folder: Folder, image: str, code_dir: str, tag: str, work_pool: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    source = (folder.path / "flow.py").read_text()
    configs: list[dict[str, Any]] = []
    if (folder.path / "prefect.yaml").is_file():
        configs = (yaml.safe_load((folder.path / "prefect.yaml").read_text()) or {}).get(
            "deployments"
        ) or []
    written = 0
    with get_client(sync_client=True) as client:
        for match in _FLOW.finditer(source):
            entrypoint = f"flow.py:{match['function']}"
            config = next((c for c in configs if c.get("entrypoint") == entrypoint), {})
            schema = parameter_schema_from_entrypoint(str(folder.path / entrypoint))
            flow_id = client.create_flow_from_name(match["name"])
            client.create_deployment(
                flow_id=flow_id,
                name=config.get("name") or folder.project,
                version=tag,
                entrypoint=entrypoint,
                work_pool_name=work_pool,
                job_variables={"image": image},
                pull_steps=[
                    {"prefect.deployments.steps.set_working_directory": {"directory": code_dir}}
                ],
                parameter_openapi_schema=schema.model_dump_for_openapi(),
                parameters=config.get("parameters") or {},
                description=config.get("description") or "",
                tags=[folder.project, *(config.get("tags") or [])],
                schedules=[
                    DeploymentScheduleCreate(
                        schedule=CronSchedule(cron=s["cron"], timezone=s.get("timezone")),
                        active=True,
                    )
                    for s in config.get("schedules") or []
                ],
            )
            written += 1
    return written


def one_folder(folder: Folder, args: argparse.Namespace, scratch: Path) -> None:
    started = time.monotonic()
    image = f"{args.registry}/{folder.project}/{folder.name}:{args.tag}"
    try:
        dockerfile, code_dir = dockerfile_for(folder, args.base_image, scratch)
        run(
            [
                DOCKER,
                "build",
                "-q",
                "-t",
                image,
                "-f",
                str(dockerfile),
                "--build-arg",
                f"BASE_IMAGE={args.base_image}",
                str(folder.path),
            ]
        )
        with _lock:
            counts["built"] += 1
        run([DOCKER, "push", "-q", image])
        with _lock:
            counts["pushed"] += 1
        written = register(folder, image, code_dir, args.tag, args.work_pool)
        with _lock:
            counts["registered"] += written
        print(f"{folder.key}: built, pushed, registered ({time.monotonic() - started:.1f}s)")
    except Exception as exc:
        with _lock:
            counts["failed"] += 1
        print(f"{folder.key}: FAILED: {exc}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects-root", type=Path, required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--base-image", required=True)
    parser.add_argument("--work-pool", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="old-workflow-") as scratch:
        todo = folders(args.projects_root)
        if args.parallel <= 1:
            for folder in todo:
                one_folder(folder, args, Path(scratch))
        else:
            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                list(pool.map(lambda f: one_folder(f, args, Path(scratch)), todo))
    print(
        f"built {counts['built']}, pushed {counts['pushed']}, "
        f"deployment writes {counts['registered']}, failed {counts['failed']}"
    )
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
