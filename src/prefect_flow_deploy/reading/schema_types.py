"""Types → JSON schema, as pydantic writes them: the schema of each plain, array, object, tuple
and union type, Literal and enum values, constraints (`Field(gt=0)`) on the type they fit,
and a literal default as pydantic dumps it. Pure: the reader (schema_reader.py) calls these."""

from __future__ import annotations

import ast
import inspect
import math
from dataclasses import dataclass, field
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    ClassRef,
    Module,
    Resolver,
    Unreadable,
)
from prefect_flow_deploy.reading.python_statements import (
    bound_names,
    literal_value,
    top_level,
)

SIMPLE: dict[str, dict[str, Any]] = {
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
ARRAYS = {
    "list": {},
    "typing.List": {},
    "typing.Sequence": {},
    "set": {"uniqueItems": True},
    "typing.Set": {"uniqueItems": True},
    "frozenset": {"uniqueItems": True},
    "typing.FrozenSet": {"uniqueItems": True},
}
OBJECTS = {"dict", "typing.Dict", "typing.Mapping"}
TUPLES = {"tuple", "typing.Tuple"}
UNIONS = {"typing.Union", "typing.Optional"}
ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum"}
ENUM_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
# pydantic's Field arguments that become JSON schema keywords, by the value's JSON type.
CONSTRAINTS = {
    "ge": ("minimum", {"integer", "number"}),
    "gt": ("exclusiveMinimum", {"integer", "number"}),
    "le": ("maximum", {"integer", "number"}),
    "lt": ("exclusiveMaximum", {"integer", "number"}),
    "multiple_of": ("multipleOf", {"integer", "number"}),
    "min_length": ("minLength", {"string"}),
    "max_length": ("maxLength", {"string"}),
    "pattern": ("pattern", {"string"}),
}
ARRAY_LENGTHS = {"min_length": "minItems", "max_length": "maxItems"}
EMPTY_FACTORIES: dict[str, Any] = {"list": [], "dict": {}, "set": [], "tuple": [], "frozenset": []}
FIELD_KEYS = {"default", "default_factory", "description", "title", *CONSTRAINTS}


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


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def fits(schema: dict[str, Any], value: Any) -> bool:
    if "anyOf" in schema:
        return any(fits(option, value) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array" and isinstance(value, list) and not schema.get("uniqueItems"):
        return "items" in schema and all(fits(schema["items"], v) for v in value)
    if kind not in JSON_TYPES or "format" in schema:
        return False
    if isinstance(value, bool) != (kind == "boolean"):
        return False
    return isinstance(value, JSON_TYPES[kind])


def enum_members(ref: ClassRef) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for statement in ref.node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                try:
                    value = literal_value(statement.value)
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


def enum_member(ref: ClassRef, name: str) -> Any:
    members = enum_members(ref)
    if name not in members:
        raise Unreadable(f"{ref.node.name}.{name} is not a member")
    return members[name]


def enum_schema(resolver: Resolver, ref: ClassRef) -> dict[str, Any]:
    values: list[Any] = []
    for value in enum_members(ref).values():
        if value not in values or any(type(v) is not type(value) for v in values if v == value):
            values.append(value)
    bases = {resolver.external_name(ref.module, b) for b in ref.node.bases}
    schema: dict[str, Any] = {"enum": values, "title": ref.node.name}
    types = {type(v) for v in values}
    if "str" in bases or "enum.StrEnum" in bases:
        schema["type"] = "string"
    elif "int" in bases or "enum.IntEnum" in bases:
        schema["type"] = "integer"
    elif len(types) == 1 and types.pop() in ENUM_TYPES:
        schema["type"] = ENUM_TYPES[type(values[0])]
    return schema


def literal(args: list[ast.expr]) -> dict[str, Any]:
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
        schema["type"] = ENUM_TYPES[types.pop()]
    return schema


def constrain(schema: dict[str, Any], constraints: dict[str, Any]) -> dict[str, Any]:
    """pydantic puts a constraint on the type it fits: inside `X | None`, on X."""
    if not constraints:
        return schema
    options = schema.get("anyOf")
    if options is not None and list(schema) == ["anyOf"]:
        others = [o for o in options if o != {"type": "null"}]
        if len(others) == 1 and len(options) == 2:
            inner = constrain(others[0], constraints)
            return {"anyOf": [inner if o is others[0] else o for o in options]}
        raise Unreadable("a constraint on a union")
    result = dict(schema)
    for key, value in constraints.items():
        keyword, kinds = CONSTRAINTS[key]
        if schema.get("type") == "array" and key in ARRAY_LENGTHS:
            keyword = ARRAY_LENGTHS[key]
        elif schema.get("type") not in kinds or "format" in schema:
            raise Unreadable(f"the constraint {key}= on this type")
        result[keyword] = value
    return result


def dedupe(schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique: list[dict[str, Any]] = []
    for schema in schemas:
        if schema not in unique:
            unique.append(schema)
    return unique


def jsonable(value: Any) -> Any:
    """A literal default as pydantic writes it into the schema (tuples become lists...)."""
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        if value:
            raise Unreadable("a non-empty set default (its order is decided at run time)")
        return []
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unreadable("a dict default with keys that are not strings")
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and not math.isfinite(value):
        raise Unreadable("an infinite or NaN default")
    if isinstance(value, complex) or value is ...:
        raise Unreadable(f"the default {value!r}")
    return value


def subscript_args(node: ast.Subscript) -> list[ast.expr]:
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def looks_like_union(node: ast.expr) -> bool:
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)) or (
        isinstance(node, ast.Subscript)
    )


def origin_name(resolver: Resolver, module: Module, node: ast.expr) -> str | None:
    target = node.value if isinstance(node, ast.Subscript) else node
    return resolver.external_name(module, target)


def callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def only_total(node: ast.ClassDef) -> bool:
    return all(k.arg == "total" and isinstance(k.value, ast.Constant) for k in node.keywords)


def root_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def assigned_once(module: Module, node: ast.expr) -> bool:
    """A module constant: assigned once at the top, never augmented."""
    name = node.attr if isinstance(node, ast.Attribute) else root_name(node)
    count = 0
    for statement in top_level(module.tree.body):
        if name in bound_names(statement):
            count += 1
            if isinstance(statement, ast.AugAssign):
                return False
    return count == 1


def parse_expr(text: str) -> ast.expr:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise Unreadable(f"the annotation {text!r} is not an expression") from None
