"""Parameter schemas read from the source: what Prefect's `parameter_schema` gives for a flow
(pydantic's JSON schema of a model made from the signature), computed without running, or
importing, any code of the repository.

Classes the signature names are read from the flow file and its sibling modules in the same
folder (pydantic models, dataclasses, TypedDicts, enums, aliases). What cannot be read that
way (a type from another library, a default computed by a call) raises `Unreadable`: the
schema is then computed in the built image (see image_programs.image_schemas), never here.
Each folder gets its own `FolderSource`: nothing one folder defines is visible to another.

Here: the whole signature, as Prefect's parameter_schema builds it. The types and classes it
names: schema_reader.py; their defaults: schema_defaults.py; type → JSON schema: schema_types.py.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    FolderSource,
    FuncDef,
    Module,
    Unreadable,
)
from prefect_flow_deploy.reading.schema_reader import SchemaReader
from prefect_flow_deploy.reading.schema_types import constrain

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
        prop = constrain(typed.schema, typed.constraints)
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
        if description is not None:  # an empty one too: `x:` in the docstring's Args
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
