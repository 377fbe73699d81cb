"""Our parameter schemas, read from the source, are exactly Prefect's own
(`Flow.parameters`, i.e. prefect.utilities.callables.parameter_schema), which the oracle
computes by importing each file in a subprocess (tests/corpus/oracle.py)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.reading.flows import find_flows
from tests.unit.reading.test_flows_corpus import run_oracle

ANNOTATIONS = [
    "",
    ": str",
    ": int",
    ": float",
    ": bool",
    ": int | None",
    ": None | str",
    ": Optional[float]",
    ": typing.Optional[bool]",
]
DEFAULTS = ["", " = None", " = 3", " = 'x'", " = 2.5", " = True", " = -1"]
DOC = '''"""Do it.

    Args:
        p0: the first
        p2: the third
    """'''


def signatures() -> list[str]:
    combos = list(itertools.product(ANNOTATIONS, DEFAULTS))
    result = []
    # Three parameters per flow; defaults only after non-defaults, as Python requires.
    for i in range(0, len(combos), 3):
        group = combos[i : i + 3]
        group.sort(key=lambda c: c[1] != "")
        result.append(", ".join(f"p{n}{a}{d}" for n, (a, d) in enumerate(group)))
    return result


SCALARS = signatures()
COMPLEX = [
    "items: list[str] = ['a'], options: dict[str, int] | None = None",
    "when: datetime.date, model: Config = Config(limit=2)",
    "n: int = LIMIT, mode: typing.Literal['a', 'b'] = 'a', *, nested: list[Config] = []",
    # Signatures Prefect's source-only helper reads differently on Python 3.11.2 and 3.11.7
    # (positional-only): we follow Prefect's `parameter_schema`, the same on both.
    "*args, mode: str = 'a', **kwargs",
    "x, /, y: int = 1, *, z: str = 'k'",
    "self_like: int, /, *rest: str, flag: bool = False, **more: float",
    # An empty description is written, as pydantic writes one given (helper's real-code
    # comparison, 2026-12-05: CBIIT/ChildhoodCancerDataInitiative-Prefect_Pipeline).
    "a: int = Field(1, description=''), b: int = Field(2, description='own'), m: Described = None",
]
DOCSTRINGS = [
    '"""No arguments section."""',
    '"""Sum.\n\n    Args:\n        p0 (int): typed in the docstring\n        p1: spans\n            two lines\n    """',
    '"""Numpy style is not Google style.\n\n    Parameters\n    ----------\n    p0 : int\n        first\n    """',
    '"""Args:\n        p9: not a parameter\n    Returns:\n        nothing\n    """',
    '"""Empty descriptions.\n\n    Args:\n        p0:\n        p1 (str):\n    """',
]
HEADER = (
    "import datetime\nimport typing\nfrom typing import Optional\n"
    "from pydantic import BaseModel, Field\nfrom prefect import flow, task\n\nLIMIT = 5\n\n\n"
    "class Config(BaseModel):\n    limit: int = 1\n\n\n"
    "class Described(BaseModel):\n"  # a title or description given empty wins, and is written
    "    a: int = Field(1, description='')\n"
    "    b: typing.Annotated[int, Field(title='T')] = Field(2, title='')\n"
    "    c: typing.Annotated[str, Field(description='ann')] = Field('x', description='')\n"
    "    d: typing.Annotated[str, Field(description='')] = 'y'\n\n\n"
    "@task\ndef helper():\n    pass\n\n\n"
)


def files() -> dict[str, str]:
    cases = {f"scalar_{i}.py": f"@flow\ndef f({s}):\n    {DOC}\n" for i, s in enumerate(SCALARS)}
    cases |= {
        f"complex_{i}.py": f"@flow(log_prints=True)\ndef f({s}):\n    {DOC}\n"
        for i, s in enumerate(COMPLEX)
    }
    cases |= {
        f"doc_{i}.py": f"@flow\ndef f(p0: int, p1: str = 'x'):\n    {d}\n"
        for i, d in enumerate(DOCSTRINGS)
    }
    return {name: HEADER + body for name, body in cases.items()}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("schemas")
    for name, text in files().items():
        (root / name).write_text(text)
    answers = run_oracle(sys.executable, {str(root): sorted(files())})[str(root)]
    return root, answers


@pytest.mark.parametrize("name", sorted(files()))
def test_schema_equals_prefects_own(cases: tuple[Path, dict[str, Any]], name: str) -> None:
    root, answers = cases
    [flow], problems, _ = find_flows(root / name, root)
    assert problems == []
    assert flow.schema_pending is None
    assert flow.parameter_schema == answers[name]["f"]["schema"]


def test_a_type_from_another_library_is_computed_after_build(tmp_path: Path) -> None:
    """pandas is not installed here, nor read: the built image computes that schema."""
    path = tmp_path / "flow.py"
    path.write_text(
        "import pandas as pd\nfrom prefect import flow\n\n\n"
        "@flow\ndef f(frame: pd.DataFrame | None = None, n: int = 1):\n    pass\n"
    )
    [flow], problems, _ = find_flows(path, tmp_path)
    assert problems == []
    assert flow.parameter_schema is None
    assert flow.schema_pending is not None and "pandas" in flow.schema_pending
