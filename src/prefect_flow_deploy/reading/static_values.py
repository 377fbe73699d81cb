"""The string an expression of the folder's code always evaluates to, read across the folder's
own modules, never run: a flow's `name=` or `description=` written as

- a string, `+` of strings, an f-string of them (`f"{TEAM}-daily"`);
- a constant of the module, or of another module of the folder (`from constants import
  DAILY`, `constants.DAILY`, `from .constants import NAMES`);
- a class attribute (`NAMES.DAILY` of `class NAMES: DAILY = "daily-sales"`), an Enum
  member's `.value` (`Flows.DAILY.value`), a `StrEnum` member itself, or a `(str, Enum)`
  member given as the name itself (its value, as Prefect sends it);
- an item of a dict of constants (`NAMES["daily"]`);
- a factory's parameter, bound to the call's argument (flow_factories.py).

A name bound more than once in a module is not read from inside it (which binding an
expression saw depends on the order); read from another module (`constants.X`, `from
constants import X`), its last binding is (the module has run by the time it is imported). Anything else is None: only running the code tells.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from prefect_flow_deploy.reading.python_source import (
    Alias,
    ClassRef,
    Module,
    ModuleRef,
    Resolver,
    Unreadable,
)
from prefect_flow_deploy.reading.python_statements import (
    top_level,
)

_ENUMS = {"enum.Enum", "enum.StrEnum"}
_MAX_DEPTH = 16


@dataclass
class Scope:
    """Where an expression is read: its module, and names bound to known strings (a
    factory's parameters)."""

    module: Module
    bound: dict[str, str | None] = field(default_factory=dict)


class StaticStrings:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._counts: dict[int, dict[str, int]] = {}

    def string(
        self, scope: Scope, node: ast.expr, formatted: bool = False, depth: int = 0
    ) -> str | None:
        """The string `node` is (`formatted`: inside an f-string, where a `(str, Enum)`
        member's text depends on the Python version: not read)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            if node.id in scope.bound:
                return scope.bound[node.id]
            return self._name(scope.module, node.id, formatted, depth)
        if isinstance(node, ast.Attribute):
            written = ast.unparse(node)  # `fn.__name__` of a decorator factory's function
            if written in scope.bound:
                return scope.bound[written]
            return self._attribute(scope, node, formatted, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.string(scope, node.left, formatted, depth + 1)
            right = self.string(scope, node.right, formatted, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.JoinedStr):
            return self._joined(scope, node, depth)
        if isinstance(node, ast.Subscript):
            return self._item(scope, node, formatted, depth)
        return None

    # -- names -----------------------------------------------------------------------------
    def _name(
        self, module: Module, name: str, formatted: bool, depth: int, last: bool = False
    ) -> str | None:
        """`last`: the name is read from outside once the module has run (`constants.X`):
        its last binding holds. Inside the module, a name bound twice is not read."""
        if not last and self._assignments(module).get(name, 0) > 1:
            return None  # bound twice in this module: the decorator's is not known
        try:
            symbol = self.resolver.name(module, name)
        except Unreadable:
            return None
        if isinstance(symbol, Alias):
            return self.string(Scope(symbol.module), symbol.value, formatted, depth + 1)
        return None

    def _assignments(self, module: Module) -> dict[str, int]:
        """How often each name is bound at the module's top level (`+=` counts)."""
        key = id(module)
        if key not in self._counts:
            counts: dict[str, int] = {}
            for node in top_level(module.tree.body):
                targets: list[ast.expr] = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                    targets = [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        counts[target.id] = counts.get(target.id, 0) + 1
            self._counts[key] = counts
        return self._counts[key]

    # -- attributes ------------------------------------------------------------------------
    def _attribute(
        self, scope: Scope, node: ast.Attribute, formatted: bool, depth: int
    ) -> str | None:
        if node.attr == "value" and isinstance(node.value, ast.Attribute):
            member = self._member(scope, node.value)
            if member is not None:
                return self.string(Scope(member[0].module), member[1], False, depth + 1)
        try:
            base = self.resolver.expr(scope.module, node.value)
        except Unreadable:
            return None
        if isinstance(base, ModuleRef):
            return self._name(base.module, node.attr, formatted, depth + 1, last=True)
        if isinstance(base, ClassRef):
            kind = self._class_kind(base)
            value = _class_attribute(base.node, node.attr)
            if value is None or kind is None:
                return None
            if kind == "plain":
                return self.string(Scope(base.module), value, formatted, depth + 1)
            # A member: a StrEnum's is its value everywhere; a (str, Enum) member's only
            # where it is the name itself (its text in an f-string varies by Python).
            if kind == "strenum" or (kind == "strmixin" and not formatted):
                return self.string(Scope(base.module), value, False, depth + 1)
        return None

    def _member(self, scope: Scope, node: ast.Attribute) -> tuple[ClassRef, ast.expr] | None:
        """`Flows.DAILY` of an Enum class of the folder: the class and the member's value."""
        try:
            base = self.resolver.expr(scope.module, node.value)
        except Unreadable:
            return None
        if not isinstance(base, ClassRef) or self._class_kind(base) in (None, "plain"):
            return None
        value = _class_attribute(base.node, node.attr)
        return (base, value) if value is not None else None

    def _class_kind(self, ref: ClassRef) -> str | None:
        """plain (no base but object), strenum, strmixin (`str, Enum`), enum; None: other."""
        names = []
        for base in ref.node.bases:
            if isinstance(base, ast.Name) and base.id in ("object", "str"):
                names.append(base.id)
            else:
                names.append(self.resolver.external_name(ref.module, base) or "?")
        if not names or names == ["object"]:
            return "plain"
        if "enum.StrEnum" in names:
            return "strenum"
        if any(n in _ENUMS for n in names):
            return "strmixin" if "str" in names else "enum"
        return None

    # -- f-strings and items -----------------------------------------------------------------
    def _joined(self, scope: Scope, node: ast.JoinedStr, depth: int) -> str | None:
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                    return None
                text = self.string(scope, part.value, True, depth + 1)
            else:
                text = self.string(scope, part, True, depth + 1)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)

    def _item(self, scope: Scope, node: ast.Subscript, formatted: bool, depth: int) -> str | None:
        """`NAMES["daily"]` of a dict of constants."""
        key = self.string(scope, node.slice, formatted, depth + 1)
        mapping = self._dict(scope, node.value, depth)
        if key is None or mapping is None:
            return None
        for k, v in zip(mapping[1].keys, mapping[1].values, strict=True):
            if k is not None and self.string(Scope(mapping[0]), k, False, depth + 1) == key:
                return self.string(Scope(mapping[0]), v, formatted, depth + 1)
        return None

    def _dict(self, scope: Scope, node: ast.expr, depth: int) -> tuple[Module, ast.Dict] | None:
        if isinstance(node, ast.Dict):
            return scope.module, node
        if not isinstance(node, ast.Name | ast.Attribute) or depth > _MAX_DEPTH:
            return None
        try:
            symbol = self.resolver.expr(scope.module, node)
        except Unreadable:
            return None
        if isinstance(symbol, Alias) and isinstance(symbol.value, ast.Dict):
            return symbol.module, symbol.value
        return None


def _class_attribute(node: ast.ClassDef, name: str) -> ast.expr | None:
    """The value a class body assigns to `name` last (None: none, or not plainly)."""
    found = None
    for statement in node.body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
        ) or (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == name
        ):
            found = statement.value
    return found
