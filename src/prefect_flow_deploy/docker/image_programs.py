"""The programs of `in_image/` run in a built image: the check (is Prefect there, where are the
folder's files, which imported modules are missing, does the ENTRYPOINT run the worker's
command) and the parameter schemas only the image can compute. Each run is one labelled,
network-less container, removed afterwards (a killed run's: leftovers.py)."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import docker
from docker.errors import DockerException
from docker.models.containers import Container

from prefect_flow_deploy import in_image
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.docker import leftovers, started_commands
from prefect_flow_deploy.docker.engine_session import docker_client
from prefect_flow_deploy.in_image import check_image as check_program


@functools.cache
@functools.cache  # one text per program for the run: each check would read and inline again
def in_image_program(name: str) -> str:
    """The source of a program of `in_image/`, for `python -c` in the image (under the image's
    own Python: nothing of this package is there), with each `from prefect_flow_deploy.
    in_image.<part> import …` line replaced by that part's source (one program, several files)."""
    return _PART.sub(
        lambda found: _in_image_source(found[1]).replace(_FUTURE, ""), _in_image_source(name)
    )


_PART = re.compile(r"^from prefect_flow_deploy\.in_image\.(\w+) import .*$", re.MULTILINE)
_FUTURE = "from __future__ import annotations\n"  # the program's own comes first, as it must


def _in_image_source(name: str) -> str:
    return resources.files(in_image).joinpath(f"{name}.py").read_text(encoding="utf-8")


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace").strip()
    return (output or "").strip()


@dataclass
class ImageCheck:
    prefect_version: str | None
    code_dir: str | None
    workdir: str
    missing_modules: list[str]
    # The image's ENTRYPOINT when it did not run the command it was given: the Docker worker
    # starts each flow run as the container's command, so such an image never runs a flow.
    entrypoint_ignoring_command: list[str] | None = None
    # The schemas asked for when the check's own run computed them, or why it could not
    # (raised by image_schemas: only once the image has passed the rest of the check).
    schemas: dict[str, dict[str, Any]] | None = None
    schema_error: str | None = None
    # (module, name) of `from <module> import <name>` the image's Prefect cannot give
    # (name "": no such module).
    prefect_missing: list[tuple[str, str]] = field(default_factory=list)
    # What the worker's command for each run printed when it could not start (None: it can).
    worker_command_error: str | None = None
    python: str = "python"  # the image's interpreter the check ran under
    environment: str | None = None  # the digest of what that command depends on
    # Flow files `code_dir` lacks, when it holds only some (a Dockerfile copying a subfolder).
    absent: list[str] = field(default_factory=list)


# Flows the check loads (by entrypoint), each with the libraries whose imports alone its
# load may raise at, [module, names taken from it], imported without Prefect, which loads
# the flow only when one fails; or None: Prefect loads it (reading/loaded_files.LoadRisk).
Loads = dict[str, list[tuple[str, list[str]]] | None]

ENTRYPOINT_CHECK_SECONDS = 60
SCHEMA_SECONDS = 120
# Prefect's client reads these: a flow module that talks to an API at import finds none,
# and fails at once (no temporary local server: older Prefect 3 starts one without an API
# URL, which made a module's `Variable.get(…)` at import take 86 s; awesomegusS/tm-vov-
# dashboard, trial round 9 a 7). The new name of the setting, and the old.
_NO_API = {
    "PREFECT_API_URL": "", "PREFECT_API_KEY": "",
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "false", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
}  # fmt: skip


