"""Parameter schemas read from the source: what Prefect's `parameter_schema` gives for a flow
(pydantic's JSON schema of a model made from the signature), computed without running, or
importing, any code of the repository.

Classes the signature names are read from the flow file and its sibling modules in the same
folder (pydantic models, dataclasses, TypedDicts, enums, aliases). What cannot be read that
way (a type from another library, a default computed by a call) raises `Unreadable`: the
schema is then computed in the built image (see image_programs.image_schemas), never here.
Each folder gets its own `FolderSource`: nothing one folder defines is visible to another.
"""

from __future__ import annotations

import ast
import inspect
import math
from dataclasses import dataclass, field
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    Alias,
    ClassRef,
    External,
    FolderSource,
    FuncDef,
    Module,
    Resolver,
    Symbol,
    Unreadable,
    bound_names,
)

# -- types → JSON schema, as pydantic writes it ---------------------------------------------

_SIMPLE: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "bytes": {"type": "string", "format": "binary"},
    "typing.Any": {},
    "datetime.date": {"type": "string", "format": "date"},
    "datetime.datetime": {"type": "string", "format": "date-time"},
    "datetime.time": {"type": "string", "format": "time"},
    "datetime.timedelta": {"type": "string", "format": "duration"},
    "uuid.UUID": {"type": "string", "format": "uuid"},
    "pathlib.Path": {"type": "string", "format": "path"},
    "decimal.Decimal": {"anyOf": [{"type": "number"}, {"type": "string"}]},
}
_ARRAYS = {
    "list": {},
    "typing.List": {},
    "typing.Sequence": {},
    "set": {"uniqueItems": True},
    "typing.Set": {"uniqueItems": True},
    "frozenset": {"uniqueItems": True},
    "typing.FrozenSet": {"uniqueItems": True},
}
_OBJECTS = {"dict", "typing.Dict", "typing.Mapping"}
_TUPLES = {"tuple", "typing.Tuple"}
_UNIONS = {"typing.Union", "typing.Optional"}
_ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum"}
_ENUM_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
# pydantic's Field arguments that become JSON schema keywords, by the value's JSON type.
_CONSTRAINTS = {
    "ge": ("minimum", {"integer", "number"}),
    "gt": ("exclusiveMinimum", {"integer", "number"}),
    "le": ("maximum", {"integer", "number"}),
    "lt": ("exclusiveMaximum", {"integer", "number"}),
    "multiple_of": ("multipleOf", {"integer", "number"}),
    "min_length": ("minLength", {"string"}),
    "max_length": ("maxLength", {"string"}),
    "pattern": ("pattern", {"string"}),
}
_ARRAY_LENGTHS = {"min_length": "minItems", "max_length": "maxItems"}
_EMPTY_FACTORIES: dict[str, Any] = {"list": [], "dict": {}, "set": [], "tuple": [], "frozenset": []}
_FIELD_KEYS = {"default", "default_factory", "description", "title", *_CONSTRAINTS}


@dataclass
class Typed:
    schema: dict[str, Any]
    titled: bool = True  # pydantic gives a model field a title unless it is a reference
    constraints: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    title: str | None = None


@dataclass
class FieldInfo:
    """pydantic's `Field(...)` read from the source."""

    default: Any = inspect.Parameter.empty
    has_factory: bool = False
    factory: str | None = None  # `default_factory=list`: what an instance gets
    description: str | None = None
    title: str | None = None
    constraints: dict[str, Any] = field(default_factory=dict)


