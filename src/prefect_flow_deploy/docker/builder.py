"""Build an image with BuildKit, check it, push it.

Why the docker CLI and not the Docker SDK's `images.build`: the SDK calls the engine's
legacy builder, which rejects `RUN --mount=type=cache` and ignores `# syntax=`, so many real
Dockerfiles would not build. The CLI (a 20.10 client with BuildKit built in, or a newer one
with the buildx plugin) runs BuildKit in the engine, and sends the build context through the
API, so it also works from inside the action's container against the host's socket, where a
bind mount would name paths that do not exist on the host. Everything else (inspect, run
the check, push) goes through the SDK.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import docker
from docker.errors import DockerException
from docker.models.containers import Container

from prefect_flow_deploy import in_image
from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import DockerUnavailableError, FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import build_site, cancellation, leftovers
from prefect_flow_deploy.docker.build_site import docker_client
from prefect_flow_deploy.in_image import check_image as check_program
from prefect_flow_deploy.reading.dockerfile import instruction_line, logical_lines
from prefect_flow_deploy.reading.linked_files import staged_context
from prefect_flow_deploy.reading.requirements import requirement_line

# Plugin homes that Debian's and Docker's own packages install docker-buildx into.
_BUILDX_PLUGIN_DIRS = ("/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins")


@functools.cache
def buildkit_command() -> tuple[str, ...]:
    """The command that builds with BuildKit against this engine: a docker client that can
    (`docker build`), else the buildx plugin run on its own (`docker-buildx build`), which
    needs no docker CLI at all: the action's image ships only buildx (30 MB less)."""
    plugins = [os.path.join(d, "docker-buildx") for d in _BUILDX_PLUGIN_DIRS]
    candidates = [  # (path, is a docker client); what the environment names comes first
        (os.environ.get("PFD_DOCKER_CLI", ""), True),
        (os.environ.get("PFD_BUILDX", ""), False),
        *((c, True) for c in [*_on_path("docker"), "/usr/bin/docker"]),
        *((c, False) for c in [*_on_path("docker-buildx"), *plugins]),
    ]
    tried: list[str] = []
    for path, is_docker in candidates:
        if path in tried or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        tried.append(path)
        if _docker_builds_with_buildkit(path) if is_docker else _runs(path, "version"):
            return (path, "build")
    raise DockerUnavailableError(
        "no docker client that can build with BuildKit was found (tried: "
        f"{', '.join(tried) or 'none on PATH'}). Install the buildx plugin (docker-buildx), or "
        "set PFD_DOCKER_CLI to a docker client that has it, or PFD_BUILDX to a buildx binary."
    )


def _on_path(name: str) -> list[str]:
    return [os.path.join(d, name) for d in os.environ.get("PATH", "").split(os.pathsep) if d]


