"""A signature's types read one by one, as pydantic writes them (the corpus test checks the same
against Prefect itself): plain, optional, container, tuple, Literal and Annotated types, aliases,
and the classes they name (enums, models) as `definitions`."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.reading.python_source import FolderSource, Unreadable
from prefect_flow_deploy.reading.schema_reader import SchemaReader

MODULE = """
import datetime
from enum import Enum
from typing import Annotated, Literal, Optional
from pydantic import BaseModel, Field

class Color(str, Enum):
    RED = "r"

class Settings(BaseModel):
    limit: int = 2

Names = list[str]
"""


@pytest.fixture
def read(tmp_path: Path) -> Any:
    source = FolderSource(tmp_path)
    module = source.add(tmp_path / "flow.py", ast.parse(MODULE))
    reader = SchemaReader(source.resolver)

    def schema(annotation: str) -> dict[str, Any]:
        return reader.type_of(module, ast.parse(annotation, mode="eval").body).schema

    schema.reader = reader  # type: ignore[attr-defined]
    schema.source = source  # type: ignore[attr-defined]  # the resolver's owner (weakly referred to)
    return schema


@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        ("int", {"type": "integer"}),
        ("datetime.date", {"type": "string", "format": "date"}),
        ("Optional[int]", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("int | None", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("list[str]", {"type": "array", "items": {"type": "string"}}),
        ("set[int]", {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        ("dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}),
        (
            "tuple[int, str]",
            {
                "type": "array", "minItems": 2, "maxItems": 2,
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
            },
        ),
        ("Literal['a', 'b']", {"enum": ["a", "b"], "type": "string"}),
        ("Annotated[int, Field(gt=0)]", {"type": "integer", "exclusiveMinimum": 0}),
        ("Names", {"type": "array", "items": {"type": "string"}}),
        ("'int'", {"type": "integer"}),  # a forward reference
    ],
)  # fmt: skip
def test_a_type_as_pydantic_writes_it(read: Any, annotation: str, schema: dict[str, Any]) -> None:
    assert read(annotation) == schema


def test_the_classes_a_type_names_become_definitions(read: Any) -> None:
    assert read("Color") == {"$ref": "#/definitions/Color"}
    assert read("list[Settings]") == {
        "type": "array", "items": {"$ref": "#/definitions/Settings"},
    }  # fmt: skip
    assert read.reader.definitions == {
        "Color": {"enum": ["r"], "title": "Color", "type": "string"},
        "Settings": {
            "properties": {"limit": {"type": "integer", "default": 2, "title": "Limit"}},
            "title": "Settings",
            "type": "object",
        },
    }


def test_a_type_from_elsewhere_is_left_to_the_image(read: Any) -> None:
    with pytest.raises(Unreadable, match=r"`numpy` is not defined at the top of flow\.py"):
        read("numpy.ndarray")
    with pytest.raises(Unreadable, match="is not a type"):
        read("3")
