"""What a module's statements do when it loads, read from the syntax tree alone: the
statements its load runs (a `with` body in its place, never the `if __name__ == "__main__":`
branch), the names a statement binds, the statements inside one, and the value of a literal.
Pure functions over `ast` nodes; python_source.py and the readers build on them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's statements as its load runs them, in order. A `with` block's body always
    runs (`with warnings.catch_warnings(): from prefect import flow`, marimo's `with
    app.setup:`): it follows the `with` in place. Of `if __name__ == "__main__":` only the
    `else:` runs when Prefect loads the file: it stands in place of the `if`. What these
    bind and define is the module's, as Prefect's loader finds it."""
    for node in body:
        if isinstance(node, ast.If) and runs_as_script_only(node.test):
            yield from top_level(node.orelse)
            continue
        yield node
        if isinstance(node, ast.With):
            yield from top_level(node.body)


def runs_as_script_only(test: ast.expr) -> bool:
    """`if __name__ == "__main__":`: Prefect loads a flow file under another module name
    (as the built image's check does), so that branch never runs in a flow run."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    named = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return named and main


def literal_value(node: ast.expr | None) -> Any:
    """ast.literal_eval of an expression (its oracle in test_python_source.py), without its
    cost where the answer is plain: constants and containers of them are read here, and an
    expression with a name, an attribute or a call in it (`Region.EU`, `Window()`) is
    refused at once, as literal_eval refuses it. literal_eval makes closures that refer to
    one another on every call (its refusal's traceback holds them too): garbage only the
    cycle collector frees (test_discovery.py)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(map(literal_value, node.elts))
    if isinstance(node, ast.List):
        return list(map(literal_value, node.elts))
    if isinstance(node, ast.Set):
        return set(map(literal_value, node.elts))
    if isinstance(node, ast.Dict):
        keys = map(literal_value, node.keys)
        return dict(zip(keys, map(literal_value, node.values), strict=True))
    if node is not None and (isinstance(node, (ast.UnaryOp, ast.BinOp)) or _is_empty_set(node)):
        return ast.literal_eval(node)  # a sign, a complex number, `set()`: literal_eval's rules
    raise ValueError(f"malformed node or string: {node!r}")


def _is_empty_set(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "set"
        and not node.args
        and not node.keywords
    )


def bound_names(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return [node.target.id] if isinstance(node, ast.AugAssign) or node.value else []
    if isinstance(node, ast.Import):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names if a.name != "*"]
    return []


# The fields that hold statements (a module's, a def's, if/for/while/with/try, an except
# clause's, a match case's): definitions and imports are found in these alone.
_BODIES = frozenset({"body", "handlers", "orelse", "finalbody", "cases"})


def statement_children(node: ast.AST) -> Iterator[ast.AST]:
    """The statements (and except clauses, match cases) directly in `node`, in the order
    ast.iter_child_nodes gives them; never an expression (a lambda's body is one)."""
    for name in node._fields:
        if name in _BODIES:
            value = getattr(node, name, None)
            if isinstance(value, list):
                yield from value
