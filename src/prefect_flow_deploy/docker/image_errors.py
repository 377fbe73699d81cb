"""What the image check says of an image as a whole, each at the Dockerfile, requirements or
pyproject line to change: no Python or Prefect, Prefect 2, an ENTRYPOINT that swallows the
worker's command, that command failing, the flow files not where a run looks."""

from __future__ import annotations

import json
import re

from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.model import FlowFolder
from prefect_flow_deploy.docker import image_programs
from prefect_flow_deploy.in_image import check_image as check_program
from prefect_flow_deploy.reading.dockerfile import last_instruction_line, logical_lines
from prefect_flow_deploy.reading.requirements import holding_prefect_back, requirement_line


def entrypoint_error(folder: FlowFolder, entrypoint: list[str]) -> FolderError:
    line = None
    if folder.dockerfile is not None:
        text = folder.dockerfile.read_text(errors="replace")
        line = last_instruction_line(text, "ENTRYPOINT")
    where = "its ENTRYPOINT" if line else "the ENTRYPOINT it inherits from its base image"
    return FolderError(
        f"the image runs {where}, {json.dumps(entrypoint)}, which does not run the command it "
        "is given: the Docker worker starts each flow run as the container's command "
        "(`prefect flow-run execute`), so no run of this deployment would start its flow. "
        "Remove the ENTRYPOINT (a CMD is fine: the worker replaces it), or end the "
        'entrypoint script with `exec "$@"`.',
        file=str(folder.dockerfile or folder.path),
        line=line,
    )


# A traceback's exception line: `pkg.errors.SomeError: message` (also a bare `SomeError`),
# a dotted name at the line's start, then a colon or nothing.
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(:\s|:?$)")