def _runs(*command: str) -> bool:
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _docker_builds_with_buildkit(cli: str) -> bool:
    try:
        version = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        major = int(version.split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return False
    if major < 23:  # BuildKit is built into clients before 23.0
        return True
    return _runs(cli, "buildx", "version")


@dataclass
class BuildRequest:
    reference: str
    context: Path
    dockerfile_text: str | None  # None: the folder's own Dockerfile
    dockerignore_text: str | None
    build_args: dict[str, str]
    labels: dict[str, str]
    cache_from: list[str]  # --cache-from values (builder_choice.cache_flags)
    fresh: bool  # --force: pull the base again and use no cache
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # id → value
    platform: str | None = None  # e.g. linux/arm64; None: the engine's own
    linked: tuple[str, ...] = ()  # links whose target the context receives (linked_files.py)
    cache_to: list[str] = field(default_factory=list)  # --cache-to values (a registry cache)


def build(
    request: BuildRequest,
    config_dir: str | None,
    on_step: Callable[[str], None] | None = None,
) -> str:
    """Run the build on the run's builder (build_site.py); return its log. Raise FolderError
    with the log's tail on failure. `on_step` hears each Dockerfile step as BuildKit starts
    it (`2/4 RUN pip install …`)."""
    build_command, env = build_site.build_command(), build_site.build_env(config_dir)
    with (
        tempfile.TemporaryDirectory(prefix="pfd-recipe-", dir=run_files.run_dir()) as recipe_dir,
        tempfile.TemporaryDirectory(prefix="pfd-secrets-", dir=run_files.run_dir()) as secrets_dir,
    ):
        cancellation.track_dir(secrets_dir)
        context = request.context
        if request.linked:  # linked files of the repository: their content, not the link
            context = staged_context(request.context, request.linked, recipe_dir)
        if request.dockerfile_text is not None:
            dockerfile = Path(recipe_dir, "Dockerfile")
            dockerfile.write_text(request.dockerfile_text)
            # BuildKit reads <Dockerfile>.dockerignore beside a Dockerfile in preference to
            # the context's: our default ignores are added without touching the user's folder.
            Path(recipe_dir, "Dockerfile.dockerignore").write_text(request.dockerignore_text or "")
        else:
            dockerfile = context / "Dockerfile"
        command = [
            *build_command,
            "--progress=plain",
            "-t",
            request.reference,
            "-f",
            str(dockerfile),
        ]
        for key, value in sorted({"BUILDKIT_INLINE_CACHE": "1", **request.build_args}.items()):
            command += ["--build-arg", f"{key}={value}"]
        for key, value in sorted(request.labels.items()):
            command += ["--label", f"{key}={value}"]
        for option, values in (
            ("--cache-from", request.cache_from),
            ("--cache-to", request.cache_to),
        ):
            command += [x for value in values for x in (option, value)]
        command += secret_options(request.secrets, secrets_dir)
        if request.platform:
            command += ["--platform", request.platform]
        if request.fresh:
            command += ["--pull", "--no-cache"]
        command.append(str(context))
        returncode, output = _run_streaming(command, env, on_step, f"building {request.reference}")
    if returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        headline = build_error_headline(output) or shared_step_note(output)
        file, line = failure_location(output, request)
        raise FolderError(
            f"docker build failed{': ' + headline if headline else ''}\n{tail}",
            file=str(file) if file else None,
            line=line,
        )
    return output


def secret_options(secrets: dict[str, str], directory: str) -> list[str]:
    """`--secret id=ID,src=FILE` per secret: BuildKit mounts it for the RUN steps that ask
    (`RUN --mount=type=secret,id=ID`) and never stores it in a layer, the image config or the
    cache. A file (0600, in a private temporary directory removed after the build) rather than
    `env=`: every BuildKit client takes `src=`, and no value is on a command line."""
    options: list[str] = []
    for number, (secret_id, value) in enumerate(sorted(secrets.items())):
        path = Path(directory, f"secret-{number}")
        path.touch(mode=0o600)
        path.write_text(value)
        options += ["--secret", f"id={secret_id},src={path}"]
    return options


# `#7 [stage-0 2/4] RUN pip install …` in BuildKit's plain progress: a step starts.
_STEP = re.compile(r"^#\d+ \[(?:[^\]]*\s)?(\d+/\d+)\] (.+)$")


def _run_streaming(
    command: list[str], env: dict[str, str], on_step: Callable[[str], None] | None, what: str
) -> tuple[int, str]:
    """Run the build, its output read as it comes so that each step can be reported. At the
    run's deadline it is stopped (BuildKit cancels a build whose client is gone) and
    DeadlineReached raised: the report is not held back by a build that would finish later."""
    lines: list[str] = []
    with (
        subprocess.Popen(
            [*leftovers.build_command_prefix(), *command],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        ) as process,
        http_retry.stopped_at_deadline(process.terminate, what),
    ):  # fmt: skip
        assert process.stdout is not None
        cancellation.track_process(process)
        seen: set[str] = set()
        for line in process.stdout:
            lines.append(line)
            step = _STEP.match(line.rstrip())
            if on_step is not None and step and step.group(0) not in seen:
                seen.add(step.group(0))
                on_step(f"{step.group(1)} {step.group(2)}")
        returncode = process.wait()
        cancellation.untrack_process(process)
    return returncode, "".join(lines)


# `[stage-0 3/5] RUN pip install …`: the step BuildKit says failed (the last one it names).
_FAILED_STEP = re.compile(r"^ > \[[^\]]*\] (.+?):?$", re.MULTILINE)
_PARSE_ERROR_LINE = re.compile(r"dockerfile parse error (?:on )?line (\d+)")
_PIP_REQUIREMENT = re.compile(
    r"(?:No matching distribution found for|Invalid requirement:) '?([^\s']+)"
)
# Only on pip's ERROR lines: pip also names lines it merely read (`adding trusted host: 'h'
# (from line 1 of requirements.txt)`), which are not where it failed.
_PIP_FROM_LINE = re.compile(
    r"ERROR: .*\(from (?:line (\d+) of [^)]*requirements\.txt|-r [^)]*requirements\.txt "
    r"\(line (\d+)\))\)"
)


# When BuildKit runs one step for two builds at once (the same content), the second build's
# log has none of the step's lines, only the executor's error naming its command.
_EXECUTOR_FAILED = re.compile(r"executor failed running \[/bin/sh -c (.+?)\]: exit code")
_RUN_FLAGS = re.compile(r"^RUN(\s+--\S+)*\s+", re.IGNORECASE)


def shared_step_note(log: str) -> str:
    """Why a failed step's output is missing (see _EXECUTOR_FAILED)."""
    if _FAILED_STEP.search(log) or not _EXECUTOR_FAILED.search(log):
        return ""
    return (
        f"`{_EXECUTOR_FAILED.findall(log)[-1]}` failed; BuildKit ran that step for another "
        "build of the same content at the same time, whose log holds its output"
    )


def _failed_steps(log: str) -> list[str]:
    return _FAILED_STEP.findall(log) or [f"RUN {c}" for c in _EXECUTOR_FAILED.findall(log)]


def _run_line(text: str, step: str) -> int | None:
    """The line of a failed RUN named by its command alone (the executor drops the flags)."""
    wanted = " ".join(_RUN_FLAGS.sub("", step).split())
    for number, line in logical_lines(text):
        if (
            line.lstrip().upper().startswith("RUN")
            and " ".join(_RUN_FLAGS.sub("", line.strip()).split()) == wanted
        ):
            return number
    return None


def failure_location(log: str, request: BuildRequest) -> tuple[Path | None, int | None]:
    """Where the user should look: the folder's Dockerfile at the instruction that failed,
    or, when our default recipe's pip install failed, requirements.txt at the bad line."""
    requirements = request.context / "requirements.txt"
    if request.dockerfile_text is not None:  # the default recipe
        steps = _failed_steps(log)
        if steps and "requirements.txt" in steps[-1] and requirements.is_file():
            return requirements, failed_requirement_line(log, requirements)
        return None, None
    dockerfile = request.context / "Dockerfile"
    parse_error = _PARSE_ERROR_LINE.search(log)
    if parse_error:
        return dockerfile, int(parse_error.group(1))
    steps = _failed_steps(log)
    if not steps:
        return dockerfile, None
    try:
        text = dockerfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return dockerfile, None
    return dockerfile, instruction_line(text, steps[-1]) or _run_line(text, steps[-1])


def failed_requirement_line(log: str, requirements: Path) -> int | None:
    """The requirements.txt line pip stopped at: pip names it, or names the package."""
    from_line = _PIP_FROM_LINE.search(log)
    if from_line:
        return int(from_line.group(1) or from_line.group(2))
    named = _PIP_REQUIREMENT.search(log)
    if not named:
        return None
    return requirement_line(requirements, named.group(1))


_STEP_PREFIX = re.compile(r"^#\d+ (?:\d+\.\d+ )?")


def build_error_headline(log: str) -> str:
    """The lines that say what went wrong (pip's `ERROR: …`, a command's `error: …`),
    without BuildKit's step prefixes: the message's first line, the log's tail below it."""
    found: list[str] = []
    for line in log.splitlines():
        text = _STEP_PREFIX.sub("", line).strip()
        if (
            text.startswith(("ERROR: ", "error: ", "E: "))
            and not text.startswith("ERROR: executor failed")
            and not text.startswith("ERROR: failed to solve")
            and text not in found
        ):
            found.append(text)
    return " / ".join(found[:3])


@functools.cache
def in_image_program(name: str) -> str:
    """The source of a program of `in_image/`, for `python -c` in the image (under the image's
    own Python: nothing of this package is there)."""
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


ENTRYPOINT_CHECK_SECONDS = 60
SCHEMA_SECONDS = 120
# Prefect's client reads these: a flow module that talks to an API at import finds none.
_NO_API = {"PREFECT_API_URL": "", "PREFECT_API_KEY": ""}


def check_image(
    reference: str,
    files: dict[str, str],
    preferred_dir: str | None,
    modules: list[str],
    entrypoints: list[str] | None = None,
    prefect_names: list[tuple[str, str]] | None = None,
) -> ImageCheck:
    """Run the image once (no network): is prefect there, where are the folder's files, and
    which of the modules the code imports cannot be found (found, not imported: no code runs).
    An image with an ENTRYPOINT is run through it, as the worker will, so that one that
    swallows the command is caught; the run costs nothing extra when it passes it on.

    `entrypoints`: the flows whose schema only the image can tell. An image without an
    ENTRYPOINT computes them in the same run, as python alone, after the check (one
    container start less); one with an ENTRYPOINT in a run of their own (image_schemas)."""
    client = docker_client()
    program = ["python", "-c", in_image_program("check_image")]
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
                args.update(entrypoints=entrypoints, seconds=SCHEMA_SECONDS)
            folded = "entrypoints" in args
            container = _start(
                client,
                reference,
                entrypoint=program,
                command=[json.dumps(args)],
                network_disabled=True,
                environment=_NO_API if folded else None,
            )
            data, schemas = _direct_check_result(container, folded)
    except DockerException as exc:
        if "executable file not found" in str(exc):
            raise FolderError(
                "the image has no `python` on its PATH, and the Docker worker starts flow runs "
                "with `python -m prefect.engine`. Base it on a prefecthq/prefect:3-… or python image."
            ) from exc
        raise FolderError(f"cannot run the built image to check it: {exc}") from exc
    if data is None:
        raise FolderError(f"the check run of the built image printed no result: {reference}")
    return ImageCheck(
        data.get("prefect"),
        data.get("code_dir"),
        data.get("cwd") or workdir,
        data.get("missing") or [],
        ignoring,
        *schemas,
        [(m, n) for m, n in data.get("prefect_missing") or []],
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
            "the built image cannot run `python` (the Docker worker starts flow runs with "
            f"`python -m prefect.engine`): {stderr or f'exit status {status}'}"
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


def image_schemas(
    reference: str, code_dir: str, entrypoints: list[str], checked: ImageCheck | None = None
) -> dict[str, dict[str, Any]]:
    """Prefect's parameter schema of each flow, computed in the image (in_image/check_image.py
    says why there): entrypoint → schema, or → {"error": why Prefect could not load the flow}.
    Those the check's run computed (`checked`), else in a run of their own."""
    if checked is not None and checked.schema_error is not None:
        raise FolderError(checked.schema_error)
    if checked is not None and checked.schemas is not None:
        return checked.schemas
    client = docker_client()
    payload = json.dumps({"code_dir": code_dir, "entrypoints": entrypoints})
    container = _start(
        client,
        reference,
        entrypoint=["python", "-c", in_image_program("check_image")],
        command=[payload],
        network_disabled=True,
        environment=_NO_API,
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


class PushError(FolderError):
    """The registry (or the way to it) refused a push: counted for exit 5 when every push
    of a run ends so."""


# The engine relays the registry's answer as text (distribution's `errcode` names, or the
# HTTP status of an unexpected answer; Go's network errors when the connection failed).
_PUSH_REFUSED = re.compile(r"(?i)unauthorized|denied|authenticat|forbidden|\b40[13]\b")
_PUSH_TRANSIENT = re.compile(
    r"(?i)\b(?:429|500|502|503|504)\b|toomanyrequests|unavailable|connection reset|"
    r"connection refused|broken pipe|i/o timeout|timeout|\bEOF\b|unexpected HTTP status: 5"
)


def push_is_transient(message: str) -> bool:
    """Worth pushing again: rate limited, a 5xx or a broken connection. Never a refused login."""
    return not _PUSH_REFUSED.search(message) and bool(_PUSH_TRANSIENT.search(message))


def push(
    reference: str,
    credentials: Credentials | None,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """Push, again after a transient failure (the engine skips the layers the registry
    already has, so a retry resends only what was missing); return the registry digest.
    `on_status` hears each layer's state as the engine reports it (`3f2a…: Pushing`)."""
    return again_if_transient(
        f"push of {reference}", lambda: _push_once(reference, credentials, on_status)
    )


T = TypeVar("T")


def again_if_transient(what: str, action: Callable[[], T]) -> T:
    """`action`, again with the run's backoff (http_retry) while it fails with a registry
    error worth retrying, until the attempts or the deadline run out."""
    attempt = 0
    while True:
        try:
            return action()
        except PushError as exc:
            if not push_is_transient(exc.message):
                raise
            wait = http_retry.next_wait(
                http_retry.POLICY, attempt, None, http_retry.run_deadline().remaining(),
                random.random(),
            )  # fmt: skip
            if wait is None:
                raise
            log.info(f"{what} failed ({exc.message}); trying again in {wait:.1f}s")
            time.sleep(wait)
            attempt += 1


def _push_once(
    reference: str, credentials: Credentials | None, on_status: Callable[[str], None] | None = None
) -> str:
    client = docker_client()
    repository, tag = reference.rsplit(":", 1)
    auth = (
        {"username": credentials.username, "password": credentials.password}
        if credentials
        else None
    )
    digest = ""
    try:
        for chunk in client.images.push(
            repository, tag, auth_config=auth, stream=True, decode=True
        ):
            if "error" in chunk:
                raise PushError(f"push of {reference} failed: {chunk['error']}")
            if on_status and chunk.get("status"):
                layer = f"layer {chunk['id']}: " if chunk.get("id") else ""
                on_status(f"{layer}{chunk['status']}")
            aux = chunk.get("aux") or {}
            digest = aux.get("Digest", digest)
    except DockerException as exc:
        raise FolderError(f"push of {reference} failed: {exc}") from exc
    return digest


def native_platform() -> str:
    """The engine's own platform, as `os/architecture` (Docker reports x86_64, aarch64)."""
    info = docker_client().info()
    machine = str(info.get("Architecture") or "")
    architecture = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7"}.get(machine, machine)
    return f"{info.get('OSType') or 'linux'!s}/{architecture}"


def local_image_id(reference: str) -> str | None:
    try:
        return str(docker_client().images.get(reference).id)
    except (DockerException, DockerUnavailableError):
        return None


def pull(reference: str, credentials: Credentials | None) -> None:
    """Fetch an image that exists in the registry but not here (to check it), again after a
    transient failure as a push."""
    repository, tag = reference.rsplit(":", 1)
    auth = (
        {"username": credentials.username, "password": credentials.password}
        if credentials
        else None
    )

    def pull_once() -> None:
        try:
            docker_client().images.pull(repository, tag=tag, auth_config=auth)
        except DockerException as exc:
            raise PushError(f"cannot pull {reference} to check it: {exc}") from exc

    again_if_transient(f"pull of {reference}", pull_once)