class SchemaReader:
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
                return self.type_of(module, _parse_expr(node.value), depth + 1)
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
        if name in _SIMPLE:
            return Typed(dict(_SIMPLE[name]))
        if name in _ARRAYS:
            return Typed({"items": {}, "type": "array", **_ARRAYS[name]})
        if name in _OBJECTS:
            return Typed({"additionalProperties": True, "type": "object"})
        if name in _TUPLES:
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
            if origin in _UNIONS:
                args = _subscript_args(node)
                members = [m for a in args for m in self._members(module, a, depth + 1)]
                if origin == "typing.Optional":
                    members.append((module, ast.Constant(None)))
                return members
        if isinstance(node, (ast.Name, ast.Attribute)):
            symbol = self.resolve.expr(module, node)
            if isinstance(symbol, Alias) and _looks_like_union(symbol.value):
                return self._members(symbol.module, symbol.value, depth + 1)
        return [(module, node)]

    def _union(self, module: Module, members: list[tuple[Module, ast.expr]]) -> Typed:
        nullable = False
        schemas: list[Typed] = []
        for member_module, member in members:
            if _is_none(member):
                nullable = True
                continue
            schemas.append(self.type_of(member_module, member))
        choices = _dedupe([t.schema for t in schemas])
        if not choices:
            return Typed({"type": "null"})
        single = len(choices) == 1
        inner = choices[0] if single else {"anyOf": choices}
        titled = not single or schemas[0].titled
        if not nullable:
            return Typed(inner, titled)
        flat = inner["anyOf"] if not single or list(inner) == ["anyOf"] else [inner]
        return Typed({"anyOf": _dedupe([*flat, {"type": "null"}])}, titled)

    def _generic(self, module: Module, node: ast.Subscript, depth: int) -> Typed:
        origin = self.resolve.expr(module, node.value)
        if isinstance(origin, Alias):
            raise Unreadable(f"`{ast.unparse(node)}`: a subscripted alias (a generic)")
        if not isinstance(origin, External):
            raise Unreadable(f"`{ast.unparse(node)}` is a generic class")
        name, args = origin.name, _subscript_args(node)
        if name in _UNIONS:
            return self._union(module, self._members(module, node))
        if name == "typing.Literal":
            return Typed(_literal(args))
        if name == "typing.Annotated":
            return self._annotated(module, args, depth)
        if name in _ARRAYS:
            items = self.type_of(module, args[0], depth + 1).schema
            return Typed({"items": items, "type": "array", **_ARRAYS[name]})
        if name in _OBJECTS:
            if len(args) != 2:
                raise Unreadable(f"`{ast.unparse(node)}`")
            key = self.type_of(module, args[0], depth + 1).schema
            if key not in ({"type": "string"}, {}, {"type": "integer"}):
                raise Unreadable(f"`{ast.unparse(node)}`: keys of this type")
            value = self.type_of(module, args[1], depth + 1).schema
            return Typed({"additionalProperties": value or True, "type": "object"})
        if name in _TUPLES:
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
                info.description or inner.description,
                info.title or inner.title,
            )
        if inner.constraints:
            inner = Typed(
                _constrain(inner.schema, inner.constraints),
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
            if key not in _FIELD_KEYS:
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
        if node.keywords and not (self._typeddict_base(ref) and _only_total(node)):
            raise Unreadable(f"class {node.name}(... {ast.unparse(node.keywords[0])})")
        bases = [self._base(ref.module, b) for b in node.bases]
        if any(isinstance(b, External) and b.name == "typing_extensions.TypedDict" for b in bases):
            return "typeddict"
        if any(isinstance(b, External) and b.name == "typing.TypedDict" for b in bases):
            raise Unreadable(
                f"{node.name} is a typing.TypedDict, which pydantic reads only on Python 3.12+"
            )
        if any(isinstance(b, External) and b.name in _ENUM_BASES for b in bases):
            return "enum"
        if any(isinstance(b, External) and b.name == "pydantic.BaseModel" for b in bases):
            return "model"
        for base in bases:
            if isinstance(base, ClassRef) and depth < 20 and self._kind(base, depth + 1) == "model":
                return "model"
        if bases:
            raise Unreadable(f"class {node.name} has bases this reader does not know")
        decorators = [
            self.resolve.external_name(ref.module, _callee(d)) for d in node.decorator_list
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
            schema = _enum_schema(self, ref)
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
            origin = _origin_name(self.resolve, ref.module, statement.annotation)
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
            origin = _origin_name(self.resolve, module, annotation)
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
        schema = _constrain(typed.schema, {**typed.constraints, **info.constraints})
        prop = dict(schema)
        if info.default is not inspect.Parameter.empty:
            prop["default"] = info.default
        title = info.title or typed.title
        if title:
            prop["title"] = title
        elif typed.titled:
            prop["title"] = name.title().replace("_", " ").strip()
        description = info.description or typed.description
        if description:
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

    # -- values (defaults), as pydantic writes them into the schema -------------------------
    def value(self, module: Module, node: ast.expr, depth: int = 0) -> Any:
        if depth > 30:
            raise Unreadable("a constant refers to itself")
        try:
            result = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return self._computed_value(module, node, depth)
        return _jsonable(result)

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
                    return _enum_member(self, owner, node.attr)
            symbol = self.resolve.expr(module, node)
            if isinstance(symbol, Alias) and _assigned_once(symbol.module, node):
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
                if not _plainly_fits(self, field_module, annotation, raw):
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
            if info.factory in _EMPTY_FACTORIES:
                dumped[name] = _EMPTY_FACTORIES[info.factory]
            elif info.has_factory or info.default is inspect.Parameter.empty:
                raise Unreadable(f"`{ast.unparse(call)}`: {name} comes from a factory")
            else:
                dumped[name] = info.default
        if given:
            raise Unreadable(f"`{ast.unparse(call)}`: unknown field {next(iter(given))}")
        return dumped


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _plainly_fits(reader: SchemaReader, module: Module, annotation: ast.expr, value: Any) -> bool:
    """The value is stored as given (validation converts nothing): `Settings(limit=2)`."""
    return _fits(reader.type_of(module, annotation).schema, value)


def _fits(schema: dict[str, Any], value: Any) -> bool:
    if "anyOf" in schema:
        return any(_fits(option, value) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array" and isinstance(value, list) and not schema.get("uniqueItems"):
        return "items" in schema and all(_fits(schema["items"], v) for v in value)
    if kind not in _JSON_TYPES or "format" in schema:
        return False
    if isinstance(value, bool) != (kind == "boolean"):
        return False
    return isinstance(value, _JSON_TYPES[kind])


def _enum_members(reader: SchemaReader, ref: ClassRef) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for statement in ref.node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                try:
                    value = ast.literal_eval(statement.value)
                except ValueError:
                    raise Unreadable(f"{ref.node.name}.{target.id} is computed (auto()?)") from None
                if not isinstance(value, (str, int, float)):
                    raise Unreadable(f"{ref.node.name}.{target.id} is not a plain value")
                members[target.id] = value
        elif isinstance(statement, ast.AnnAssign):
            raise Unreadable(f"{ref.node.name} has an annotated member")
    if not members:
        raise Unreadable(f"{ref.node.name} has no members")
    return members


def _enum_member(reader: SchemaReader, ref: ClassRef, name: str) -> Any:
    members = _enum_members(reader, ref)
    if name not in members:
        raise Unreadable(f"{ref.node.name}.{name} is not a member")
    return members[name]


def _enum_schema(reader: SchemaReader, ref: ClassRef) -> dict[str, Any]:
    values: list[Any] = []
    for value in _enum_members(reader, ref).values():
        if value not in values or any(type(v) is not type(value) for v in values if v == value):
            values.append(value)
    bases = {reader.resolve.external_name(ref.module, b) for b in ref.node.bases}
    schema: dict[str, Any] = {"enum": values, "title": ref.node.name}
    types = {type(v) for v in values}
    if "str" in bases or "enum.StrEnum" in bases:
        schema["type"] = "string"
    elif "int" in bases or "enum.IntEnum" in bases:
        schema["type"] = "integer"
    elif len(types) == 1 and types.pop() in _ENUM_TYPES:
        schema["type"] = _ENUM_TYPES[type(values[0])]
    return schema


def _literal(args: list[ast.expr]) -> dict[str, Any]:
    values = []
    for arg in args:
        if not isinstance(arg, ast.Constant) or not isinstance(arg.value, (str, int, bool)):
            raise Unreadable(f"`Literal[{ast.unparse(arg)}]`")
        values.append(arg.value)
    unique: list[Any] = []
    for value in values:
        if not any(v == value and type(v) is type(value) for v in unique):
            unique.append(value)
    schema: dict[str, Any] = {"const": unique[0]} if len(unique) == 1 else {"enum": unique}
    types = {type(v) for v in unique}
    if len(types) == 1:
        schema["type"] = _ENUM_TYPES[types.pop()]
    return schema


def _constrain(schema: dict[str, Any], constraints: dict[str, Any]) -> dict[str, Any]:
    """pydantic puts a constraint on the type it fits: inside `X | None`, on X."""
    if not constraints:
        return schema
    options = schema.get("anyOf")
    if options is not None and list(schema) == ["anyOf"]:
        others = [o for o in options if o != {"type": "null"}]
        if len(others) == 1 and len(options) == 2:
            inner = _constrain(others[0], constraints)
            return {"anyOf": [inner if o is others[0] else o for o in options]}
        raise Unreadable("a constraint on a union")
    result = dict(schema)
    for key, value in constraints.items():
        keyword, kinds = _CONSTRAINTS[key]
        if schema.get("type") == "array" and key in _ARRAY_LENGTHS:
            keyword = _ARRAY_LENGTHS[key]
        elif schema.get("type") not in kinds or "format" in schema:
            raise Unreadable(f"the constraint {key}= on this type")
        result[keyword] = value
    return result


def _dedupe(schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique: list[dict[str, Any]] = []
    for schema in schemas:
        if schema not in unique:
            unique.append(schema)
    return unique


def _jsonable(value: Any) -> Any:
    """A literal default as pydantic writes it into the schema (tuples become lists...)."""
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        if value:
            raise Unreadable("a non-empty set default (its order is decided at run time)")
        return []
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unreadable("a dict default with keys that are not strings")
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and not math.isfinite(value):
        raise Unreadable("an infinite or NaN default")
    if isinstance(value, complex) or value is ...:
        raise Unreadable(f"the default {value!r}")
    return value


def _subscript_args(node: ast.Subscript) -> list[ast.expr]:
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _looks_like_union(node: ast.expr) -> bool:
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)) or (
        isinstance(node, ast.Subscript)
    )


def _origin_name(resolver: Resolver, module: Module, node: ast.expr) -> str | None:
    target = node.value if isinstance(node, ast.Subscript) else node
    return resolver.external_name(module, target)


def _callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _only_total(node: ast.ClassDef) -> bool:
    return all(k.arg == "total" and isinstance(k.value, ast.Constant) for k in node.keywords)


def _root_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _assigned_once(module: Module, node: ast.expr) -> bool:
    """A module constant: assigned once at the top, never augmented."""
    name = node.attr if isinstance(node, ast.Attribute) else _root_name(node)
    count = 0
    for statement in module.tree.body:
        if name in bound_names(statement):
            count += 1
            if isinstance(statement, ast.AugAssign):
                return False
    return count == 1


def _parse_expr(text: str) -> ast.expr:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise Unreadable(f"the annotation {text!r} is not an expression") from None


# -- the whole signature, as Prefect's parameter_schema builds it -----------------------------

# What pydantic refuses as a field name, and the names of Prefect's ValidatedFunction model:
# a flow with such a parameter fails when its module is imported (checked against Prefect
# 3.9.1 / pydantic 2.x in tests/unit/reading/test_flows_corpus.py).
RESERVED_PARAMETERS = frozenset(
    {
        "model_config",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "model_dump",
        "model_dump_json",
        "v__args",
        "v__kwargs",
        "v__positional_only",
        "v__duplicate_kwargs",
    }
)


def invalid_parameter(name: str) -> str | None:
    """Why Prefect refuses a parameter name when it loads the flow, else None."""
    if name.startswith("_"):
        return "pydantic refuses field names that start with `_`"
    if name in RESERVED_PARAMETERS:
        return "the name is reserved by pydantic or by Prefect's parameter validation"
    return None


def parameters_of(func: FuncDef) -> list[tuple[ast.arg, ast.expr | None, str]]:
    """(argument, default, kind) in the order `inspect.signature` lists them."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    result = [(a, d, "positional") for a, d in zip(positional, defaults, strict=True)]
    if args.vararg:
        result.append((args.vararg, None, "varargs"))
    result += [(a, d, "keyword") for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        result.append((args.kwarg, None, "varkw"))
    return result


def read_schema(
    source: FolderSource, module: Module, func: FuncDef, docs: dict[str, str]
) -> dict[str, Any]:
    """The flow's parameter schema, equal to Prefect's `parameter_schema(flow.fn)`; raises
    Unreadable for what only running the code could tell."""
    reader = SchemaReader(source.resolver)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for position, (arg, default, kind) in enumerate(parameters_of(func)):
        if arg.arg in ("self", "cls"):
            continue
        typed = reader.type_of(module, arg.annotation)
        prop = _constrain(typed.schema, typed.constraints)
        description = docs.get(arg.arg)
        value: Any
        if kind == "varargs":
            prop, value = {"items": prop, "type": "array"}, []
        elif kind == "varkw":
            prop, value = {"additionalProperties": prop or True, "type": "object"}, {}
        elif default is None:
            value = inspect.Parameter.empty
        else:
            info = reader.field_call(module, default)
            if info is not None:
                if info.has_factory or info.default is inspect.Parameter.empty:
                    raise Unreadable(f"`{ast.unparse(default)}` as a parameter default")
                value, description = info.default, info.description or description
            else:
                value = reader.value(module, default)
        prop = {**prop, "title": arg.arg, "position": position}
        if description:
            prop["description"] = description
        if value is inspect.Parameter.empty:
            required.append(arg.arg)
        else:
            prop["default"] = value
        properties[arg.arg] = prop
    schema: dict[str, Any] = {"title": "Parameters", "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["definitions"] = reader.definitions
    return schema
