"""Flows made by the folder's own factories (flow_factories.py): what the source tells, and
what it leaves to the built image, with the reason the plan gives. That the flows read
equal Prefect's own: tests/unit/reading/test_flows_corpus.py (ops/daily_reports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.reading.flows import find_flows

HEAD = "from prefect import flow\n\n\n"


def flows(tmp_path: Path, text: str) -> dict[str, tuple[str, str | None]]:
    path = tmp_path / "flows.py"
    path.write_text(HEAD + text)
    found, problems, _ = find_flows(path, tmp_path)
    assert [p.severity for p in problems] == ["warning"] * len(problems)
    return {f.function: (f.name, f.name_pending) for f in found}


def test_a_factory_s_flow_gets_the_call_s_arguments(tmp_path: Path) -> None:
    text = (
        "def make(topic, limit=10):\n    @flow(name=f'{topic}-daily')\n"
        "    def run(n: int = limit) -> int:\n        return n\n    return run\n\n\n"
        "sales = make('sales')\norders = make(topic='orders', limit=3)\n"
    )
    assert flows(tmp_path, text) == {
        "sales": ("sales-daily", None), "orders": ("orders-daily", None),
    }  # fmt: skip
    [orders] = [f for f in find_flows(tmp_path / "flows.py", tmp_path)[0] if f.function == "orders"]
    assert orders.parameter_schema is not None
    assert orders.parameter_schema["properties"]["n"]["default"] == 3


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("def make(name):\n    @flow(name=name)\n    def a(): pass\n    @flow(name=name + '2')\n"
         "    def b(): pass\n    return a if name else b\n\n\nx = make('x')\n",
         "returns no flow the source can tell"),
        ("import random\n\n\ndef make(name):\n    @flow(name=name)\n    def a(): pass\n    return a\n\n\n"
         "x = make(random.choice(['p', 'q']))\n", "name=name is computed when the file runs"),
        ("def make(*names):\n    @flow(name=names[0])\n    def a(): pass\n    return a\n\n\n"
         "args = ['x']\nx = make(*args)\n", "its arguments are unpacked"),
    ],
)  # fmt: skip
def test_what_only_running_tells_is_named_in_the_image(tmp_path: Path, text: str, why: str) -> None:
    [(name, pending)] = flows(tmp_path, text).values()
    assert name == "<flows.py:x>" and pending is not None and why in pending


def test_a_decorator_factory_s_flow_and_fn_name(tmp_path: Path) -> None:
    text = (
        "def team(fn):\n    return flow(name=f'team-{fn.__name__}', retries=2)(fn)\n\n\n"
        "@team\ndef report(day: str = 'mon') -> None:\n    pass\n"
    )
    assert flows(tmp_path, text) == {"report": ("team-report", None)}


def test_a_decorator_factory_s_call_is_named_in_the_image_with_advice_that_fits(
    tmp_path: Path,
) -> None:
    """mediacloud/sous-chef (trial round 11 b 3): `@register_flow(name="factory-made")`
    was told to "Write the name as a string", which it is. The plan does not run the call;
    the warning says so and what the plan can read instead."""
    text = (
        "def register_flow(name, **kwargs):\n    def decorator(fn):\n"
        "        return flow(name=name, **kwargs)(fn)\n    return decorator\n\n\n"
        "@register_flow(name='factory-made')\ndef made(n: int = 1):\n    'Made.'\n"
    )
    why = "`@register_flow(name='factory-made')` is made by a call"
    assert flows(tmp_path, text) == {"made": ("<flows.py:made>", why)}
    [warning] = find_flows(tmp_path / "flows.py", tmp_path)[1]
    assert "Write the name as a string" not in warning.message
    assert "does not run a decorator factory's call" in warning.message


def test_a_function_that_makes_no_flow_is_no_factory(tmp_path: Path) -> None:
    text = "def helper(x):\n    return x\n\n\nvalue = helper('a')\n"
    assert flows(tmp_path, text) == {}
