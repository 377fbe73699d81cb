"""Our parameter schemas are exactly Prefect's (prefect.utilities.callables
.parameter_schema_from_entrypoint), for the fast path and for the fallback."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from prefect.utilities.callables import parameter_schema_from_entrypoint

from prefect_flow_deploy.flows_source import find_flows

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


def prefect_schema(path: Path, function: str) -> dict[str, object]:
    return parameter_schema_from_entrypoint(f"{path}:{function}").model_dump_for_openapi()


def signatures() -> list[str]:
    combos = list(itertools.product(ANNOTATIONS, DEFAULTS))
    result = []
    # Three parameters per flow; defaults only after non-defaults, as Python requires.
    for i in range(0, len(combos), 3):
        group = combos[i : i + 3]
        group.sort(key=lambda c: c[1] != "")
        result.append(", ".join(f"p{n}{a}{d}" for n, (a, d) in enumerate(group)))
    return result


@pytest.mark.parametrize("signature", signatures())
def test_fast_path_equals_prefect(tmp_path: Path, signature: str) -> None:
    path = tmp_path / "flow.py"
    path.write_text(
        f"import typing\nfrom typing import Optional\nfrom prefect import flow\n\n\n@flow\ndef f({signature}):\n    {DOC}\n"
    )
    [flow], problems, _ = find_flows(path, tmp_path)
    assert problems == []
    assert flow.parameter_schema == prefect_schema(path, "f")


COMPLEX = [
    "items: list[str] = ['a'], options: dict[str, int] | None = None",
    "when: datetime.date, model: Config = Config(limit=2)",
    "frame: 'pd.DataFrame' = None, n: int = LIMIT",
]


@pytest.mark.parametrize("signature", COMPLEX)
def test_fallback_equals_prefect(tmp_path: Path, signature: str) -> None:
    path = tmp_path / "flow.py"
    path.write_text(
        "import datetime\nimport typing\nimport pandas as pd  # not installed\n"
        "from pydantic import BaseModel\nfrom prefect import flow, task\n\nLIMIT = 5\n\n\n"
        "class Config(BaseModel):\n    limit: int = 1\n\n\n@task\ndef helper():\n    pass\n\n\n"
        f"@flow(log_prints=True)\ndef f({signature}):\n    {DOC}\n"
    )
    [flow], problems, _ = find_flows(path, tmp_path)
    assert problems == []
    assert flow.parameter_schema == prefect_schema(path, "f")


@pytest.mark.parametrize(
    "signature", ["*args, mode: str = 'a', **kwargs", "x, /, y: int = 1, *, z: str = 'k'"]
)
def test_signatures_prefect_cannot_read_still_deploy_with_names(
    tmp_path: Path, signature: str
) -> None:
    path = tmp_path / "flow.py"
    path.write_text(f"from prefect import flow\n\n\n@flow\ndef f({signature}):\n    pass\n")
    with pytest.raises(ValueError):
        prefect_schema(path, "f")  # Prefect's own source-only helper fails here
    [flow], [problem], _ = find_flows(path, tmp_path)
    assert problem.severity == "warning" and problem.line == 5
    assert set(flow.parameter_schema["properties"]) <= {"x", "y", "z", "mode"}
    assert flow.parameter_schema["properties"]


DOCSTRINGS = [
    '"""No arguments section."""',
    '"""Sum.\n\n    Args:\n        p0 (int): typed in the docstring\n        p1: spans\n            two lines\n    """',
    '"""Numpy style is not Google style.\n\n    Parameters\n    ----------\n    p0 : int\n        first\n    """',
    '"""Args:\n        p9: not a parameter\n    Returns:\n        nothing\n    """',
]


@pytest.mark.parametrize("docstring", DOCSTRINGS)
def test_parameter_docstrings_equal_prefect(tmp_path: Path, docstring: str) -> None:
    path = tmp_path / "flow.py"
    path.write_text(
        f"from prefect import flow\n\n\n@flow\ndef f(p0: int, p1: str = 'x'):\n    {docstring}\n"
    )
    [flow], problems, _ = find_flows(path, tmp_path)
    assert problems == []
    assert flow.parameter_schema == prefect_schema(path, "f")
