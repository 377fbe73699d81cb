"""What a failed build's log says: the step that failed, the Dockerfile or requirements.txt
line to fix, and the lines that say what went wrong (pip's `ERROR: …`)."""

from __future__ import annotations

import re
from pathlib import Path

from prefect_flow_deploy.reading.dockerfile import (
    folder_dockerfile,
    instruction_line,
    logical_lines,
)
from prefect_flow_deploy.reading.requirements import requirement_line

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


def failure_location(
    log: str, context: Path, default_recipe: bool
) -> tuple[Path | None, int | None]:
    """Where the user should look: the folder's Dockerfile at the instruction that failed,
    or, when our default recipe's pip install failed, requirements.txt at the bad line."""
    requirements = context / "requirements.txt"
    if default_recipe:
        steps = _failed_steps(log)
        if steps and "requirements.txt" in steps[-1] and requirements.is_file():
            return requirements, failed_requirement_line(log, requirements)
        return None, None
    dockerfile = folder_dockerfile(context) or context / "Dockerfile"
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
    # BuildKit names the step with the image's ENV expanded (`. /app/.venv/bin/activate`),
    # its executor's error with the command as written (`. $VIRTUAL_ENV/bin/activate`).
    written = [f"RUN {command}" for command in _EXECUTOR_FAILED.findall(log)[-1:]]
    for step in [steps[-1], *written]:
        line = instruction_line(text, step) or _run_line(text, step)
        if line is not None:
            return dockerfile, line
    return dockerfile, None


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
    # pip's list of versions it skipped for the Python comes first and may be 1,500
    # characters (a `pip freeze` of a Windows machine: BTHiggins/WeatherData's pywin32, trial
    # round 10): the line naming the requirement it could not satisfy goes before it.
    found.sort(key=lambda text: text.startswith(_PIP_SKIPPED))
    return " / ".join(found[:3])


_PIP_SKIPPED = "ERROR: Ignored the following versions"
