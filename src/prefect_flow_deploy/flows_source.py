"""Find `@flow` functions by reading Python source, never importing it.

The engine does not have the flows' dependencies (pandas, dbt, …) and must not need them.
Names follow Prefect's own rule (`name=` or the function name with `_` → `-`); parameter
schemas come from Prefect's source-only helper.
"""

from __future__ import annotations

import ast
import copy
import sys
import threading
import tokenize
from pathlib import Path
from typing import Any

from .model import FlowSpec, ModuleImport, Problem
from .naming import flow_name_from_function

# Prefect's source helper puts the folder on sys.path while it evaluates annotations:
# not thread-safe, so one folder at a time.
_SCHEMA_LOCK = threading.Lock()


class _Imports(ast.NodeVisitor):
    """Which local names mean `prefect.flow` and `prefect`, and whether Prefect 1 is used."""

    def __init__(self) -> None:
        self.flow_names = {"flow"}
        self.prefect_names = {"prefect"}
        self.prefect1_line: int | None = None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module in ("prefect", "prefect.flows"):
            for alias in node.names:
                if alias.name == "flow":
                    self.flow_names.add(alias.asname or "flow")
                if alias.name == "Flow" and node.module == "prefect":
                    self.prefect1_line = self.prefect1_line or node.lineno

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "prefect":
                self.prefect_names.add(alias.asname or "prefect")

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and _dotted(call.func) in ("Flow", "prefect.Flow"):
                self.prefect1_line = self.prefect1_line or node.lineno
        self.generic_visit(node)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _flow_decorator(
    func: ast.FunctionDef | ast.AsyncFunctionDef, imports: _Imports
) -> ast.expr | None:
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = _dotted(target)
        if name in imports.flow_names:
            return decorator
        head, _, attr = name.rpartition(".")
        if attr == "flow" and head in imports.prefect_names:
            return decorator
    return None


def _keyword(decorator: ast.expr, key: str) -> ast.expr | None:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == key:
                return keyword.value
    return None


_GUARDING_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


