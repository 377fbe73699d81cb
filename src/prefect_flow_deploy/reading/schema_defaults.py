"""A parameter's default as pydantic writes it into the schema, read from the source: a literal,
a module constant, an enum member, an empty container, or an instance of a model or a
dataclass built from keyword arguments. What is computed when the code runs raises
Unreadable."""

from __future__ import annotations

import ast
import inspect
from abc import ABC, abstractmethod
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    Alias,
    ClassRef,
    Module,
    Resolver,
    Symbol,
    Unreadable,
)
from prefect_flow_deploy.reading.python_statements import (
    literal_value,
)
from prefect_flow_deploy.reading.schema_types import (
    EMPTY_FACTORIES,
    FieldInfo,
    Typed,
    assigned_once,
    enum_member,
    fits,
    jsonable,
)


class DefaultsReader(ABC):
    """Defaults as pydantic writes them into the schema; a subclass reads the types and classes
    they belong to."""

    resolve: Resolver

    def value(self, module: Module, node: ast.expr, depth: int = 0) -> Any:
        if depth > 30:
            raise Unreadable("a constant refers to itself")
        try:
            result = literal_value(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return self._computed_value(module, node, depth)
        return jsonable(result)

    def _computed_value(self, module: Module, node: ast.expr, depth: int) -> Any:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(module, e, depth + 1) for e in node.elts]
        if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
            keys = [self.value(module, k, depth + 1) for k in node.keys if k is not None]
            if not all(isinstance(k, str) for k in keys):
                raise Unreadable("a dict default with keys that are not strings")
            return dict(
                zip(keys, (self.value(module, v, depth + 1) for v in node.values), strict=True)
            )
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            name = self.resolve.external_name(module, node.func)
            if name in ("list", "tuple", "set", "frozenset"):
                return []
            if name == "dict":
                return {}
        if isinstance(node, ast.Name | ast.Attribute):
            if isinstance(node, ast.Attribute):
                owner = self._maybe(module, node.value)
                if isinstance(owner, ClassRef) and self._kind(owner) == "enum":
                    return enum_member(owner, node.attr)
            symbol = self.resolve.expr(module, node)
            if isinstance(symbol, Alias) and assigned_once(symbol.module, node):
                return self.value(symbol.module, symbol.value, depth + 1)
        if isinstance(node, ast.Call):
            callee = self._maybe(module, node.func)
            if isinstance(callee, ClassRef) and self._kind(callee) in ("model", "dataclass"):
                return self._instance(module, callee, node, depth)
        raise Unreadable(f"the default `{ast.unparse(node)}` is computed when the code runs")

    def _maybe(self, module: Module, node: ast.expr) -> Symbol | None:
        try:
            return self.resolve.expr(module, node)
        except Unreadable:
            return None

    def _instance(self, module: Module, ref: ClassRef, call: ast.Call, depth: int) -> Any:
        """`Settings(limit=2)` as pydantic dumps it: every field, given or defaulted."""
        kind = self._kind(ref)
        if call.args or any(k.arg is None for k in call.keywords):
            raise Unreadable(f"`{ast.unparse(call)}`: only keyword arguments are read")
        given = {k.arg: k.value for k in call.keywords if k.arg is not None}
        dumped: dict[str, Any] = {}
        for name, annotation, value, field_module in self._field_nodes(ref, kind):
            if name in given:
                raw = self.value(module, given.pop(name), depth + 1)
                if not self.plainly_fits(field_module, annotation, raw):
                    raise Unreadable(f"`{ast.unparse(call)}`: {name} would be converted")
                dumped[name] = raw
                continue
            if value is None:
                raise Unreadable(f"`{ast.unparse(call)}` misses the field {name}")
            info = (
                self.field_call(field_module, value) or FieldInfo(self.value(field_module, value))
                if kind == "model"
                else self._dataclass_field(field_module, value)
            )
            if info.factory in EMPTY_FACTORIES:
                dumped[name] = EMPTY_FACTORIES[info.factory]
            elif info.has_factory or info.default is inspect.Parameter.empty:
                raise Unreadable(f"`{ast.unparse(call)}`: {name} comes from a factory")
            else:
                dumped[name] = info.default
        if given:
            raise Unreadable(f"`{ast.unparse(call)}`: unknown field {next(iter(given))}")
        return dumped

    def plainly_fits(self, module: Module, annotation: ast.expr, value: Any) -> bool:
        """The value is stored as given (validation converts nothing): `Settings(limit=2)`."""
        return fits(self.type_of(module, annotation).schema, value)

    # -- what the class reader tells (schema_reader.SchemaReader) ---------------------------
    @abstractmethod
    def type_of(self, module: Module, node: ast.expr | None, depth: int = 0) -> Typed: ...

    @abstractmethod
    def _kind(self, ref: ClassRef, depth: int = 0) -> str: ...

    @abstractmethod
    def _field_nodes(
        self, ref: ClassRef, kind: str
    ) -> list[tuple[str, ast.expr, ast.expr | None, Module]]: ...

    @abstractmethod
    def field_call(self, module: Module, node: ast.expr) -> FieldInfo | None: ...

    @abstractmethod
    def _dataclass_field(self, module: Module, value: ast.expr) -> FieldInfo: ...
