"""Circular imports among a flow folder's own modules, found by reading them (never run).

When a flow file imports a module of the folder that imports the flow file back (directly
or through others), Python runs one of them half-done: a name one takes from the other may
not exist yet, and the flow fails at run time with an ImportError, while everything before
(reading, building, registering) passes. So each cycle a flow file enters is a warning at
the import in the flow file, naming the chain. Imports inside functions, and under
`if TYPE_CHECKING:`, run later or never at import time: they make no cycle.
"""

from __future__ import annotations

import ast
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

from prefect_flow_deploy.core.model import Problem
from prefect_flow_deploy.reading.python_source import (
    FolderSource,
    Module,
)
from prefect_flow_deploy.reading.python_statements import (
    runs_as_script_only,
)


def cycle_problems(source: FolderSource, flow_files: list[Path]) -> list[Problem]:
    """One warning per flow file that enters a cycle of the folder's module-level imports."""
    problems = []
    for path in flow_files:
        start = source.module_at(source.real_path(path))
        if start is None:
            continue
        found = _cycle_from(source, start)
        if found is None:
            continue
        line, chain = found
        shown = " → ".join(_relative(m.path, source.folder) for m in chain)
        problems.append(
            Problem(
                "warning",
                f"circular import: {shown}. Python runs one of these modules half-done when "
                "the flow is loaded, so a name it imports from the other may not exist yet "
                "(ImportError at run time). Move what both need into a module neither "
                "imports back, or import inside the function that needs it.",
                path,
                line,
                "Circular import",
            )
        )
    return problems


def _cycle_from(source: FolderSource, start: Module) -> tuple[int, list[Module]] | None:
    """The line of the start's import that leads back to it, and the chain; None."""
    search = _Search(source, start)
    chain = search.visit(start)
    return (search.lines[-1], chain) if chain is not None else None


@dataclasses.dataclass
class _Search:
    """A depth-first walk of the imports from `start`. A method, not a nested function: one
    that calls itself refers to itself through its closure, a cycle that kept each folder's
    parsed modules alive until the cycle collector ran (test_discovery.py)."""

    source: FolderSource
    start: Module
    stack: list[Module] = dataclasses.field(init=False)  # the chain to the module visited
    on_path: set[Path] = dataclasses.field(init=False)
    done: set[Path] = dataclasses.field(default_factory=set)
    lines: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.stack, self.on_path = [self.start], {self.start.path}

    def visit(self, module: Module) -> list[Module] | None:
        for target, line in _imports(self.source, module):
            if module is self.start:
                self.lines.append(line)
            if target.path == self.start.path:
                return [*self.stack, target]
            if target.path in self.on_path or target.path in self.done:
                continue
            self.stack.append(target)
            self.on_path.add(target.path)
            chain = self.visit(target)
            if chain is not None:
                return chain
            self.stack.pop()
            self.on_path.discard(target.path)
            self.done.add(target.path)
        return None


def _imports(source: FolderSource, module: Module) -> Iterator[tuple[Module, int]]:
    """The folder's modules `module` imports when it is loaded, with each import's line."""
    for node in _import_time(module.tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = source.find(module, alias.name, 0)
                if target is not None:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            dotted = node.module or ""
            targets = [source.find(module, dotted, node.level)]
            targets += [
                source.find(module, f"{dotted}.{a.name}" if dotted else a.name, node.level)
                for a in node.names
                if a.name != "*"
            ]
            for target in targets:
                if target is not None:
                    yield target, node.lineno


def _import_time(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module is loaded: not function bodies, nor the branch
    of `if TYPE_CHECKING:` or `if __name__ == "__main__":`."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If):
            if not _type_checking(node.test) and not runs_as_script_only(node.test):
                yield from _import_time(node.body)
            yield from _import_time(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _import_time([n for n in inner if isinstance(n, ast.stmt)])
            if field == "handlers" and isinstance(inner, list):
                for handler in inner:
                    yield from _import_time(handler.body)


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _relative(path: Path, folder: str) -> str:
    text = str(path)
    return text[len(folder) + 1 :] if text.startswith(folder + os.sep) else path.name
