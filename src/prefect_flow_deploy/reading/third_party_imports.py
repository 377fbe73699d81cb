"""What a flow file imports that Python must find when the file is loaded (module level, not
under `if TYPE_CHECKING:` or `if __name__ == "__main__":` nor guarded by `except
ImportError`), and the names Prefect 3 removed that it imports."""

from __future__ import annotations

import ast
import sys

from prefect_flow_deploy.core.model import ModuleImport
from prefect_flow_deploy.reading.prefect_removed import removed_in_prefect_3
from prefect_flow_deploy.reading.python_statements import (
    runs_as_script_only,
)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


_GUARDING_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
# Calls that add to where imports are found, besides sys.path's own methods.
_PATH_CHANGES = {"site.addsitedir"}


class ThirdPartyImports(ast.NodeVisitor):
    """Absolute imports of non-standard-library modules, except optional ones (inside a
    `try` that catches ImportError, or under `if TYPE_CHECKING`)."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.found: list[ModuleImport] = []
        # (line, `from … import …`, what to use instead, inside a function)
        self.removed: list[tuple[int, str, str, bool]] = []
        # `from ..x import y`, two or more levels up: (the statement, inside a function)
        self.above: list[tuple[ast.ImportFrom, bool]] = []
        self._functions = 0
        self._path_changed = False  # sys.path changed at the top, above the statement visited

    def _add(self, name: str, line: int) -> None:
        top = name.split(".")[0]
        if top and top != "__future__" and top not in sys.stdlib_module_names:
            self.found.append(
                ModuleImport(top, self.relative, line, nested=self._functions > 0,
                             after_path_change=self._path_changed, dotted=name)
            )  # fmt: skip

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level >= 2:
            self.above.append((node, self._functions > 0))
        if node.level == 0 and node.module:
            self._add(node.module, node.lineno)
            for alias in node.names:
                instead = removed_in_prefect_3(node.module, alias.name)
                nested = self._functions > 0
                if instead is not None:
                    statement = f"from {node.module} import {alias.name}"
                    self.removed.append((node.lineno, statement, instead, nested))
                elif node.module.startswith("prefect."):  # checked in the image's Prefect
                    self.found.append(
                        ModuleImport("prefect", self.relative, node.lineno, node.module,
                                     alias.name, nested, self._path_changed)
                    )  # fmt: skip

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._functions += 1  # an import here fails only when the function runs
        self.generic_visit(node)
        self._functions -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if self._functions == 0 and isinstance(call, ast.Call):
            called = _dotted(call.func)
            if called in _PATH_CHANGES or called.rsplit(".", 1)[0] == "sys.path":
                self._path_changed = True

    def visit_Assign(self, node: ast.Assign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:  # `sys.path = […]`, `sys.path[:0] = […]`, `sys.path += […]`
            changed = target.value if isinstance(target, ast.Subscript) else target
            if self._functions == 0 and _dotted(changed) == "sys.path":
                self._path_changed = True

    visit_AugAssign = visit_Assign

    def visit_Try(self, node: ast.Try) -> None:
        caught = {_dotted(h.type).rsplit(".", 1)[-1] for h in node.handlers if h.type is not None}
        for handler in node.handlers:
            if isinstance(handler.type, ast.Tuple):
                caught |= {_dotted(e).rsplit(".", 1)[-1] for e in handler.type.elts}
        optional = (
            not node.handlers
            or any(h.type is None for h in node.handlers)
            or caught & _GUARDING_ERRORS
        )
        if not optional:
            for statement in node.body:
                self.visit(statement)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def generic_visit(self, node: ast.AST) -> None:
        # Imports are statements: walk statement bodies only, never into expressions.
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, name, ()):
                if isinstance(child, ast.AST):
                    self.visit(child)

    def visit_If(self, node: ast.If) -> None:
        if _dotted(node.test).endswith("TYPE_CHECKING") or runs_as_script_only(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)