def check_image(
    reference: str,
    files: dict[str, str],
    preferred_dir: str | None,
    modules: list[str],
    entrypoints: Loads | None = None,
    prefect_names: list[tuple[str, str]] | None = None,
    run_env: dict[str, str] | None = None,
) -> ImageCheck:
    """Run the image once (no network): is prefect there, where are the folder's files, and
    which of the modules the code imports cannot be found (found, not imported: no code runs).
    An image with an ENTRYPOINT is run through it, as the worker will, so that one that
    swallows the command is caught; the run costs nothing extra when it passes it on.

    `entrypoints`: the flows to load, those whose schema only the image can tell among them
    (a Loads). An image without an ENTRYPOINT computes them in the same run, as python alone, after the check (one
    container start less); one with an ENTRYPOINT in a run of their own (image_schemas).
    `run_env`: the environment the deployments give their runs, which loading a flow file
    may read (a settings object); never Prefect's API."""
    check = functools.partial(
        _check_under, reference=reference, files=files, preferred_dir=preferred_dir,
        modules=modules, entrypoints=entrypoints, prefect_names=prefect_names, run_env=run_env,
    )  # fmt: skip
    # Until one environment's worker command is known to start, one check at a time: the
    # folders of a cold run mostly share theirs, and each would start its CLI (3 s of CPU)
    # side by side (a cold deploy of 3 folders, 8.6 against 4.0 s).
    with contextlib.nullcontext() if started_commands.known() else _FIRST_CHECK:
        for python in PYTHONS:
            try:
                return check(python)
            except _NoSuchPython:
                continue
    raise NoPythonError(
        "the image has neither `python` nor `python3` on its PATH, and the Docker worker "
        f"starts each flow run with {WORKER_COMMAND}, a Python script. Base it on a "
        "prefecthq/prefect:3-… or python image."
    )


_FIRST_CHECK = threading.Lock()


# The command the Docker worker gives each flow run's container (Prefect 3's
# BaseJobConfiguration._base_flow_run_command, 3.1 to 3.9 alike); the check's program runs
# under the first of these the image has.
WORKER_COMMAND = "`prefect flow-run execute`"
PYTHONS = ("python", "python3")


class _NoSuchPython(Exception):
    pass


class NoPythonError(FolderError):
    """No Python in the image at all (image_check places it at the base image's line)."""


def _check_under(
    python: str,
    reference: str,
    files: dict[str, str],
    preferred_dir: str | None,
    modules: list[str],
    entrypoints: Loads | None,
    prefect_names: list[tuple[str, str]] | None,
    run_env: dict[str, str] | None,
) -> ImageCheck:
    client = docker_client()
    program = [python, "-c", in_image_program("check_image")]
    schemas: _Schemas = (None, None)
    try:
        image = client.images.get(reference)
        config = image.attrs.get("Config") or {}
        workdir = config.get("WorkingDir") or "/"
        candidates = [d for d in (preferred_dir, workdir) if d]
        args: dict[str, Any] = {
            "files": files,
            "candidates": candidates,
            "modules": modules,
            "prefect_names": prefect_names or [],
            "verified": sorted(started_commands.known()),
        }
        entrypoint = list(config.get("Entrypoint") or [])
        data = (
            _check_through_entrypoint(client, reference, [*program, json.dumps(args)])
            if entrypoint
            else None
        )
        ignoring = entrypoint if entrypoint and data is None else None
        if data is None:
            if entrypoints and not entrypoint:
                args.update(_load_args(entrypoints), seconds=SCHEMA_SECONDS)
            folded = "entrypoints" in args
            container = _start(
                client,
                reference,
                entrypoint=program,
                command=[json.dumps(args)],
                network_disabled=True,
                environment={**(run_env or {}), **_NO_API} if folded else None,
            )
            data, schemas = _direct_check_result(container, folded)
    except DockerException as exc:
        if "executable file not found" in str(exc):
            raise _NoSuchPython(python) from exc
        raise FolderError(f"cannot run the built image to check it: {exc}") from exc
    if data is None:
        raise FolderError(f"the check run of the built image printed no result: {reference}")
    if data.get("environment") and not data.get("worker_command"):
        started_commands.add(data["environment"])
    return ImageCheck(
        data.get("prefect"),
        data.get("code_dir"),
        data.get("cwd") or workdir,
        data.get("missing") or [],
        ignoring,
        *schemas,
        [(m, n) for m, n in data.get("prefect_missing") or []],
        data.get("worker_command"),
        python,
        data.get("environment"),
        data.get("absent") or [],
    )


# (schemas, or None) and (why they could not be computed, or None)
_Schemas = tuple[dict[str, dict[str, Any]] | None, str | None]


