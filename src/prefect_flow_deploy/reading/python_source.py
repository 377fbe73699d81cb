"""The Python modules of one flow folder, read (never imported) and resolved: what a name
means in a module (a class or function of the folder, an alias, something imported from a
library), following imports between the folder's own modules, `from x import *` and
relative imports included.

Each folder gets its own `FolderSource`: nothing one folder defines is visible to another.
"""

from __future__ import annotations

import ast
import builtins
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.folder_listing import FolderListing, list_folder, real_path
from prefect_flow_deploy.reading.python_statements import (
    bound_names,
    top_level,
)

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef


class Unreadable(Exception):
    """A signature (or a class it names) that only running the code could tell."""


@dataclass
class Module:
    path: Path
    tree: ast.Module
    # The last top-level binding of each name (Python keeps the last one); None when a
    # compound statement (if, try, for, while) binds it: which binding wins is a run-time
    # fact. top_level says which statements a load runs (a `with` body, a `__main__` else).
    names: dict[str, ast.AST | None] = field(default_factory=dict)
    stars: list[ast.ImportFrom] = field(default_factory=list)  # `from x import *`
    directory: str = ""
    # Names a `try:` imports from Prefect, its `except ImportError:` binding them otherwise
    # (a stand-in so the file runs without Prefect), or one branch of an `if` imports from
    # Prefect and another binds otherwise (`if os.environ.get("SKIP_PREFECT")`, as
    # PrefectHQ/canary-flows does): where a flow runs, Prefect is installed and is what makes
    # it a flow, so the import is the binding taken.
    guarded: dict[str, ast.ImportFrom] = field(default_factory=dict)
    # Names an if/try/for/while at the top binds, one way, to a Prefect name (its dotted name):
    # guarded or not, what a reader that cannot tell may say at a use (flow_file_problems.py).
    undecided: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, path: Path, tree: ast.Module) -> Module:
        module = cls(path, tree, directory=os.path.dirname(path))
        for node in top_level(tree.body):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                module.stars.append(node)
            for name in bound_names(node):
                module.names[name] = node
                module.guarded.pop(name, None)
                module.undecided.pop(name, None)
            if isinstance(node, (ast.If, ast.Try, ast.For, ast.While)):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node]
                for name in (name for statement in inner for name in bound_names(statement)):
                    module.names[name] = None
                    module.guarded.pop(name, None)
                    module.undecided.pop(name, None)
                module.undecided |= {
                    alias.asname or alias.name: f"{statement.module}.{alias.name}"
                    for statement in _prefect_imports(inner).values()
                    for alias in statement.names
                }
            if isinstance(node, ast.Try):
                module.guarded |= _prefect_imports_tried(node)
            elif isinstance(node, ast.If):
                module.guarded |= _prefect_imports_chosen(node)
        return module


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _prefect_imports_tried(node: ast.Try) -> dict[str, ast.ImportFrom]:
    """What a `try:` imports from Prefect when its handlers catch only a failed import."""
    caught = [h.type for h in node.handlers]
    names = [e for t in caught for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
    if not caught or not all(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names):
        return {}
    return _prefect_imports(node.body)


def _prefect_imports_chosen(node: ast.If) -> dict[str, ast.ImportFrom]:
    """What one branch of an `if` (its `elif`s and `else` too) imports from Prefect."""
    found: dict[str, ast.ImportFrom] = {}
    branch: ast.stmt | None = node
    while isinstance(branch, ast.If):
        found |= _prefect_imports(branch.body)
        orelse = branch.orelse
        branch = orelse[0] if len(orelse) == 1 and isinstance(orelse[0], ast.If) else None
        if branch is None:
            found |= _prefect_imports(orelse)
    return found


def _prefect_imports(statements: list[ast.stmt]) -> dict[str, ast.ImportFrom]:
    return {
        alias.asname or alias.name: statement
        for statement in statements
        if isinstance(statement, ast.ImportFrom) and statement.level == 0
        and (statement.module or "").split(".")[0] == "prefect"
        for alias in statement.names
        if alias.name != "*"
    }  # fmt: skip


_NOT_CODE = {"__pycache__", "node_modules", "venv", "site-packages"}


def _is_code_dir(name: str) -> bool:
    return not name.startswith(".") and name not in _NOT_CODE


class FolderSource:
    """The folder's Python modules, parsed on demand, for this folder only. Paths are kept
    as strings under the resolved folder (pathlib costs most of the time otherwise)."""

    def __init__(self, folder: Path, listing: FolderListing | None = None) -> None:
        self.given = str(folder)
        self.folder = listing.resolved if listing is not None else str(folder.resolve())
        self._listing = listing  # the folder's entries, when its reader listed them
        self._modules: dict[str, Module | None] = {}
        self._files: set[str] | None = None  # the folder's .py files, listed once
        self._found: dict[tuple[str, str, int], Module | None] = {}
        self.unparsable_imported: set[str] = set()  # found by an import, but not Python
        self.resolver = Resolver(self)
        self.strings: Any = None  # static_values.StaticStrings, made by its first reader

    @property
    def files(self) -> set[str]:
        if self._files is None:
            # The reader's listing, else one made now (a source made on its own, in tests).
            listing = self._listing or list_folder(Path(self.given), self.folder)
            self._files = {
                self.folder + path[len(listing.folder) :]
                for path in listing.files_under(_is_code_dir, ordered=False)
                if path.endswith(".py")
            }
        return self._files

    def _key(self, path: Path) -> str:
        text = str(path)
        if text.startswith(self.given + os.sep):
            return self.folder + text[len(self.given) :]
        return os.path.realpath(text)

    def real_path(self, path: Path | str) -> str:
        """os.path.realpath of a path, from the folder's listing when it has one."""
        return real_path(self._listing, str(path))

    def parsed(self, path: Path) -> Module | None:
        """The module if an import already read it."""
        return self._modules.get(self._key(path))

    def add(self, path: Path, tree: ast.Module) -> Module:
        key = self._key(path)
        module = Module.of(Path(key), tree)
        self._modules[key] = module
        return module

    def module_at(self, key: str) -> Module | None:
        if key not in self._modules:
            try:
                tree = ast.parse(file_reads.read_bytes(key), filename=key)
            except (OSError, SyntaxError, ValueError):
                self._modules[key] = None
            else:
                self._modules[key] = Module.of(Path(key), tree)
        return self._modules[key]

    def find(self, importer: Module, dotted: str, level: int) -> Module | None:
        """The folder's module an import names, as Python would find it with the flow's
        directory and the folder (the working directory) on sys.path; None outside."""
        key = (importer.directory, dotted, level)
        if key not in self._found:
            self._found[key] = self._find(importer.directory, dotted, level)
        return self._found[key]

    def _find(self, directory: str, dotted: str, level: int) -> Module | None:
        if not dotted and not level:
            return None
        parts = dotted.split(".") if dotted else []
        if level:
            base = directory
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = [directory, self.folder]
        for base in bases:
            target = os.path.join(base, *parts)
            for candidate in (target + ".py", os.path.join(target, "__init__.py")):
                if parts and candidate in self.files:
                    found = self.module_at(candidate)
                    if found is None:
                        self.unparsable_imported.add(candidate)
                    return found
        return None


# -- what a name means ---------------------------------------------------------------------


@dataclass(frozen=True)
class External:
    """Something from outside the folder, by its dotted name (`typing.Optional`, `int`)."""

    name: str


@dataclass(frozen=True)
class ExternalModule:
    name: str


@dataclass(frozen=True)
class ClassRef:
    module: Module
    node: ast.ClassDef

    def __hash__(self) -> int:
        return hash((self.module.path, self.node.lineno))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ClassRef)
            and other.module.path == self.module.path
            and other.node is self.node
        )


