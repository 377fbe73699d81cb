"""Build an image with BuildKit (the check: image_programs.py; the push: push_pull.py).

Why the docker CLI and not the Docker SDK's `images.build`: the SDK calls the engine's
legacy builder, which rejects `RUN --mount=type=cache` and ignores `# syntax=`, so many real
Dockerfiles would not build. The CLI (a 20.10 client with BuildKit built in, or a newer one
with the buildx plugin) runs BuildKit in the engine, and sends the build context through the
API, so it also works from inside the action's container against the host's socket, where a
bind mount would name paths that do not exist on the host. Everything else (inspect, run
the check, push) goes through the SDK.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.core import heartbeat, run_files
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import build_site, cancellation, leftovers
from prefect_flow_deploy.docker.build_log import (
    build_error_headline,
    failure_location,
    shared_step_note,
)
from prefect_flow_deploy.reading.dockerfile import folder_dockerfile
from prefect_flow_deploy.reading.linked_files import staged_context


@dataclass
class BuildRequest:
    reference: str
    context: Path
    dockerfile_text: str | None  # None: the folder's own Dockerfile
    dockerignore_text: str | None
    build_args: Mapping[str, str]
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
            found = folder_dockerfile(request.context)  # `Dockerfile`, else `dockerfile`
            dockerfile = context / (found.name if found is not None else "Dockerfile")
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
        returncode, output = _run_saying(command, env, on_step, request.reference)
    if returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        headline = build_error_headline(output) or shared_step_note(output)
        file, line = failure_location(output, request.context, request.dockerfile_text is not None)
        raise FolderError(
            f"docker build failed{': ' + headline if headline else ''}\n{tail}",
            file=str(file) if file else None,
            line=line,
        )
    return output


BUILD_BEAT = 30.0  # seconds between two lines of a slow build


def _run_saying(
    command: list[str], env: dict[str, str], on_step: Callable[[str], None] | None, reference: str
) -> tuple[int, str]:
    """_run_streaming, saying every 30 s which step a slow build is at: in a CI log a long
    `pip install` printed nothing for 25 minutes, like a hung builder (trial round 9 b 4)."""
    last = ["starting"]

    def heard(step: str) -> None:
        last[0] = step
        if on_step is not None:
            on_step(step)

    def say(seconds: float) -> None:
        log.info(f"building {reference}: {seconds:.0f} s so far, at {last[0]}")

    with heartbeat.while_waiting(say, BUILD_BEAT):
        return _run_streaming(command, env, heard, f"building {reference}")


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