def _exception_line(lines: list[str]) -> int:
    """The index of the last line naming the exception: pydantic prints "For further
    information visit https://errors.pydantic.dev/…" after it, which said nothing as the one
    line a row shows (trial round 10 a 6). The last line when none is."""
    named = [i for i, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    return named[-1] if named else len(lines) - 1


def worker_command_error(folder: FlowFolder, printed: str) -> FolderError:
    """The image's Prefect imports but its CLI, which starts every run, does not (an old pin
    on a newer Python: Prefect 3.4.6's CLI imports importlib_metadata, which it requires
    only below 3.10; jakekaplan/demo-flows). At the pin's line, when requirements.txt has one."""
    if printed.startswith(check_program.OFF_PATH) and folder.dockerfile is not None:
        text = folder.dockerfile.read_text(errors="replace")
        user_bin = printed.removeprefix(check_program.OFF_PATH)
        return FolderError(
            f"the Docker worker starts each flow run with {image_programs.WORKER_COMMAND}, and "
            f"in this image {printed} (pip's user scheme: a non-root USER's install), so every "
            f"run would crash. Add `ENV PATH={user_bin}:$PATH` after this line.",
            file=str(folder.dockerfile),
            line=last_instruction_line(text, "USER") or final_from(folder)[1],
        )
    lines = printed.strip().splitlines() or [printed]
    last = _exception_line(lines)
    # a chained cause above the last exception may name the pin (in_image worker_command)
    causes = [i for i, line in enumerate(lines[:last]) if check_program.EXCEPTION_LINE.match(line)]
    found = ((i, pin_failing(folder, lines[i])) for i in [*causes, last])
    at, pinned = next(((i, p) for i, p in found if p is not None), (last, None))
    said = lines[at] + ("\n" + "\n".join(lines[:at] + lines[at + 1 :]) if len(lines) > 1 else "")
    if pinned is not None:
        return FolderError(
            f"the Docker worker starts each flow run with {image_programs.WORKER_COMMAND}, "
            f"and in this image that command fails, so every run would crash: {said}\nThis "
            f"line pins `{pinned[1]}`, in place of the version Prefect's own dependencies "
            "need (pip said so in the build; `pip check` in the image names them): remove "
            "the pin or raise it.",
            file=str(folder.requirements),
            line=pinned[0],
        )
    file, line = prefect_pin(folder)
    return FolderError(
        f"the Docker worker starts each flow run with {image_programs.WORKER_COMMAND}, and in "
        f"this image that command fails, so every run would crash: {said}\nInstall a Prefect "
        "3 that runs with the image's Python and packages (an older pin may lack what its CLI "
        "imports there, or meet a newer library it does not support), or base the image on "
        "prefecthq/prefect:3-….",
        file=file,
        line=line,
    )


def pin_failing(folder: FlowFolder, error: str) -> tuple[int, str] | None:
    """The requirements.txt line pinning the module an ImportError names (`cannot import name
    'Sentinel' from 'typing_extensions'`: a `pip freeze` pin older than pydantic-core needs;
    CBIIT/C3DC-Prefect-Dataloader, blamed on the image's Prefect, at the folder)."""
    named = re.search(r"(?:from|No module named) '([A-Za-z0-9_]+)", error)
    if folder.requirements is None or named is None or named[1] == "prefect":
        return None
    line = requirement_line(folder.requirements, named[1])
    return (line, named[1]) if line else None


def prefect_pin(folder: FlowFolder) -> tuple[str, int | None]:
    """Where the image's Prefect is chosen: the pin in requirements.txt, else in the
    folder's pyproject.toml (jonathjd/prefect-oop-example: `prefect==3.4.7` there, said at
    the Dockerfile without a line), else the Dockerfile's last RUN that installs packages,
    else its FROM."""
    if folder.requirements and (line := requirement_line(folder.requirements, "prefect")):
        return str(folder.requirements), line
    pyproject = folder.path / "pyproject.toml"
    if pyproject.is_file():
        rows = pyproject.read_text(errors="replace").splitlines()
        found = [n for n, t in enumerate(rows, 1) if re.search(r"""["']prefect\b""", t)]
        if found:
            return str(pyproject), found[0]
    if folder.dockerfile is not None:
        text = folder.dockerfile.read_text(errors="replace")
        installs = [
            n for n, i in logical_lines(text)
            if i.split()[:1] == ["RUN"] and re.search(r"\b(pip|uv|poetry|pdm)\b.*\b(install|sync)\b", i)
        ]  # fmt: skip
        if installs:
            return str(folder.dockerfile), installs[-1]
    return final_from(folder) if folder.dockerfile else (str(folder.path), None)


def check_prefect_major(folder: FlowFolder, version: str | None) -> None:
    """Prefect 2 in the image (an old pin in requirements.txt) cannot run a Prefect 3 flow
    run: say so now, pointing at the pin."""
    major = (version or "").split(".")[0]
    if not major.isdigit() or int(major) >= 3:
        return
    held = holding_prefect_back(folder.requirements) if folder.requirements else None
    if held is not None:
        at, pin, wanted = held
        raise FolderError(
            f"the image has Prefect {version}, and the deployment is run by a Prefect 3 "
            f"worker, which cannot start it: pip took that older Prefect because `{pin}` is "
            f"outside what Prefect 3 requires (`{wanted}`). Loosen or remove that pin.",
            file=str(folder.requirements),
            line=at,
        )
    line = requirement_line(folder.requirements, "prefect") if folder.requirements else None
    file, line = (str(folder.requirements), line) if line is not None else final_from(folder)
    if line is None and folder.dockerfile is None and folder.requirements is not None:
        file = str(folder.requirements)
    raise FolderError(
        f"the image has Prefect {version}, and the deployment is run by a Prefect 3 worker, "
        "which cannot start it. Require `prefect>=3` (or remove the pin and use the base "
        "image's Prefect 3).",
        file=file,
        line=line,
    )


def no_prefect_error(folder: FlowFolder) -> FolderError:
    if folder.dockerfile is None:
        return FolderError(
            "the image has no `prefect` package, so the Docker worker cannot run the flow. Use "
            "a base image with Prefect 3 (--base-image) or add `prefect>=3` to requirements.txt.",
            file=str(folder.requirements or folder.path),
        )
    return FolderError(
        "the image has no `prefect` package, so the Docker worker cannot run the flow. Base "
        "the Dockerfile on a prefecthq/prefect:3-… image or add `prefect>=3` to "
        "requirements.txt and install it.",
        *final_from(folder),
    )


def final_from(folder: FlowFolder) -> tuple[str, int | None]:
    """The Dockerfile's last FROM (the image's base, where its stage starts), or the folder
    when the base image is given (--base-image)."""
    if folder.dockerfile is None:
        return str(folder.path), None
    text = folder.dockerfile.read_text(errors="replace")
    return str(folder.dockerfile), last_instruction_line(text, "FROM")


def absent_errors(folder: FlowFolder, absent: list[str], code_dir: str) -> list[FolderError]:
    """A flow file the image's code directory lacks where it holds the folder's others (a
    Dockerfile copying one subfolder): its flows fail, at the file; the others deploy
    (Heipa37/Prefect_DBT_Docker: `COPY flows flows` failed the folder's four flows)."""
    held = sorted({f.file for f in folder.flows} - set(absent))
    return [
        FolderError(
            f"{file} is not in the image: its code directory {code_dir} holds "
            f"{', '.join(held)} and not this file, so a run of its flows would crash with "
            "FileNotFoundError. Copy it in beside them (or `COPY . .` in that directory).",
            file=str(folder.path / file),
        )
        for file in absent
    ]


def missing_code(folder: FlowFolder) -> tuple[str, str, int | None]:
    """Message, file and line: at the last stage's COPY of the folder that misses, else at
    that stage's FROM (a builder stage's COPY is not in the image)."""
    file, line = final_from(folder)
    target = f"/opt/prefect/flows/{folder.name}"
    hint = f"add `COPY . {target}` and `WORKDIR {target}` to the image's last stage"
    if folder.dockerfile is not None:
        text = folder.dockerfile.read_text(errors="replace")
        for number, instruction in logical_lines(text):
            words = instruction.strip().split()
            if line is not None and number <= line:
                continue  # an earlier stage
            if words and words[0].upper() in ("COPY", "ADD") and "." in words[1:2]:
                hint = (
                    f"`{instruction.strip()}` does not put the flow files where they can be "
                    f"found; make it `COPY . {target}` and add `WORKDIR {target}`"
                )
                line = number
                break
    flow_files = ", ".join(sorted({f.file for f in folder.flows}))
    message = (
        f"the image does not contain this folder's flow files ({flow_files}), so the "
        f"deployment would crash with FileNotFoundError: {hint}."
    )
    return message, file, line
