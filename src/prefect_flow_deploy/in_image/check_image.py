"""The program the check runs in the built image, with the image's own python.

The check (standard library only, and fast: no `import prefect`): is prefect importable, where
are the folder's files, and which of the modules the code imports cannot be found (found, never
imported: no code of the repository runs), and which names the code imports from Prefect
the image's Prefect does not have (read from its source files); and whether the command the
Docker worker gives each run starts (`prefect flow-run execute --help`, in a process of its
own, once per Python and Prefect environment a run meets). Argument: JSON {"files":
{relative path: sha256}, "candidates": [dirs to try first], "modules": [top-level names],
"prefect_names": [[module, name]], "verified": [environments whose command started]}.
Prints one JSON line: {"prefect", "code_dir", "cwd", "missing", "prefect_missing",
"environment", "worker_command"}.

The schemas, when the argument has "entrypoints": Prefect's own loader (the one a flow run
uses) on each, and Prefect's own parameter schema of the flow. This imports the flow's module,
so it runs the repository's code: only here, in the image (it has the flow's dependencies,
which the engine lacks), with no network and nothing of the engine's environment (no
registry or Prefect credentials), never in the engine's process. After the check (when it
found Prefect and the code), or alone with {"code_dir", "entrypoints"}. With "imports"
{entrypoint: [[module, [names]]]}, a flow whose load may raise only at its libraries' imports:
those are imported alone (no Prefect: most flow files import no more than that), and Prefect
loads the flow only when one fails, to say what a run would. Prints, last, one line
`PFD-SCHEMAS {entrypoint: {"schema": ..., "name": ...} or {"error": "Type: message"} or
{"imported": true}}` (the flows' own prints come before it). With "seconds", a watchdog ends the process with status 1 if loading
takes longer (even stuck in C code), after printing `Timeout (h:mm:ss)!` on stderr.
"""

from __future__ import annotations

import faulthandler
import hashlib
import importlib.util
import json
import os
import re
import sys
from typing import Any

# Inlined into the program's text by image_programs.in_image_program (the image has no package).
from prefect_flow_deploy.in_image.prefect_names import prefect_missing

MARKER = "PFD-SCHEMAS "
# What an OS error of the network leaves in the message of a client's own exception class
# (psycopg's and SQLAlchemy's OperationalError, botocore's EndpointConnectionError, urllib3's
# MaxRetryError): the check has no network, a run has (jwc20/prefect connects to its database
# at import; refused as unloadable, trial round 11 a 7).
NO_NETWORK = (
    "Network is unreachable", "Temporary failure in name resolution",
    "Name or service not known", "nodename nor servname provided", "No route to host",
    "Connection refused", "could not translate host name", "getaddrinfo failed",
    "Could not connect to the endpoint URL", "Failed to establish a new connection",
)  # fmt: skip
# What Prefect's client raises for an API call without an API URL (the check gives none).
NO_API = "No Prefect API URL provided"

# Never where a Dockerfile copies a folder's code, and slow or endless to walk.
SKIPPED_DIRS = (
    "/proc",
    "/sys",
    "/dev",
    "/usr/lib",
    "/usr/share",
    "/usr/include",
    "/var/lib",
    "/etc",
)
SKIPPED_NAMES = ("site-packages", "dist-packages", "__pycache__", "node_modules")


def prefect_version() -> str | None:
    if not importlib.util.find_spec("prefect"):
        return None
    from importlib.metadata import version

    try:
        return version("prefect")
    except Exception:
        return "unknown"


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def holds(directory: str, files: dict[str, str]) -> bool:
    """Every file is under `directory` with the content the engine hashed."""
    try:
        return all(
            os.path.isfile(os.path.join(directory, relative))
            and sha256(os.path.join(directory, relative)) == digest
            for relative, digest in files.items()
        )
    except OSError:
        return False


def search(files: dict[str, str], root: str = "/") -> str | None:
    """Walk the filesystem for a directory holding the files (the candidates missed)."""
    first = sorted(files)[0]
    parent, name = os.path.dirname(first), os.path.basename(first)
    skip = {os.path.join(root, d.lstrip("/")) for d in SKIPPED_DIRS}
    for current, dirs, names in os.walk(root):
        dirs[:] = [
            d for d in dirs if os.path.join(current, d) not in skip and d not in SKIPPED_NAMES
        ]
        if current.endswith(parent) and name in names:
            base = current[: len(current) - len(parent)] if parent else current
            if holds(base, files):
                return base.rstrip("/") or "/"
    return None


