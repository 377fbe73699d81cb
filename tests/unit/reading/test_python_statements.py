"""What a module's statements do when it loads, read from the tree alone (python_statements.py):
the names a statement binds, and literals read as ast.literal_eval reads them."""

from __future__ import annotations

import ast

import pytest

from prefect_flow_deploy.reading.python_statements import bound_names, literal_value, top_level


def test_the_names_a_statement_binds() -> None:
    def bound(text: str) -> list[str]:
        return bound_names(ast.parse(text).body[0])

    assert bound("import os.path, json as j") == ["os", "j"]
    assert bound("from x import a, b as c") == ["a", "c"]
    assert bound("from x import *") == []
    assert bound("x = y = 1") == ["x", "y"]
    assert bound("x: int") == [] and bound("x: int = 1") == ["x"] and bound("x += 1") == ["x"]
    assert bound("class A: pass") == ["A"] and bound("async def f(): pass") == ["f"]
    assert bound("if x:\n    y = 1") == []


@pytest.mark.parametrize(
    "source",
    [
        "1", "-1", "+2.5", "'a'", "b'x'", "None", "True", "...", "1+2j", "-1-2j", "(1, 'a')",
        "[1, [2, (3,)]]", "{1, 2}", "set()", "{}", "{'a': [1, {'b': None}]}", "()",
        "Region.EU", "Window()", "Window(days=3)", "[Region.EU]", "{'a': x}", "{**base}",
        "-x", "1 + 2", "set([1])", "frozenset()", "f'{x}'", "{[1]: 2}", "{[1]}", "x[0]",
    ],
)  # fmt: skip
def test_literal_value_answers_as_literal_eval(source: str) -> None:
    """literal_value is ast.literal_eval (the oracle) read faster: the same value, of the
    same type, or the same kind of refusal."""
    node = ast.parse(source, mode="eval").body
    try:
        expected: object = ast.literal_eval(node)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            literal_value(node)
        return
    found = literal_value(node)
    assert found == expected and type(found) is type(expected)


def test_the_statements_a_module_s_load_runs() -> None:
    """A `with` body after its `with`; of `if __name__ == "__main__":` the else alone."""
    tree = ast.parse(
        "import a\nwith b:\n    c = 1\nif __name__ == '__main__':\n    d = 1\nelse:\n"
        "    e = 1\nif '__main__' == __name__:\n    f = 1\nif x:\n    g = 1\n"
    )
    ran = [type(n).__name__ + ":" + ",".join(bound_names(n)) for n in top_level(tree.body)]
    assert ran == ["Import:a", "With:", "Assign:c", "Assign:e", "If:"]