class _ThirdPartyImports(ast.NodeVisitor):
    """Absolute imports of non-standard-library modules, except optional ones (inside a
    `try` that catches ImportError, or under `if TYPE_CHECKING`)."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.found: list[ModuleImport] = []

    def _add(self, name: str, line: int) -> None:
        top = name.split(".")[0]
        if top and top != "__future__" and top not in sys.stdlib_module_names:
            self.found.append(ModuleImport(top, self.relative, line))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node.lineno)

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
        if _dotted(node.test).endswith("TYPE_CHECKING"):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)


def find_flows(
    path: Path, folder: Path
) -> tuple[list[FlowSpec], list[Problem], list[ModuleImport]]:
    """All module-level flows in one file, what is wrong with the file, and what it imports."""
    try:
        tree = ast.parse(_read_source(path), filename=str(path))
    except OSError as exc:
        return [], [Problem("error", f"cannot read {path.name}: {exc}", path)], []
    except UnicodeDecodeError as exc:
        bad_line = exc.object[: exc.start].count(b"\n") + 1
        encoding = "UTF-8" if exc.encoding.startswith("utf-8") else exc.encoding
        message = (
            f"{path.name} is not {encoding} (byte {exc.object[exc.start]:#04x} on line {bad_line}), "
            "so Python will not run it: save it as UTF-8, or declare its encoding on the first "
            "line (`# -*- coding: latin-1 -*-`)."
        )
        return [], [Problem("error", message, path, bad_line, "Python source encoding")], []
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte (Python < 3.12)
        text, line = (exc.msg, exc.lineno) if isinstance(exc, SyntaxError) else (str(exc), None)
        message = f"syntax error: {text}. Fix the file; this folder is not deployed until then."
        return [], [Problem("error", message, path, line, "Python syntax error")], []
    relative_path = path.relative_to(folder).as_posix()
    module_imports = _ThirdPartyImports(relative_path)
    module_imports.visit(tree)

    imports = _Imports()
    imports.visit(tree)
    problems: list[Problem] = []
    if imports.prefect1_line is not None:
        problems.append(
            Problem(
                "error",
                "this is a Prefect 1 flow (`with Flow(...)`); Prefect 3 deploys functions decorated "
                "with `@flow`. Port it: https://docs.prefect.io/v3/resources/upgrade-to-prefect-3",
                path,
                imports.prefect1_line,
                "Prefect 1 flow",
            )
        )

    flows: list[FlowSpec] = []
    relative = path.relative_to(folder).as_posix()
    constants: dict[str, str] | None = None
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorator = _flow_decorator(node, imports)
        if decorator is None:
            continue
        if constants is None:
            constants = _module_strings(tree)
        name = _literal_keyword(decorator, "name", path, node, problems, constants)
        if name is None:
            continue
        description = _literal_keyword(
            decorator, "description", path, node, problems, constants, optional=True
        )
        try:
            schema = _parameter_schema(path, node, tree)
        except Exception as exc:  # Prefect's helper raises many kinds on odd signatures
            schema = loose_schema(node)
            problems.append(
                Problem(
                    "warning",
                    f"Prefect cannot read the parameter types of flow {node.name!r} from its source "
                    f"({exc}); the deployment lists the parameters by name only, without types.",
                    path,
                    node.lineno,
                    "Flow parameters",
                )
            )
        flows.append(
            FlowSpec(
                name=name,
                function=node.name,
                file=relative,
                line=node.lineno,
                parameter_schema=schema,
                description=description or ast.get_docstring(node),
            )
        )
    return flows, problems, module_imports.found


def _read_source(path: Path) -> str:
    """The file's text as Python reads it: the encoding its first lines declare (PEP 263),
    UTF-8 otherwise, a BOM allowed. Strict: a byte Python would refuse is an error here."""
    with path.open("rb") as handle:
        encoding, _ = tokenize.detect_encoding(handle.readline)
        handle.seek(0)
        data = handle.read()
    return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)


def _literal_keyword(
    decorator: ast.expr,
    key: str,
    path: Path,
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    problems: list[Problem],
    constants: dict[str, str],
    optional: bool = False,
) -> str | None:
    value = _keyword(decorator, key)
    if value is None:
        return None if optional else flow_name_from_function(func.name)
    literal = static_string(value, constants)
    if literal:
        return literal
    if optional:
        return None
    problems.append(
        Problem(
            "error",
            f"the flow {func.name!r} gets its {key}= from an expression that cannot be read "
            f"without running your code; write the {key} as a string, or as an f-string or "
            "+ of strings and module-level string constants.",
            path,
            value.lineno,
            "Flow name",
        )
    )
    return None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = <string>` assignments made once: what `name=NAME` or
    `name=f"{PREFIX}-etl"` in a decorator means, without running the module."""
    assigned: dict[str, int] = {}  # a name assigned twice (or += later) is not a constant
    values: dict[str, str] = {}
    for node in tree.body:
        targets: list[ast.expr]
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets, value = [node.target], getattr(node, "value", None)
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                assigned[target.id] = assigned.get(target.id, 0) + 1
                text = static_string(value, values) if value is not None else None
                if text is not None:
                    values[target.id] = text
    return {name: text for name, text in values.items() if assigned[name] == 1}


