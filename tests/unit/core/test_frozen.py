"""core/frozen.py: FrozenMap, the read-only mapping of the pipeline's values."""

from __future__ import annotations

import json

import pytest

from prefect_flow_deploy.core.frozen import FrozenMap


def test_a_frozen_map_is_a_dict_that_refuses_to_change() -> None:
    m = FrozenMap({"a": 1})
    assert m == {"a": 1} and isinstance(m, dict) and json.dumps(m) == '{"a": 1}'
    for change in (
        lambda: m.__setitem__("b", 2), lambda: m.__delitem__("a"), lambda: m.update(b=2),
        lambda: m.pop("a"), lambda: m.setdefault("b", 2), m.clear, m.popitem,
    ):  # fmt: skip
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert {**m, "b": 2} == {"a": 1, "b": 2} and m == {"a": 1}  # a new value instead
