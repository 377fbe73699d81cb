"""One flow's parameter schema, read type by type: the types a signature names (aliases,
unions, generics, Annotated) and the classes behind them (pydantic models, dataclasses,
TypedDicts, enums) as pydantic's `$defs`, with their fields' defaults (schema_defaults.py)."""

from __future__ import annotations

import ast
import inspect
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    Alias,
    ClassRef,
    External,
    FuncDef,
    Module,
    Resolver,
    Symbol,
    Unreadable,
)
from prefect_flow_deploy.reading.schema_defaults import DefaultsReader
from prefect_flow_deploy.reading.schema_types import (
    ARRAYS,
    ENUM_BASES,
    FIELD_KEYS,
    OBJECTS,
    SIMPLE,
    TUPLES,
    UNIONS,
    FieldInfo,
    Typed,
    callee,
    constrain,
    dedupe,
    enum_schema,
    is_none,
    literal,
    looks_like_union,
    only_total,
    origin_name,
    parse_expr,
    subscript_args,
)


class SchemaReader(DefaultsReader):
    """One flow's parameter schema; `definitions` collects the classes it names."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolve = resolver
        self.definitions: dict[str, dict[str, Any]] = {}
        self._defined: dict[str, ClassRef] = {}
        self._building: set[ClassRef] = set()

    # -- a type ---------------------------------------------------------------------------
    def type_of(self, module: Module, node: ast.expr | None, depth: int = 0) -> Typed:
        if depth > 30:
            raise Unreadable("a type alias refers to itself")
        if node is None:
            return Typed({})
        if isinstance(node, ast.Constant):
            if node.value is None:
                return Typed({"type": "null"})
            if isinstance(node.value, str):  # a forward reference
                return self.type_of(module, parse_expr(node.value), depth + 1)
            raise Unreadable(f"`{ast.unparse(node)}` is not a type")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._union(module, self._members(module, node))
        if isinstance(node, ast.Subscript):
            return self._generic(module, node, depth)
        symbol = self.resolve.expr(module, node)
        if isinstance(symbol, Alias):
            return self.type_of(symbol.module, symbol.value, depth + 1)
        if isinstance(symbol, ClassRef):
            return self._class(symbol)
        if isinstance(symbol, External):
            return self._external(symbol.name)
        raise Unreadable(f"`{ast.unparse(node)}` is not a type")

    def _external(self, name: str) -> Typed:
        if name in SIMPLE:
            return Typed(dict(SIMPLE[name]))
        if name in ARRAYS:
            return Typed({"items": {}, "type": "array", **ARRAYS[name]})
        if name in OBJECTS:
            return Typed({"additionalProperties": True, "type": "object"})
        if name in TUPLES:
            return Typed({"items": {}, "type": "array"})
        if name == "None":
            return Typed({"type": "null"})
        package = name.split(".")[0]
        raise Unreadable(f"`{name}` comes from `{package}`, outside the folder")

    def _members(
        self, module: Module, node: ast.expr, depth: int = 0
    ) -> list[tuple[Module, ast.expr]]:
        """The members of a union, flattened as typing flattens them (through aliases)."""
        if depth > 30:
            raise Unreadable("a type alias refers to itself")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._members(module, node.left, depth + 1) + self._members(
                module, node.right, depth + 1
            )
        if isinstance(node, ast.Subscript):
            origin = self.resolve.external_name(module, node.value)
            if origin in UNIONS:
                args = subscript_args(node)
                members = [m for a in args for m in self._members(module, a, depth + 1)]
                if origin == "typing.Optional":
                    members.append((module, ast.Constant(None)))
                return members
        if isinstance(node, (ast.Name, ast.Attribute)):
            symbol = self.resolve.expr(module, node)
            if isinstance(symbol, Alias) and looks_like_union(symbol.value):
                return self._members(symbol.module, symbol.value, depth + 1)
        return [(module, node)]

    def _union(self, module: Module, members: list[tuple[Module, ast.expr]]) -> Typed:
        nullable = False
        schemas: list[Typed] = []
        for member_module, member in members:
            if is_none(member):
                nullable = True
                continue
            schemas.append(self.type_of(member_module, member))
        choices = dedupe([t.schema for t in schemas])
        if not choices:
            return Typed({"type": "null"})
        single = len(choices) == 1
        inner = choices[0] if single else {"anyOf": choices}
        titled = not single or schemas[0].titled
        if not nullable:
            return Typed(inner, titled)
        flat = inner["anyOf"] if not single or list(inner) == ["anyOf"] else [inner]
        return Typed({"anyOf": dedupe([*flat, {"type": "null"}])}, titled)

    def _generic(self, module: Module, node: ast.Subscript, depth: int) -> Typed:
        origin = self.resolve.expr(module, node.value)
        if isinstance(origin, Alias):
            raise Unreadable(f"`{ast.unparse(node)}`: a subscripted alias (a generic)")
        if not isinstance(origin, External):
            raise Unreadable(f"`{ast.unparse(node)}` is a generic class")
        name, args = origin.name, subscript_args(node)
        if name in UNIONS:
            return self._union(module, self._members(module, node))
        if name == "typing.Literal":
            return Typed(literal(args))
        if name == "typing.Annotated":
            return self._annotated(module, args, depth)
        if name in ARRAYS:
            items = self.type_of(module, args[0], depth + 1).schema
            return Typed({"items": items, "type": "array", **ARRAYS[name]})
        if name in OBJECTS:
            if len(args) != 2:
                raise Unreadable(f"`{ast.unparse(node)}`")
            key = self.type_of(module, args[0], depth + 1).schema
            if key not in ({"type": "string"}, {}, {"type": "integer"}):
                raise Unreadable(f"`{ast.unparse(node)}`: keys of this type")
            value = self.type_of(module, args[1], depth + 1).schema
            return Typed({"additionalProperties": value or True, "type": "object"})
        if name in TUPLES:
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is ...:
                items = self.type_of(module, args[0], depth + 1).schema
                return Typed({"items": items, "type": "array"})
            if len(args) == 1 and isinstance(args[0], ast.Tuple) and not args[0].elts:
                raise Unreadable("`tuple[()]`")
            prefix = [self.type_of(module, a, depth + 1).schema for a in args]
            return Typed(
                {
                    "maxItems": len(prefix),
                    "minItems": len(prefix),
                    "prefixItems": prefix,
                    "type": "array",
                }
            )
        raise Unreadable(f"`{ast.unparse(node)}`")

    def _annotated(self, module: Module, args: list[ast.expr], depth: int) -> Typed:
        inner = self.type_of(module, args[0], depth + 1)
        for meta in args[1:]:
            if isinstance(meta, ast.Constant):
                continue  # pydantic ignores metadata it does not know
            info = self.field_call(module, meta)
            if info is None:
                raise Unreadable(f"`Annotated` metadata `{ast.unparse(meta)}`")
            if info.default is not inspect.Parameter.empty or info.has_factory:
                raise Unreadable("a default inside `Annotated`")
            inner = Typed(
                inner.schema,
                inner.titled,
                {**inner.constraints, **info.constraints},
                _given(info.description, inner.description),
                _given(info.title, inner.title),
            )
        if inner.constraints:
            inner = Typed(
                constrain(inner.schema, inner.constraints),
                inner.titled,
                {},
                inner.description,
                inner.title,
            )
        return inner

    # -- pydantic.Field ---------------------------------------------------------------------
    def field_call(self, module: Module, node: ast.expr) -> FieldInfo | None:
        """`Field(...)` with only what this reader knows; None when `node` is not a Field."""
        if not isinstance(node, ast.Call):
            return None
        if self.resolve.external_name(module, node.func) != "pydantic.Field":
            return None
        info = FieldInfo()
        if len(node.args) > 1:
            raise Unreadable("`Field` with more than one positional argument")
        if node.args:
            info.default = self.value(module, node.args[0])
        for keyword in node.keywords:
            key = keyword.arg
            if key not in FIELD_KEYS:
                raise Unreadable(f"`Field({key}=...)`")
            if key == "default":
                info.default = self.value(module, keyword.value)
            elif key == "default_factory":
                info.has_factory = True
                info.factory = self.resolve.external_name(module, keyword.value)
            elif key in ("description", "title"):
                text = self.value(module, keyword.value)
                if not isinstance(text, str):
                    raise Unreadable(f"`Field({key}=...)` that is not a string")
                setattr(info, key, inspect.cleandoc(text) if key == "description" else text)
            else:
                info.constraints[key] = self.value(module, keyword.value)
        if info.default is ...:
            info.default = inspect.Parameter.empty
        return info

    # -- classes ----------------------------------------------------------------------------
    def _class(self, ref: ClassRef) -> Typed:
        kind = self._kind(ref)
        if kind == "plain":
            return Typed({})  # Prefect's generator: an arbitrary class is an empty schema
        name = ref.node.name
        known = self._defined.get(name)
        if known is not None and known != ref:
            raise Unreadable(f"two classes named {name} (pydantic renames them)")
        if ref in self._building:
            raise Unreadable(f"{name} refers to itself")
        if known is None:
            self._defined[name] = ref
            self._building.add(ref)
            try:
                self.definitions[name] = self._definition(ref, kind)
            finally:
                self._building.discard(ref)
        return Typed({"$ref": f"#/definitions/{name}"}, titled=False)

    def _kind(self, ref: ClassRef, depth: int = 0) -> str:
        node = ref.node
        if node.keywords and not (self._typeddict_base(ref) and only_total(node)):
            raise Unreadable(f"class {node.name}(... {ast.unparse(node.keywords[0])})")
        bases = [self._base(ref.module, b) for b in node.bases]
        if any(isinstance(b, External) and b.name == "typing_extensions.TypedDict" for b in bases):
            return "typeddict"
        if any(isinstance(b, External) and b.name == "typing.TypedDict" for b in bases):
            raise Unreadable(
                f"{node.name} is a typing.TypedDict, which pydantic reads only on Python 3.12+"
            )
        if any(isinstance(b, External) and b.name in ENUM_BASES for b in bases):
            return "enum"
        if any(isinstance(b, External) and b.name == "pydantic.BaseModel" for b in bases):
            return "model"
        for base in bases:
            if isinstance(base, ClassRef) and depth < 20 and self._kind(base, depth + 1) == "model":
                return "model"
        if bases:
            raise Unreadable(f"class {node.name} has bases this reader does not know")
        decorators = [
            self.resolve.external_name(ref.module, callee(d)) for d in node.decorator_list
        ]
        if decorators == ["dataclasses.dataclass"]:
            return "dataclass"
        if decorators:
            raise Unreadable(f"class {node.name} is decorated")
        hooks = {
            "__get_pydantic_core_schema__",
            "__get_validators__",
            "__get_pydantic_json_schema__",
        }
        if any(isinstance(s, FuncDef) and s.name in hooks for s in node.body):
            raise Unreadable(f"class {node.name} tells pydantic its own schema")
        return "plain"

    def _base(self, module: Module, node: ast.expr) -> Symbol:
        symbol = self.resolve.expr(module, node)
        if isinstance(symbol, Alias):
            raise Unreadable(f"a base class given through an alias: `{ast.unparse(node)}`")
        return symbol

    def _typeddict_base(self, ref: ClassRef) -> bool:
        return any(
            self.resolve.external_name(ref.module, b)
            in ("typing_extensions.TypedDict", "typing.TypedDict")
            for b in ref.node.bases
        )

    def _definition(self, ref: ClassRef, kind: str) -> dict[str, Any]:
        node = ref.node
        if kind == "enum":
            schema = enum_schema(self.resolve, ref)
        else:
            properties, required = self._fields(ref, kind)
            schema = {"properties": properties, "title": node.name, "type": "object"}
            if required:
                schema["required"] = required
        docstring = ast.get_docstring(node)
        if docstring:
            schema["description"] = docstring
        return schema

    def _fields(self, ref: ClassRef, kind: str) -> tuple[dict[str, Any], list[str]]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        total = all(
            not (k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False)
            for k in ref.node.keywords
        )
        for name, annotation, value, module in self._field_nodes(ref, kind):
            prop, is_required = self._field(module, name, annotation, value, kind, total)
            properties[name] = prop
            if is_required and name not in required:
                required.append(name)
            elif not is_required and name in required:
                required.remove(name)
        return properties, required

    def _field_nodes(
        self, ref: ClassRef, kind: str, depth: int = 0
    ) -> list[tuple[str, ast.expr, ast.expr | None, Module]]:
        nodes: list[tuple[str, ast.expr, ast.expr | None, Module]] = []
        if kind == "model":
            for base in ref.node.bases:
                symbol = self._base(ref.module, base)
                if isinstance(symbol, ClassRef) and depth < 20:
                    nodes += self._field_nodes(symbol, "model", depth + 1)
        for statement in ref.node.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "model_config" for t in statement.targets
            ):
                raise Unreadable(f"{ref.node.name} sets model_config")
            if isinstance(statement, ast.ClassDef) and statement.name == "Config":
                raise Unreadable(f"{ref.node.name} has a Config class")
            if not isinstance(statement, ast.AnnAssign) or not isinstance(
                statement.target, ast.Name
            ):
                continue
            name = statement.target.id
            origin = origin_name(self.resolve, ref.module, statement.annotation)
            if origin in ("typing.ClassVar",) or name.startswith("_"):
                continue
            if origin == "dataclasses.InitVar" or name == "model_config":
                raise Unreadable(f"{ref.node.name}.{name}")
            nodes = [n for n in nodes if n[0] != name] + [
                (name, statement.annotation, statement.value, ref.module)
            ]
        return nodes

    def _field(
        self,
        module: Module,
        name: str,
        annotation: ast.expr,
        value: ast.expr | None,
        kind: str,
        total: bool,
    ) -> tuple[dict[str, Any], bool]:
        required_wrapper = None
        if kind == "typeddict":
            origin = origin_name(self.resolve, module, annotation)
            if origin in ("typing.Required", "typing.NotRequired"):
                required_wrapper = origin == "typing.Required"
                assert isinstance(annotation, ast.Subscript)
                annotation = annotation.slice
        typed = self.type_of(module, annotation)
        info = FieldInfo()
        if value is not None:
            if kind == "model":
                info = self.field_call(module, value) or FieldInfo(self.value(module, value))
            elif kind == "dataclass":
                info = self._dataclass_field(module, value)
            else:
                raise Unreadable("a TypedDict field with a value")
        schema = constrain(typed.schema, {**typed.constraints, **info.constraints})
        prop = dict(schema)
        if info.default is not inspect.Parameter.empty:
            prop["default"] = info.default
        title = _given(info.title, typed.title)
        if title is not None:
            prop["title"] = title
        elif typed.titled:
            prop["title"] = name.title().replace("_", " ").strip()
        description = _given(info.description, typed.description)
        if description is not None:
            prop["description"] = description
        if kind == "typeddict":
            required = total if required_wrapper is None else required_wrapper
        else:
            required = info.default is inspect.Parameter.empty and not info.has_factory
        return prop, required

    def _dataclass_field(self, module: Module, value: ast.expr) -> FieldInfo:
        if (
            isinstance(value, ast.Call)
            and self.resolve.external_name(module, value.func) == "dataclasses.field"
        ):
            info = FieldInfo()
            for keyword in value.keywords:
                if keyword.arg == "default":
                    info.default = self.value(module, keyword.value)
                elif keyword.arg == "default_factory":
                    info.has_factory = True
                    info.factory = self.resolve.external_name(module, keyword.value)
                elif keyword.arg not in ("repr", "compare", "hash"):
                    raise Unreadable(f"`field({keyword.arg}=...)`")
            return info
        return FieldInfo(self.value(module, value))


def _given(text: str | None, otherwise: str | None) -> str | None:
    """A field's title or description as pydantic merges and writes them: one given, even
    empty (`Field(description="")`), wins over the `Annotated` metadata's, and is written."""
    return text if text is not None else otherwise
