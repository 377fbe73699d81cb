"""Run by the action's Dockerfile while it builds the action's image, with the image's venv:

    import_check.py record FILE    write to FILE every module that imports now
    import_check.py verify FILE    fail, naming them, if one of FILE's modules no longer
                                   imports (after the pruning); else write to FILE.loaded the
                                   source files of every module now loaded from /opt/venv
    import_check.py compile FILE   precompile FILE's source files (unchecked-hash bytecode,
                                   still valid after COPY gives them new mtimes)

The modules: every module of the package, and every module that an import statement in its
sources names (those inside functions too), read from the sources under /src/src.
"""

from __future__ import annotations

import ast
import importlib
import json
import py_compile
import sys
from pathlib import Path

SOURCES = Path("/src/src")
VENV = "/opt/venv/"


def module_names(sources: Path) -> set[str]:
    """The package's own modules and every absolute import their source names."""
    names: set[str] = set()
    for path in sources.rglob("*.py"):
        names.add(
            ".".join(path.relative_to(sources).with_suffix("").parts).removesuffix(".__init__")
        )
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def try_imports(names: list[str]) -> tuple[list[str], list[str]]:
    """(the modules that import, "module: Error: why" for those that do not)."""
    good, bad = [], []
    for name in sorted(names):
        try:
            importlib.import_module(name)
            good.append(name)
        except Exception as exc:
            bad.append(f"{name}: {type(exc).__name__}: {exc}")
    return good, bad


def loaded_sources(prefix: str) -> list[str]:
    """The source files of the modules loaded now from under `prefix`: the ones worth
    precompiling."""
    files = {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())}
    return sorted(f for f in files if f.startswith(prefix) and f.endswith(".py"))


def main(mode: str, path: Path) -> None:
    if mode == "record":
        good, _ = try_imports(sorted(module_names(SOURCES)))
        path.write_text(json.dumps(good))
        print(f"import-check: {len(good)} modules import")
    elif mode == "verify":
        good, bad = try_imports(json.loads(path.read_text()))
        if bad:
            sys.exit("import-check: pruning broke these imports:\n" + "\n".join(bad))
        print(f"import-check: all {len(good)} modules still import")
        Path(f"{path}.loaded").write_text("\n".join(loaded_sources(VENV)) + "\n")
    elif mode == "compile":
        for source in path.read_text().split():
            py_compile.compile(
                source,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
    else:
        sys.exit(f"import-check: unknown mode {mode!r} (record, verify or compile)")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