def _direct_check_result(
    container: Container, folded: bool
) -> tuple[dict[str, Any] | None, _Schemas]:
    """Wait for the check run as python alone (and, `folded`, the schemas after it): what
    docker's `containers.run` does when not detached, but keeping the schemas' outcome apart
    from the check's (a flow that crashes its loader must not fail the check)."""
    try:
        status = container.wait()["StatusCode"]
        output = _text(container.logs(stdout=True, stderr=True))
        stdout = _text(container.logs(stdout=True, stderr=False))
        stderr = _text(container.logs(stdout=False, stderr=True))
    finally:
        container.remove(force=True)
    first = stdout.splitlines()[:1]  # the check's line comes before any flow's output
    data = _check_result(first[0] if folded and first else output)
    if status != 0 and (data is None or not folded):
        raise FolderError(
            "the built image cannot run Python (the Docker worker starts each flow run with "
            f"{WORKER_COMMAND}, a Python script): {stderr or f'exit status {status}'}"
        )
    if not (folded and data and data.get("prefect") and data.get("code_dir")):
        return data, (None, None)
    if any(line.startswith("Timeout (") for line in stderr.splitlines()):
        return data, (None, _schema_timeout())  # the program's watchdog (faulthandler)
    flows_output = output.replace(first[0], "", 1).strip()
    try:
        return data, (_schemas_result(flows_output), None)
    except FolderError as exc:
        return data, (None, str(exc))


def _schema_timeout() -> str:
    return (
        f"loading the flows in the image to read their parameters took over "
        f"{SCHEMA_SECONDS}s (module-level code that waits on the network?)"
    )


def _schemas_result(output: str) -> dict[str, dict[str, Any]]:
    marker = check_program.MARKER
    line = next((x for x in reversed(output.splitlines()) if x.startswith(marker)), None)
    if line is None:
        raise FolderError(f"loading the flows in the image failed: {output[-500:]}")
    result: dict[str, dict[str, Any]] = json.loads(line.removeprefix(marker))
    return result


def _load_args(entrypoints: Loads) -> dict[str, Any]:
    quick = {e: libraries for e, libraries in entrypoints.items() if libraries is not None}
    return {"entrypoints": list(entrypoints), "imports": quick}


def image_schemas(
    reference: str,
    code_dir: str,
    entrypoints: Loads,
    checked: ImageCheck | None = None,
    run_env: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Prefect's parameter schema of each flow, computed in the image (in_image/check_image.py
    says why there): entrypoint → schema, or → {"error": why Prefect could not load the flow}.
    Those the check's run computed (`checked`), else in a run of their own."""
    if checked is not None and checked.schema_error is not None:
        raise FolderError(checked.schema_error)
    if checked is not None and checked.schemas is not None:
        return checked.schemas
    client = docker_client()
    payload = json.dumps({"code_dir": code_dir, **_load_args(entrypoints)})
    container = _start(
        client,
        reference,
        entrypoint=[checked.python if checked else "python", "-c", in_image_program("check_image")],
        command=[payload],
        network_disabled=True,
        environment={**(run_env or {}), **_NO_API},
        working_dir=code_dir,
    )
    try:
        try:
            container.wait(timeout=SCHEMA_SECONDS)
        except Exception as exc:  # a timeout surfaces as requests' or urllib3's own error
            raise FolderError(_schema_timeout()) from exc
        output = _text(container.logs(stdout=True, stderr=True))
    finally:
        container.remove(force=True)
    return _schemas_result(output)


def _check_through_entrypoint(
    client: docker.DockerClient, reference: str, command: list[str]
) -> dict[str, Any] | None:
    """The check run as the worker starts a flow run: the image's ENTRYPOINT with our command.
    None when the entrypoint did not run it (within the time limit)."""
    container = _start(
        client,
        reference,
        command=command,
        network_disabled=True,
    )
    try:
        try:
            container.wait(timeout=ENTRYPOINT_CHECK_SECONDS)
        except Exception:  # a timeout surfaces as requests' or urllib3's own error
            return None
        return _check_result(_text(container.logs(stdout=True, stderr=False)))
    finally:
        container.remove(force=True)


def _start(client: docker.DockerClient, reference: str, **options: Any) -> Container:
    """A check container, started detached and labelled with the run; one whose start fails
    (no `python` in the image) is removed, which docker-py does not do (found by
    `make reliability`)."""
    name = f"pfd-check-{uuid.uuid4().hex[:12]}"
    try:
        container: Container = client.containers.run(
            reference, name=name, labels=leftovers.run_label(), detach=True, **options
        )
    except DockerException:
        with suppress(DockerException):  # never created
            client.containers.get(name).remove(force=True)
        raise
    return container


def _check_result(output: str) -> dict[str, Any] | None:
    """The check script's JSON: its last line (an entrypoint may print before it)."""
    lines = output.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and "cwd" in data else None
