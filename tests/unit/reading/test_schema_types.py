"""Types → JSON schema as pydantic writes it, on the pieces themselves: Literal and enum values,
a constraint on the type it fits (inside `X | None`, on X), a literal default as pydantic
dumps it, and whether a value is kept as given."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.reading.python_source import ClassRef, Module, Unreadable
from prefect_flow_deploy.reading.schema_types import (
    assigned_once,
    constrain,
    dedupe,
    enum_member,
    enum_members,
    fits,
    jsonable,
    literal,
    parse_expr,
    root_name,
)


def args(text: str) -> list[ast.expr]:
    node = ast.parse(text, mode="eval").body
    assert isinstance(node, ast.Subscript)
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def module(source: str) -> Module:
    return Module(Path("m.py"), ast.parse(source))


def enum_class(source: str) -> ClassRef:
    found = module(source)
    [node] = [n for n in found.tree.body if isinstance(n, ast.ClassDef)]
    return ClassRef(found, node)


def test_literal_values_give_const_or_enum_with_their_json_type() -> None:
    assert literal(args("Literal['a']")) == {"const": "a", "type": "string"}
    assert literal(args("Literal[1, 2, 1]")) == {"enum": [1, 2], "type": "integer"}
    assert literal(args("Literal['a', 1]")) == {"enum": ["a", 1]}  # no single type
    assert literal(args("Literal[True, 1]")) == {"enum": [True, 1]}  # True is not 1 here
    with pytest.raises(Unreadable):
        literal(args("Literal[x]"))


def test_a_constraint_sits_on_the_type_it_fits() -> None:
    assert constrain({"type": "integer"}, {}) == {"type": "integer"}
    assert constrain({"type": "integer"}, {"gt": 0}) == {"type": "integer", "exclusiveMinimum": 0}
    optional = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert constrain(optional, {"max_length": 5}) == {
        "anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]
    }
    assert constrain({"type": "array", "items": {}}, {"min_length": 1})["minItems"] == 1
    with pytest.raises(Unreadable, match="a constraint on a union"):
        constrain({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"max_length": 5})
    with pytest.raises(Unreadable, match="the constraint gt= on this type"):
        constrain({"type": "string"}, {"gt": 0})


def test_a_literal_default_is_dumped_as_pydantic_dumps_it() -> None:
    assert jsonable((1, [2, (3,)])) == [1, [2, [3]]]
    assert jsonable({"a": b"x"}) == {"a": "x"}
    assert jsonable(frozenset()) == []
    for value in ({1}, {1: "a"}, float("inf"), 1j, ...):
        with pytest.raises(Unreadable):
            jsonable(value)


@pytest.mark.parametrize(
    ("schema", "value", "kept"),
    [
        ({"type": "integer"}, 2, True),
        ({"type": "integer"}, True, False),  # a bool is not an int to pydantic's dump
        ({"type": "number"}, 2, True),
        ({"type": "string", "format": "date"}, "2024-01-01", False),  # converted
        ({"type": "array", "items": {"type": "string"}}, ["a"], True),
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, ["a"], False),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, None, True),
    ],
)
def test_which_values_a_model_keeps_as_given(
    schema: dict[str, Any], value: Any, kept: bool
) -> None:
    assert fits(schema, value) is kept


def test_enum_members_are_its_plain_assignments() -> None:
    ref = enum_class("class Color(Enum):\n    RED = 'r'\n    _hidden = 'h'\n    BLUE = 'b'\n")
    assert enum_members(ref) == {"RED": "r", "BLUE": "b"}
    assert enum_member(ref, "BLUE") == "b"
    with pytest.raises(Unreadable, match=r"Color\.GREEN is not a member"):
        enum_member(ref, "GREEN")
    with pytest.raises(Unreadable, match="computed"):
        enum_members(enum_class("class Auto(Enum):\n    A = auto()\n"))


def test_small_helpers() -> None:
    assert dedupe([{"a": 1}, {"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert root_name(parse_expr("a.b.c")) == "a"
    assert root_name(parse_expr("f().x")) == ""
    with pytest.raises(Unreadable, match="not an expression"):
        parse_expr("list[")
    found = module("LIMIT = 3\nTWICE = 1\nTWICE = 2\nADDED = 1\nADDED += 1\n")
    assert assigned_once(found, parse_expr("LIMIT"))
    assert not assigned_once(found, parse_expr("TWICE"))
    assert not assigned_once(found, parse_expr("ADDED"))