def code_dir(files: dict[str, str], candidates: list[str], root: str = "/") -> str | None:
    for candidate in candidates:
        if candidate and holds(candidate, files):
            return candidate
    return search(files, root)


def partly(files: dict[str, str], candidates: list[str]) -> tuple[str | None, list[str]]:
    """The candidate holding the most of the files (one at least), and those it lacks: a
    Dockerfile copying one subfolder of the flow folder holds its flows, not the others."""
    best: tuple[str | None, list[str]] = (None, sorted(files))
    for candidate in candidates:
        absent = [f for f in sorted(files) if not holds(candidate, {f: files[f]})]
        if candidate and len(absent) < len(best[1]):
            best = (candidate, absent)
    return best if best[0] is not None else (None, [])


def check(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"prefect": prefect_version(), "code_dir": None, "cwd": os.getcwd()}
    found = code_dir(args["files"], args["candidates"])
    if found is None:
        found, absent = partly(args["files"], args["candidates"])
        if absent:
            out["absent"] = absent
    out["code_dir"] = found
    if found:  # the folder's own modules are found there, as in a flow run
        sys.path.insert(0, found)
    out["missing"] = [m for m in args.get("modules", []) if importlib.util.find_spec(m) is None]
    if out["prefect"]:
        out["prefect_missing"] = prefect_missing(args.get("prefect_names", []))
        out["environment"] = found = prefect_environment()
        if found not in args.get("verified", []):  # the same Prefect passed it this run
            out["worker_command"] = worker_command()
    return out


def prefect_environment() -> str:
    """What the worker's command depends on, as one digest: this Python, the `prefect`
    script's first line, and the installed version of Prefect and of each distribution it
    requires (the whole closure, read from the metadata: nothing is imported)."""
    import re
    import shutil
    from importlib import metadata

    versions: dict[str, str] = {}
    todo = ["prefect"]
    while todo:
        try:
            found = metadata.distribution(todo.pop())
        except metadata.PackageNotFoundError:
            continue
        name = re.sub(r"[-_.]+", "-", found.metadata["Name"] or "").lower()
        if name in versions:
            continue
        versions[name] = found.version
        todo += [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in found.requires or []
                 if "extra ==" not in r]  # fmt: skip
    script = shutil.which("prefect")
    try:
        with open(script or "", "rb") as f:
            first = f.readline().decode(errors="replace")
    except OSError:
        first = ""
    digest = hashlib.sha256("|".join([sys.version, first]).encode())
    for name, version in sorted(versions.items()):
        digest.update(f"|{name}=={version}".encode())
    spec = importlib.util.find_spec("prefect")  # and its own files (one edited or removed)
    for root in (spec.submodule_search_locations or []) if spec else []:
        for current, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                size = os.stat(os.path.join(current, name)).st_size
                digest.update(f"|{os.path.relpath(current, root)}/{name}:{size}".encode())
    return digest.hexdigest()


WORKER_SECONDS = 120


# What worker_command says when pip put the `prefect` script in the user scheme's bin
# folder, which is not on the PATH (the folder follows).
OFF_PATH = "the `prefect` command is not on the PATH; pip installed it in "


def worker_command() -> str | None:
    """None when the command the Docker worker gives each flow run, `prefect flow-run
    execute` (BaseJobConfiguration._base_flow_run_command), starts: the `prefect` script on
    the PATH, under the Python its first line names, loading Prefect's CLI (asked for its
    help: it runs nothing). Else what it printed: an image whose Prefect imports but whose
    CLI cannot (a pin whose dependencies this Python lacks) crashes every run."""
    import shutil
    import subprocess

    found = shutil.which("prefect")
    if found is None:
        import site

        user_bin = os.path.join(site.getuserbase(), "bin")  # a non-root USER's pip install
        if os.path.isfile(os.path.join(user_bin, "prefect")):
            return OFF_PATH + user_bin
        return "there is no `prefect` command on the PATH"
    command = [found, "flow-run", "execute", "--help"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_SECONDS)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    # A chained cause (`raise … from exc`: Prefect's CLI loads its commands lazily through
    # cyclopts, whose ImportError hides what failed) is above the last lines: its exception
    # line is kept too, first (trial round 11 a 3: `cannot import name 'sentinel' from
    # 'typing_extensions'`, a pin, was cut off).
    causes = [line for line in lines[:-6] if EXCEPTION_LINE.match(line)]
    return "\n".join([*causes[-3:], *lines[-6:]]) or f"exit status {done.returncode}"


