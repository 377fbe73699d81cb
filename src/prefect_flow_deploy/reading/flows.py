"""Find Prefect flows by reading Python source, never importing or running it.

The engine does not have the flows' dependencies (pandas, dbt, …) and must not run code of
the repository (a pull request's code, with the registry's and Prefect's credentials in the
environment). A flow is what Prefect's loader would find as a module attribute: `@flow` (the
decorator resolved to Prefect's own), `x = flow(...)(fn)`, `y = x.with_options(...)`, the
last binding of a name winning. Names follow Prefect's rule (`name=` or the function name with
`_` → `-`); parameter schemas come from `schemas.py`.

Here: one file read (its encoding, its syntax) and its problems; the flows in it:
flow_file_reader.py; what it imports: third_party_imports.py.
"""

from __future__ import annotations

import ast
import io
import os
import sys
import tokenize
from pathlib import Path

from prefect_flow_deploy.core.model import FlowSpec, ModuleImport, Problem
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.code_deployments import MAY_DEPLOY, code_deployments
from prefect_flow_deploy.reading.flow_file_problems import beyond_the_top, called_at_import
from prefect_flow_deploy.reading.flow_file_reader import FileReader
from prefect_flow_deploy.reading.prefect_removed import import_fails
from prefect_flow_deploy.reading.python_source import FolderSource
from prefect_flow_deploy.reading.third_party_imports import ThirdPartyImports


def find_flows(
    path: Path, folder: Path, source: FolderSource | None = None
) -> tuple[list[FlowSpec], list[Problem], list[ModuleImport]]:
    """All module-level flows in one file, what is wrong with the file, and what it imports.
    `source`: the folder's modules (one per folder, so that nothing crosses folders)."""
    source = source or FolderSource(folder)
    known = source.parsed(path)
    try:
        text = _read_source(path)
        tree = known.tree if known is not None else ast.parse(text, filename=str(path))
    except OSError as exc:
        return [], [Problem("error", f"cannot read {path.name}: {exc}", path)], []
    except UnicodeDecodeError as exc:
        bad_line = exc.object[: exc.start].count(b"\n") + 1
        encoding = "UTF-8" if exc.encoding.startswith("utf-8") else exc.encoding
        cause = (
            f"{path.name} is not {encoding} (byte {exc.object[exc.start]:#04x} on line {bad_line})"
        )
        message = (
            f"{cause}, so Python will not run it: save it as UTF-8, or declare its encoding on "
            "the first line (`# -*- coding: latin-1 -*-`)."
        )
        title = "Python source encoding"
        return [], [Problem("error", message, path, bad_line, title, cause=cause)], []
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte (Python < 3.12)
        text, line = (exc.msg, exc.lineno) if isinstance(exc, SyntaxError) else (str(exc), None)
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        cause = f"syntax error (as Python {python} reads it): {text}"
        message = (
            f"{cause}. Fix the file, or, if it is written for a newer Python than {python} (an "
            "f-string quoting its own quotes or a backslash, from 3.12), run prefect-flow-deploy "
            "on that Python (the action runs on 3.12); this folder is not deployed until then."
        )
        return [], [Problem("error", message, path, line, "Python syntax error", cause=cause)], []
    given, base = str(path), str(folder)
    inside = given.startswith(base + os.sep) and os.sep == "/"  # no Path math: a prefix
    relative = given[len(base) + 1 :] if inside else path.relative_to(folder).as_posix()
    module_imports = ThirdPartyImports(relative)
    module_imports.visit(tree)
    module = known if known is not None else source.add(path, tree)
    reader = FileReader(path, relative, source, module)
    reader.read(prefect1_possible="Flow" in text)
    removed = [_removed_problem(path, *found) for found in module_imports.removed]
    in_code = code_deployments(tree, path, reader.flows) if MAY_DEPLOY.search(text) else []
    functions = {f.function for f in reader.flows}
    in_code += called_at_import(tree, path, functions) if functions else []
    in_code += beyond_the_top(module_imports.above, path, relative) if reader.flows else []
    return reader.flows, reader.problems + removed + in_code, module_imports.found


REMOVED_IN_PREFECT_3 = "Removed in Prefect 3"  # the title of such an import's problem
UNREADABLE = ("Python syntax error", "Python source encoding")  # titles: a file not parsed


def _removed_problem(path: Path, line: int, statement: str, instead: str, nested: bool) -> Problem:
    """A name Prefect 3 removed: at module level every run of the file's flows crashes at
    import (an error); inside a function, only when it runs (a warning)."""
    return Problem(
        "warning" if nested else "error",
        f"`{statement}`: Prefect 3 removed it, so {import_fails(nested)}. {instead}",
        path,
        line,
        REMOVED_IN_PREFECT_3,
        cause=f"`{statement}`",
    )


def _read_source(path: Path) -> str:
    """The file's text as Python reads it: the encoding its first lines declare (PEP 263),
    UTF-8 otherwise, a BOM allowed. Strict: a byte Python would refuse is an error here."""
    data = file_reads.read_bytes(path)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding declaration" not in str(exc):
            raise
        # A first line that is not UTF-8 and declares nothing: decoded strictly below, so
        # that the error names the byte and its line (the caller says what to do).
        encoding = "utf-8"
    return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
