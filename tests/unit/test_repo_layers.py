"""The layer rule, read from the imports: each package of src/prefect_flow_deploy imports only
from the packages before it in the pipeline (and itself); `rules` imports no HTTP, Docker,
subprocess or filesystem module; `in_image/` imports nothing of the package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "prefect_flow_deploy"
ORDER = [
    "core", "settings", "deployment", "reading", "rules", "clients", "docker", "run", "reports",
    "commands",
]  # fmt: skip
# Modules a pure package must not import (network, engine, processes, files).
IMPURE = {
    "httpx", "requests", "urllib", "socket", "docker", "subprocess", "shutil", "tempfile",
    "dulwich", "github", "os",
}  # fmt: skip


def imports(path: Path, with_names: bool = False) -> list[tuple[int, str]]:
    """Every import of the file, at any depth: (line, module). `with_names`: also
    `module.name` for each name of `from module import name` (a module, when it is one)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if with_names:
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "." * node.level + (node.module or "")))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "prefect_flow_deploy" or len(parts) < 2:
        return None
    return parts[1]


def test_every_package_is_in_the_order_and_says_what_it_owns() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {*ORDER, "in_image"}
    for name in ORDER:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "Imports" in doc, f"{name}/__init__.py: say what it owns and may import"


def violations(root: Path) -> list[str]:
    """Imports of a package later in ORDER (or relative ones) under `root`. The docker package
    and those after it read the programs of `in_image/` (as text, to run in an image)."""
    broken = []
    for position, name in enumerate(ORDER):
        allowed = set(ORDER[: position + 1]) | ({"in_image"} if name in ORDER[6:] else set())
        for path in sorted((root / name).rglob("*.py")):
            for line, module in imports(path):
                if module.startswith("."):
                    broken.append(f"{path.relative_to(root)}:{line}: relative import {module}")
                    continue
                other = package_of(module)
                if other is not None and other not in allowed:
                    broken.append(f"{path.relative_to(root)}:{line}: imports {module}")
    return broken


def test_a_package_imports_only_from_those_before_it() -> None:
    broken = violations(PACKAGE)
    assert broken == [], "\n".join(broken)


def test_the_rules_import_no_io_module() -> None:
    broken = [
        f"rules/{path.name}:{line}: {module}"
        for path in sorted((PACKAGE / "rules").glob("*.py"))
        for line, module in imports(path)
        if module.split(".")[0] in IMPURE
    ]
    assert broken == [], broken


def test_the_programs_run_in_an_image_import_nothing_of_the_package(tmp_path: Path) -> None:
    """Judged on the text each program is sent into the image as (its parts inlined by
    image_programs.in_image_program); a part's own import of a sibling part is that inlining
    (tests/unit/test_in_image.py holds the files to it)."""
    from prefect_flow_deploy.docker.image_programs import in_image_program

    broken = []
    for name in ("check_image", "import_check"):
        sent = tmp_path / f"{name}.py"
        sent.write_text(in_image_program(name))
        broken += [
            f"in_image/{name} as sent:{line}: {module}"
            for line, module in imports(sent)
            if module.startswith((".", "prefect_flow_deploy"))
        ]
    assert broken == [], broken


def test_the_rule_finds_a_violation(tmp_path: Path) -> None:
    """The checker itself, on a tree where `rules` imports `run` and `core` a relative module."""
    for name in ORDER:
        (tmp_path / name).mkdir()
    (tmp_path / "rules" / "x.py").write_text("from prefect_flow_deploy.run.engine import Engine\n")
    (tmp_path / "core" / "y.py").write_text("from . import model\n")
    (tmp_path / "run" / "z.py").write_text("from prefect_flow_deploy.rules import decide\n")
    assert violations(tmp_path) == [
        "core/y.py:1: relative import .",
        "rules/x.py:1: imports prefect_flow_deploy.run.engine",
    ]