@dataclass(frozen=True)
class Alias:
    module: Module
    value: ast.expr


@dataclass(frozen=True)
class ModuleRef:
    module: Module


@dataclass(frozen=True)
class FunctionRef:
    module: Module
    node: FuncDef


Symbol = External | ExternalModule | ClassRef | Alias | ModuleRef | FunctionRef

# One spelling per thing: typing_extensions re-exports typing (except TypedDict, which
# pydantic reads differently), pydantic re-exports its Field.
_CANONICAL = {
    "pydantic.fields.Field": "pydantic.Field",
    "pydantic.main.BaseModel": "pydantic.BaseModel",
    "collections.abc.Sequence": "typing.Sequence",
    "collections.abc.Mapping": "typing.Mapping",
}


def _canonical(name: str) -> str:
    if name.startswith("typing_extensions.") and name != "typing_extensions.TypedDict":
        name = "typing." + name.removeprefix("typing_extensions.")
    return _CANONICAL.get(name, name)


class Resolver:
    """What names mean in the folder's modules; answers are kept (per folder). Made and
    owned by its FolderSource (`source.resolver`), which must outlive it."""

    def __init__(self, source: FolderSource) -> None:
        # The source holds its resolver: a plain reference back would be a cycle that kept
        # each folder's parsed modules until the cycle collector ran (test_discovery.py).
        self.source: FolderSource = weakref.proxy(source)
        self._names: dict[tuple[int, str], Symbol | Unreadable] = {}

    def name(self, module: Module, name: str, depth: int = 0) -> Symbol:
        key = (id(module), name)
        if key not in self._names:
            try:
                self._names[key] = self._name(module, name, depth)
            except Unreadable as exc:
                # Its message only: the exception's traceback holds this resolver's frames,
                # a cycle (test_discovery.py).
                self._names[key] = Unreadable(*exc.args)
        found = self._names[key]
        if isinstance(found, Unreadable):
            raise Unreadable(*found.args)
        return found

    def _name(self, module: Module, name: str, depth: int) -> Symbol:
        if depth > 20:
            raise Unreadable(f"`{name}` is imported in a cycle")
        if name not in module.names:
            for star in module.stars:
                target = self.source.find(module, star.module or "", star.level)
                if target is None:
                    raise Unreadable(f"`{name}` may come from `from {star.module} import *`")
                if name in target.names or target.stars:
                    return self.name(target, name, depth + 1)
            if hasattr(builtins, name):
                return External(name)
            raise Unreadable(f"`{name}` is not defined at the top of {module.path.name}")
        node = module.names[name]
        if node is None and name in module.guarded:
            node = module.guarded[name]  # `try: from prefect import flow` (Module.guarded)
        if node is None:
            raise Unreadable(
                f"`{name}` is defined conditionally in {module.path.name} (under if/try)"
            )
        if isinstance(node, ast.ClassDef):
            return ClassRef(module, node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return FunctionRef(module, node)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            return Alias(module, node.value)
        if isinstance(node, ast.ImportFrom):
            alias = next(a for a in node.names if (a.asname or a.name) == name)
            return self._from_import(module, node, alias.name, depth)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname == name:
                    return self._module(module, alias.name)
                if alias.asname is None and alias.name.split(".")[0] == name:
                    return self._module(module, name)
        raise Unreadable(f"`{name}` in {module.path.name} is not a class or a type")

    def _from_import(self, module: Module, node: ast.ImportFrom, name: str, depth: int) -> Symbol:
        dotted = node.module or ""
        target = self.source.find(module, dotted, node.level)
        if target is not None:
            if name in target.names:
                return self.name(target, name, depth + 1)
            sub = self.source.find(module, f"{dotted}.{name}" if dotted else name, node.level)
            if sub is not None:
                return ModuleRef(sub)
            return self.name(target, name, depth + 1)
        if node.level:
            raise Unreadable(
                f"`from {'.' * node.level}{dotted} import {name}`: no such module here"
            )
        sub = self.source.find(module, f"{dotted}.{name}", 0)
        if sub is not None:
            return ModuleRef(sub)
        return External(_canonical(f"{dotted}.{name}"))

    def _module(self, module: Module, dotted: str) -> Symbol:
        found = self.source.find(module, dotted, 0)
        return ModuleRef(found) if found is not None else ExternalModule(dotted)

    def expr(self, module: Module, node: ast.expr, depth: int = 0) -> Symbol:
        if isinstance(node, ast.Name):
            return self.name(module, node.id, depth)
        if isinstance(node, ast.Attribute):
            base = self.expr(module, node.value, depth)
            if isinstance(base, ExternalModule):
                sub = f"{base.name}.{node.attr}"
                return External(_canonical(sub))
            if isinstance(base, External):
                return External(_canonical(f"{base.name}.{node.attr}"))
            if isinstance(base, ModuleRef):
                return self.name(base.module, node.attr, depth + 1)
        raise Unreadable(f"`{ast.unparse(node)}` cannot be read without running the code")

    def external_name(self, module: Module, node: ast.expr) -> str | None:
        """The dotted name of an outside thing an expression names, else None."""
        try:
            symbol = self.expr(module, node)
        except Unreadable:
            return None
        return symbol.name if isinstance(symbol, External) else None
