"""Run in the built image with its own python: is prefect importable, where are the folder's
files, and which of the modules the code imports cannot be found (found, never imported: no
code of the repository runs). Standard library only, and fast (no `import prefect`).

Argument: JSON {"files": {relative path: sha256}, "candidates": [dirs to try first],
"modules": [top-level names]}. Prints one JSON line: {"prefect", "code_dir", "cwd", "missing"}.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from typing import Any

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


def check(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"prefect": prefect_version(), "code_dir": None, "cwd": os.getcwd()}
    out["code_dir"] = found = code_dir(args["files"], args["candidates"])
    if found:  # the folder's own modules are found there, as in a flow run
        sys.path.insert(0, found)
    out["missing"] = [m for m in args.get("modules", []) if importlib.util.find_spec(m) is None]
    return out


if __name__ == "__main__":
    print(json.dumps(check(json.loads(sys.argv[1]))))
