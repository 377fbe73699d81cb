"""Strings read across a folder's modules without running them (static_values.py): what is
read, and what is left to the image because only running the code tells. That the names
read equal Prefect's own: tests/unit/reading/test_flows_corpus.py (ops/named_by_constants)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.python_source import FolderSource
from prefect_flow_deploy.reading.static_values import Scope, StaticStrings

CONSTANTS = """\
import enum
from enum import Enum

import pydantic


class Plain:
    A = "plain-a"


class Model(pydantic.BaseModel):
    A: str = "model-a"


class Mixed(str, Enum):
    A = "mixed-a"


class Numbered(enum.Enum):
    A = enum.auto()


TWICE = "first"
TWICE = "second"
GROWN = "a"
GROWN += "b"
TABLE = {"x": "table-x", "y": Plain.A}
"""


@pytest.fixture
def read(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "constants.py").write_text(CONSTANTS)
    flow = tmp_path / "flow.py"

    def value(expression: str) -> str | None:
        flow.write_text(f"import constants\nfrom constants import *\n\nX = {expression}\n")
        source = FolderSource(tmp_path)
        module = source.add(flow, ast.parse(flow.read_text()))
        node = module.tree.body[-1].value  # type: ignore[attr-defined]
        return StaticStrings(source.resolver).string(Scope(module), node)

    return value


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("constants.Plain.A", "plain-a"),
        ("Plain.A + '-x'", "plain-a-x"),
        ("f'{Plain.A}/{constants.TABLE[\"x\"]}'", "plain-a/table-x"),
        ("TABLE['y']", "plain-a"),
        ("Mixed.A", "mixed-a"),  # the member itself: its value, as Prefect sends it
        ("Mixed.A.value", "mixed-a"),
        ("f'{Mixed.A}'", None),  # its text in an f-string depends on the Python version
        ("Model.A", None),  # a pydantic model's class has no such attribute
        ("Numbered.A.value", None),  # auto(): only running tells
        ("constants.TWICE", "second"),  # another module: it has run, the last binding holds
        ("GROWN", None),  # `+=`: not a constant
        ("TABLE['z']", None),
        ("Plain.B", None),
    ],
)
def test_what_is_read_and_what_is_left_to_the_image(
    read, expression: str, expected: str | None
) -> None:  # type: ignore[no-untyped-def]
    assert read(expression) == expected


def test_a_name_bound_twice_in_the_flow_s_own_module_is_not_read(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text("NAME = 'a'\nNAME = 'b'\nX = NAME\n")
    source = FolderSource(tmp_path)
    module = source.add(flow, ast.parse(flow.read_text()))
    node = module.tree.body[-1].value  # type: ignore[attr-defined]
    assert StaticStrings(source.resolver).string(Scope(module), node) is None
    assert StaticStrings(source.resolver).string(Scope(module, {"NAME": "bound"}), node) == "bound"
