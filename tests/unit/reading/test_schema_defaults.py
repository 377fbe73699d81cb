"""A parameter's default as pydantic writes it into the schema, read from the source: literals,
module constants, enum members, empty containers and model or dataclass instances built from
keyword arguments; what is computed when the code runs is Unreadable (the image computes it)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.reading.python_source import FolderSource, Unreadable
from prefect_flow_deploy.reading.schema_reader import SchemaReader

MODULE = """
from dataclasses import dataclass, field
from enum import Enum
from pydantic import BaseModel, Field
import os

LIMIT = 3
COUNTED = 0
COUNTED += 1

class Color(str, Enum):
    RED = "r"

class Settings(BaseModel):
    limit: int = 2
    tags: list[str] = Field(default_factory=list)
    name: str

@dataclass
class Window:
    days: int = 7
    labels: list[str] = field(default_factory=list)
"""


def default(tmp_path: Path, expression: str) -> Any:
    path = tmp_path / "flow.py"
    tree = ast.parse(MODULE)
    source = FolderSource(tmp_path)
    module = source.add(path, tree)
    return SchemaReader(source.resolver).value(module, ast.parse(expression, mode="eval").body)


@pytest.mark.parametrize(
    ("expression", "dumped"),
    [
        ("(1, 2)", [1, 2]),
        ("{'a': [LIMIT]}", {"a": [3]}),
        ("LIMIT", 3),
        ("Color.RED", "r"),
        ("list()", []),
        ("dict()", {}),
        ("Settings(name='x')", {"limit": 2, "tags": [], "name": "x"}),
        ("Settings(limit=5, name='x')", {"limit": 5, "tags": [], "name": "x"}),
        ("Window()", {"days": 7, "labels": []}),
    ],
)
def test_defaults_read_from_the_source(tmp_path: Path, expression: str, dumped: Any) -> None:
    assert default(tmp_path, expression) == dumped


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("os.getenv('X')", "computed when the code runs"),
        ("COUNTED", "`COUNTED`"),  # augmented: not a constant
        ("Settings()", "misses the field name"),
        ("Settings('x')", "only keyword arguments"),
        ("Settings(name='x', other=1)", "unknown field other"),
        ("Settings(name=1)", "name would be converted"),
        ("{1: 'a'}", "keys that are not strings"),
    ],
)
def test_what_only_running_the_code_tells_is_unreadable(
    tmp_path: Path, expression: str, why: str
) -> None:
    with pytest.raises(Unreadable, match=why):
        default(tmp_path, expression)
