"""Judge a built (or pulled) image before any deployment points at it: the flow files are
where the deployment will look, Prefect 3 is installed, the ENTRYPOINT runs the worker's
command, the imported packages are there, and so are the names imported from Prefect; and
the parameter schemas only the image can compute. Each verdict is a FolderError at the file
and line to fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import BuildRecipe, FlowFolder
from prefect_flow_deploy.core.results import ComputedFlow
from prefect_flow_deploy.docker import image_errors, image_programs
from prefect_flow_deploy.docker.missing_modules import found_by_name, module_errors
from prefect_flow_deploy.reading.loaded_files import load_risk
from prefect_flow_deploy.reading.prefect_removed import import_fails
from prefect_flow_deploy.reading.python_source import FolderSource

NOTHING_INSTALLS = (
    ". Nothing sets EXTRA_PIP_PACKAGES for its runs (the deployment's env, the tenant's job "
    "variables, the pool's default env, the image's ENV), so every run fails the same way: "
    "add the package to requirements.txt"
)
# By entrypoint: why that flow cannot run from the image, where the folder's others can.
FlowErrors = dict[str, FolderError]
Loads = image_programs.Loads


def check(
    folder: FlowFolder,
    recipe: BuildRecipe,
    reference: str,
    projects_root: Path,
    installs_at_start: bool,
    env: dict[str, str],
) -> tuple[str, dict[str, dict[str, Any]], dict[str, ComputedFlow], FlowErrors]:
    """Check the image; return where it holds the folder's code, the schemas and flow names
    it computed, and the flows that fail on their own (by entrypoint). What fails every flow
    (the image itself, a module of the folder's shared code) raises FolderError.
    `installs_at_start`: whether a run may install a package the image lacks as it starts
    (EXTRA_PIP_PACKAGES); if not, a flow whose load lacks one fails. `env`: what its runs
    get (the pool's default env and the deployments' over it: ImageWork._run_env)."""
    entry_files = {f.file: recipe.files[f.file] for f in folder.flows if f.file in recipe.files}
    missing = [f.file for f in folder.flows if f.file not in recipe.files]
    if missing:
        raise FolderError(
            f"{', '.join(missing)} is excluded from the build by .dockerignore, so the "
            "deployment could not find its flow. Remove the matching line from .dockerignore.",
            file=str(folder.path / ".dockerignore"),
        )
    modules = sorted({i.module for i in found_by_name(folder)} - {"prefect"})
    loaded = loaded_in_image(folder)
    names = sorted({(i.path, i.name) for i in folder.imports if i.path})
    try:
        result = image_programs.check_image(
            reference, entry_files, recipe.expected_code_dir, modules, loaded, names,
            env,
        )  # fmt: skip
    except image_programs.NoPythonError as exc:  # at the base image's line
        raise FolderError(exc.message, *image_errors.final_from(folder)) from None
    if not result.prefect_version:
        raise image_errors.no_prefect_error(folder)
    image_errors.check_prefect_major(folder, result.prefect_version)
    if result.worker_command_error:
        raise image_errors.worker_command_error(folder, result.worker_command_error)
    if result.entrypoint_ignoring_command:
        raise image_errors.entrypoint_error(folder, result.entrypoint_ignoring_command)
    if not result.code_dir:
        raise FolderError(*image_errors.missing_code(folder))
    errors = [
        *prefect_name_errors(folder, result.prefect_missing, result.prefect_version),
        *module_errors(folder, result.missing_modules, projects_root),
        *image_errors.absent_errors(folder, result.absent, result.code_dir),
    ]
    failing = _flow_errors(folder, errors)
    if errors and not _in_flow_files(folder, errors):
        raise _first_said(folder, errors)  # shared code
    if errors and _every_flow(folder, failing):
        raise _first_said(folder, errors, failing)  # nothing left to deploy
    _say(folder, errors)  # the other flows go on: each said at its line, now
    schemas, flow_names, unloadable = compute_schemas(
        folder, reference, result.code_dir, result, loaded, set(failing), installs_at_start,
        env,
    )  # fmt: skip
    failing |= unloadable
    if _every_flow(folder, failing):
        raise _first_said(folder, list(unloadable.values()), failing)
    _say(folder, list(unloadable.values()))
    return result.code_dir, schemas, flow_names, failing


def _flow_errors(folder: FlowFolder, errors: list[FolderError]) -> FlowErrors:
    """Each flow whose own file has an error, with its first."""
    failing: FlowErrors = {}
    for flow in folder.flows:
        own = next((e for e in errors if e.file == str(folder.path / flow.file)), None)
        if own is not None:
            failing[flow.entrypoint] = own
    return failing


def _in_flow_files(folder: FlowFolder, errors: list[FolderError]) -> bool:
    """Whether every error is in a flow file (one in a module they share fails them all)."""
    files = {str(folder.path / f.file) for f in folder.flows}
    return all(e.file in files for e in errors)


def _every_flow(folder: FlowFolder, failing: FlowErrors) -> bool:
    return bool(failing) and all(f.entrypoint in failing for f in folder.flows)


def _say(folder: FlowFolder, errors: list[FolderError]) -> None:
    for error in errors:
        log.error(f"{folder.key}: {error.message}", file=error.file, line=error.line,
                  title="Flow cannot run")  # fmt: skip


def _first_said(
    folder: FlowFolder, errors: list[FolderError], each: FlowErrors | None = None
) -> FolderError:
    """The folder fails with the first; the others are said now, not one deploy at a time.
    `each`: every flow's own error, when each failed on its own (its row says its own:
    trial round 10 b 3, every row said the first flow's)."""
    _say(folder, errors[1:])
    errors[0].flow_errors = dict(each or {})
    return errors[0]


def _pending(folder: FlowFolder) -> list[str]:
    """Flows whose schema or name only the image can tell."""
    return [f.entrypoint for f in folder.flows if f.parameter_schema is None or f.name_pending]


def loaded_in_image(folder: FlowFolder) -> Loads:
    """Flows loaded in the image, each with the libraries whose imports alone its load may
    raise at (imported without Prefect; Prefect loads it when one fails), or None: Prefect
    loads it. Those pending; those of a file that changes `sys.path` before an import
    (`sys.path.insert(0, str(Path(__file__).parent.parent))` then `from flows.x import …`):
    whether it imports is known only by loading it; and those whose top runs code that may
    raise, as a run loads them."""
    changed = _path_changing(folder)
    functions = {f.function for f in folder.flows}
    source = FolderSource(folder.path)
    risks = {
        f: load_risk(source, folder.path / f, functions) for f in {f.file for f in folder.flows}
    }
    pending = _pending(folder)
    loads: Loads = dict.fromkeys(pending)
    for flow in folder.flows:
        risk = risks[flow.file]
        if flow.entrypoint in loads or not (flow.file in changed or risk.load or risk.libraries):
            continue
        quick = flow.file not in changed and not risk.load
        loads[flow.entrypoint] = [(m, list(n)) for m, n in risk.libraries] if quick else None
    return loads


def _path_changing(folder: FlowFolder) -> set[str]:
    """The files that change `sys.path` at their top before an import."""
    return {i.file for i in folder.imports if i.after_path_change and not i.nested}


def run_env(folder: FlowFolder) -> dict[str, str]:
    """The environment the folder's deployments give their runs (`job_variables.env` of its
    prefect.yaml entries, the first entry's value where two differ), for loading its flow
    files in the image as a run would: a module-level settings object that reads one
    (`Settings()` of pydantic-settings) loads there as in a run. A value the worker fills in
    at run time (`{{ prefect.blocks.secret.x }}`) is left out: here it is not one."""
    env: dict[str, str] = {}
    for config in folder.deployment_configs:
        given = config.job_variables.get("env")
        if not isinstance(given, dict):
            continue
        for name, value in given.items():
            if isinstance(value, str | int | float | bool) and "{{" not in str(value):
                env.setdefault(str(name), str(value))
    return env


def compute_schemas(
    folder: FlowFolder,
    reference: str,
    code_dir: str,
    checked: image_programs.ImageCheck,
    loaded: Loads,
    skip: set[str],
    installs_at_start: bool,
    env: dict[str, str],
) -> tuple[dict[str, dict[str, Any]], dict[str, ComputedFlow], FlowErrors]:
    """Schemas and names the source alone cannot tell (a type from a library the engine
    does not have, a name made by running the file): Prefect computes them in the image
    (image_programs.image_schemas says why there); and the flows it cannot load, each with
    why. `loaded`: loaded_in_image's flows, as the check was given them; `skip`: flows
    already failing (their answers are not read)."""
    pending, changed = set(_pending(folder)), _path_changing(folder)
    if not loaded:
        return {}, {}, {}
    schemas: dict[str, dict[str, Any]] = {}
    names: dict[str, ComputedFlow] = {}
    failing: FlowErrors = {}
    answers: Mapping[str, dict[str, Any]] = image_programs.image_schemas(
        reference, code_dir, loaded, checked, env
    )
    for entrypoint, answer in answers.items():
        if entrypoint in skip or ("error" not in answer and entrypoint not in pending):
            continue  # failing already; or loaded to see that it imports: its schema is read
        if "error" in answer:
            flow = next(f for f in folder.flows if f.entrypoint == entrypoint)
            # Loaded only for what its top runs (not a schema, nor a sys.path change whose
            # imports only this loading judges): what a run's environment may give is said.
            judged = entrypoint in pending or flow.file in changed
            error = answer["error"]
            package = "ModuleNotFoundError" in error and not _own_module_missing(
                folder, flow.file, error
            )  # not one of the folder's own modules: a package the image lacks
            if answer.get("environment") and not judged and package and installs_at_start:
                continue  # a run may install it as it starts: the import check's warning said it
            if answer.get("environment") and not judged and "ModuleNotFoundError" not in error:
                file, line = _raised_at(folder, answer, flow.file, flow.line)
                log.warning(
                    f"{folder.key}: loading {entrypoint} in the built image raised "
                    f"{error}; a run raises it too unless its environment provides "
                    "what the file reads at its top (a variable, a file, a network service: "
                    "the check runs without them).",
                    file=file,
                    line=line,
                    title="Flow may not load",
                )
                continue
            if package and not installs_at_start:
                error += NOTHING_INSTALLS
            file, line = _raised_at(folder, answer, flow.file, flow.line)
            failing[entrypoint] = FolderError(
                f"Prefect cannot load the flow {entrypoint} in the built image, so no run "
                f"of it would start: {error}",
                file=str(file),
                line=line,
            )
            continue
        schemas[entrypoint] = answer["schema"]
        if answer.get("name") is not None:
            description = answer.get("description")
            names[entrypoint] = ComputedFlow(
                str(answer["name"]), description if isinstance(description, str) else None
            )
    return schemas, names, failing


def _raised_at(
    folder: FlowFolder, answer: dict[str, Any], file: str, line: int | None
) -> tuple[Path, int | None]:
    """Where loading raised, when it was in the folder's code (`src/utils/auth.py:10`),
    else the flow's own line."""
    at = answer.get("at")
    raised, number = at if isinstance(at, list) and len(at) == 2 else (None, None)
    if (
        isinstance(raised, str)
        and isinstance(number, int)
        and ".." not in raised
        and (folder.path / raised).is_file()  # the image's code dir holds the folder as it is
    ):
        return folder.path / raised, number
    return folder.path / file, line


def _own_module_missing(folder: FlowFolder, file: str, error: str) -> bool:
    """A ModuleNotFoundError for a submodule of the folder's own package (`from pkg.sub.loader
    import …`, pkg/ there, pkg/sub/ not): no package a run installs gives it, and the import
    check, which looks at `pkg`, said nothing (trial round 9 b 7)."""
    named = re.search(r"No module named '([A-Za-z0-9_]+)\.", error)
    if "ModuleNotFoundError" not in error or named is None:
        return False
    return any((d / named[1]).is_dir() for d in {folder.path, (folder.path / file).parent})


def prefect_name_errors(
    folder: FlowFolder, missing: list[tuple[str, str]], version: str | None
) -> list[FolderError]:
    """Names the code imports from Prefect that the image's own Prefect does not have (code
    written for another Prefect: `prefect.orion`, a class since removed): at module level the
    import fails before any flow of the file starts, in every run (an error each); inside a
    function, when that runs (a warning, said now)."""
    gone, errors = set(missing), []
    for imported in folder.imports:
        if (imported.path, "") in gone:
            what = f"no module {imported.path}"
        elif (imported.path, imported.name) in gone:
            what = f"no `{imported.name}` in {imported.path}"
        else:
            continue
        message = (
            f"`from {imported.path} import {imported.name}`: the image's Prefect {version} has "
            f"{what}, so {import_fails(imported.nested)}. Import it from where this Prefect "
            "has it, or, if the code was written for a newer Prefect 3, require that version "
            "in requirements.txt (Prefect 2 code must be ported: a Prefect 3 worker runs it)."
        )
        file = folder.path / imported.file
        if imported.nested:
            log.warning(f"{folder.key}: {message}", file=file, line=imported.line,
                        title="Not in this Prefect")  # fmt: skip
        else:
            errors.append(FolderError(message, file=str(file), line=imported.line))
    return errors


def missing_modules(
    folder: FlowFolder, missing: list[str], projects_root: Path
) -> FolderError | None:
    """The first of module_errors, the others said now."""
    errors = module_errors(folder, missing, projects_root)
    return _first_said(folder, errors) if errors else None


def served_mismatch(reference: str, pushed: str | None, served: str | None) -> str | None:
    """Why the image the registry serves under `reference` right after the push is not the
    one pushed (another push of the tag in between, a cache in front of the registry), or
    None. An empty `pushed` (the engine told none) cannot be compared."""
    if not pushed or served == pushed:
        return None
    return (
        f"the registry serves {served or 'nothing'} under {reference}, not the {pushed} just "
        "pushed: another push replaced the tag, or a cache or proxy in front of the registry "
        "serves another image. Nothing is deployed from it; run again (a content tag is "
        "pushed by this repository's runs only), or check what sits in front of the registry."
    )