def static_string(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The string an expression always evaluates to, from literals and known constants."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = static_string(node.left, constants), static_string(node.right, constants)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                    return None
                text = static_string(part.value, constants)
            else:
                text = static_string(part, constants)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def _parameter_schema(
    path: Path, func: ast.FunctionDef | ast.AsyncFunctionDef, tree: ast.Module
) -> dict[str, Any]:
    """The flow's parameter schema, as Prefect's source-only helper
    (`parameter_schema_from_entrypoint`) makes it, without importing the flow.

    Common signatures (scalars, optional scalars, literal defaults) are translated directly:
    a test checks the result is identical to Prefect's. Anything else goes through Prefect's
    own helper, on the source with the @flow/@task decorators removed, since running them
    would build real Flow objects (about 6 ms each: most of `plan`'s time on big repos).
    """
    docs = parameter_docstrings(ast.get_docstring(func))
    fast = simple_schema(func, docs)
    if fast is not None:
        return fast
    return _prefect_schema(path, func.name, tree, docs)


def parameter_docstrings(docstring: str | None) -> dict[str, str]:
    """Prefect's `parameter_docstrings` (Google style, through griffe), without importing
    Prefect for it: a test checks both agree."""
    if not docstring:
        return {}
    import logging

    from griffe import Docstring, DocstringSectionKind, Parser, parse

    logger = logging.getLogger("griffe")
    disabled, logger.disabled = logger.disabled, True
    try:
        docs: dict[str, str] = {}
        for section in parse(Docstring(docstring), Parser.google):
            if section.kind == DocstringSectionKind.parameters:
                docs = {p.name: p.description for p in section.value}
        return docs
    finally:
        logger.disabled = disabled


_SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def _scalar(node: ast.expr | None) -> tuple[str, bool] | None:
    """(JSON type, optional) for `str`, `int | None`, `Optional[float]`, …; None otherwise."""
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return _SCALARS[node.id], False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = (node.left, node.right)
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        others = [s for s in sides if s not in nones]
        if (
            len(nones) == 1
            and len(others) == 1
            and isinstance(others[0], ast.Name)
            and others[0].id in _SCALARS
        ):
            return _SCALARS[others[0].id], True
    if (
        isinstance(node, ast.Subscript)
        and _dotted(node.value).rsplit(".", 1)[-1] == "Optional"
        and isinstance(node.slice, ast.Name)
        and node.slice.id in _SCALARS
    ):
        return _SCALARS[node.slice.id], True
    return None


def simple_schema(
    func: ast.FunctionDef | ast.AsyncFunctionDef, docs: dict[str, str]
) -> dict[str, Any] | None:
    args = func.args
    if args.posonlyargs or args.vararg or args.kwarg or args.kwonlyargs:
        return None
    first_default = len(args.args) - len(args.defaults)
    properties: dict[str, Any] = {}
    required = []
    for position, arg in enumerate(args.args):
        prop: dict[str, Any] = {}
        if arg.annotation is not None:
            scalar = _scalar(arg.annotation)
            if scalar is None:
                return None
            kind, optional = scalar
            if optional:
                prop["anyOf"] = [{"type": kind}, {"type": "null"}]
            else:
                prop["type"] = kind
        if position >= first_default:
            try:
                default = ast.literal_eval(args.defaults[position - first_default])
            except ValueError:
                return None
            if default is not None and not isinstance(default, (str, int, float)):
                return None
            prop["default"] = default
        else:
            required.append(arg.arg)
        if arg.arg in docs:
            prop["description"] = docs[arg.arg]
        prop["position"] = position
        prop["title"] = arg.arg
        properties[arg.arg] = prop
    schema: dict[str, Any] = {"title": "Parameters", "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["definitions"] = {}
    return schema


def loose_schema(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any]:
    """Names and positions only: the deployment still accepts the parameters."""
    args = func.args
    named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    properties = {a.arg: {"position": i, "title": a.arg} for i, a in enumerate(named)}
    return {"title": "Parameters", "type": "object", "properties": properties, "definitions": {}}


def _prefect_schema(
    path: Path, function: str, tree: ast.Module, docs: dict[str, str]
) -> dict[str, Any]:
    from prefect.utilities.callables import (
        _generate_signature_from_source,
        generate_parameter_schema,
    )

    stripped = copy.deepcopy(tree)
    for node in ast.walk(stripped):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.decorator_list = [
                d for d in node.decorator_list
                if _dotted(d.func if isinstance(d, ast.Call) else d).rsplit(".", 1)[-1] not in ("flow", "task")
            ]  # fmt: skip
    with _SCHEMA_LOCK:
        signature = _generate_signature_from_source(ast.unparse(stripped), function, str(path))
    result: dict[str, Any] = generate_parameter_schema(signature, docs).model_dump_for_openapi()
    return result
