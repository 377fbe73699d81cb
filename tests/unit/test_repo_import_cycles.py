"""No import cycles among the package's modules: every import of prefect_flow_deploy.* (at
module level or inside a function) is an edge, and each strongly connected component of the
graph is a single module. A cycle means two modules are one concern (merge them) or share a
piece (move it into a module both import)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_repo_layers import PACKAGE, imports

ROOT_NAME = "prefect_flow_deploy"


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((ROOT_NAME, *parts))


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package's modules `path` imports, at any depth of the file (test_repo_layers'
    reader): `import a.b`, `from a.b import c` (a.b, and a.b.c when c is a module)."""
    return {module for _, module in imports(path, with_names=True) if module in known}


def import_graph(root: Path) -> dict[str, set[str]]:
    paths = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    known = set(paths)
    return {name: imported_modules(path, known) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(import_graph(PACKAGE))
    assert found == [], "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_the_check_finds_a_fabricated_cycle(tmp_path: Path) -> None:
    """a → b (at module level), b → c (inside a function), c → a (`from package import module`);
    d imports a and is in no cycle."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from prefect_flow_deploy.pkg.b import thing\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    import prefect_flow_deploy.pkg.c\n")
    (tmp_path / "pkg" / "c.py").write_text("from prefect_flow_deploy.pkg import a\n")
    (tmp_path / "pkg" / "d.py").write_text("from prefect_flow_deploy.pkg.a import x\n")
    assert cycles(import_graph(tmp_path)) == [
        ["prefect_flow_deploy.pkg.a", "prefect_flow_deploy.pkg.b", "prefect_flow_deploy.pkg.c"]
    ]