# A traceback's exception line: `ImportError: …`, `pydantic.errors.X: …` (at its start).
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)(:\s|$)")


def _as_a_run() -> dict[str, Any]:
    """Loaded as a flow run loads it (prefect.flow_engine.load_flow: the real module, never
    the placeholder made from its source that the loader's default falls back to when the
    module raises: that "loads" a flow whose every run crashes). Older Prefect 3 has no such
    fallback, nor the argument."""
    import inspect

    from prefect.flows import load_flow_from_entrypoint

    wanted = "use_placeholder_flow" in inspect.signature(load_flow_from_entrypoint).parameters
    return {"use_placeholder_flow": False} if wanted else {}


def no_network(exc: BaseException) -> bool:
    """Whether an exception, or one it was raised from or while handling, is the network's:
    an OSError, or a client's error whose message carries the OS error's words."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) or any(text in str(current) for text in NO_NETWORK):
            return True
        current = current.__cause__ or current.__context__
    return False


def schemas(
    code_dir: str, entrypoints: list[str], imports: dict[str, list[list[Any]]] | None = None
) -> dict[str, dict[str, Any]]:
    os.chdir(code_dir)
    sys.path.insert(0, code_dir)
    out: dict[str, dict[str, Any]] = {}
    as_a_run: dict[str, Any] | None = None  # Prefect is imported for the first flow it loads
    for entrypoint in entrypoints:
        libraries = (imports or {}).get(entrypoint)
        if libraries is not None and imports_cleanly(libraries):
            out[entrypoint] = {"imported": True}
            continue
        if as_a_run is None:
            try:
                as_a_run = _as_a_run()
            except BaseException:  # a broken Prefect: each flow below says so
                as_a_run = {}
        try:  # the import too: an image whose Prefect is broken fails each flow, clearly
            from prefect.flows import Flow, load_flow_from_entrypoint

            flow: Flow[..., Any] = load_flow_from_entrypoint(entrypoint, **as_a_run)
            out[entrypoint] = {
                "schema": flow.parameters.model_dump_for_openapi(),
                "name": str(getattr(flow.name, "value", flow.name)),  # a str Enum's value
                "description": flow.description,  # a factory's flow: only loading tells it
            }
        except BaseException as exc:  # SystemExit in module code too
            inner = getattr(exc, "user_exc", None) or exc  # Prefect's ScriptError wraps it
            out[entrypoint] = {
                "error": f"{type(exc).__name__}: {exc}",
                # what a run's environment may provide: a variable, a file, the network, a
                # package installed as it starts (EXTRA_PIP_PACKAGES: a missing one is a
                # warning, said by the import check already)
                "environment": isinstance(inner, (KeyError, OSError, ModuleNotFoundError))
                or no_network(inner)
                or str(inner).startswith(NO_API),  # a run has the API: the check has none
                "at": raised_at(inner),
            }
    return out


def raised_at(exc: BaseException) -> list[Any] | None:
    """The line of the code here (under the working directory, the folder's copy) where the
    exception was raised, deepest first: `auth.py:10`'s `os.getenv("X").split(",")` rather
    than the `@flow` of the file that imported it (trial round 10 a 5)."""
    import traceback

    here = os.getcwd() + os.sep
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = os.path.abspath(frame.filename)  # the entrypoint's file is named relatively
        if not frame.filename.startswith("<") and path.startswith(here):
            return [os.path.relpath(path, here), frame.lineno]
    return None


def imports_cleanly(libraries: list[list[Any]]) -> bool:
    """Whether each library imports, with each name taken from it (`from x import y`: an
    attribute, else a submodule, as Python's import statement looks)."""
    try:
        for module, names in libraries:
            found = importlib.import_module(module)
            for name in names:
                if not hasattr(found, name):
                    importlib.import_module(module + "." + name)
    except BaseException:  # SystemExit too: Prefect's loading says what a run would meet
        return False
    return True


def main(args: dict[str, Any]) -> None:
    code_dir = args.get("code_dir")
    if "files" in args:
        out = check(args)
        print(json.dumps(out), flush=True)
        code_dir = out["code_dir"] if out["prefect"] else None
    if code_dir and args.get("entrypoints"):
        if args.get("seconds"):
            faulthandler.dump_traceback_later(args["seconds"], exit=True)
        loaded = schemas(code_dir, args["entrypoints"], args.get("imports"))
        print(MARKER + json.dumps(loaded))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
