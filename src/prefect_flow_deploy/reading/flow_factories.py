"""Flows made by the repository's own functions, read without running them:

- a factory called at module level, `daily_sales = make_flow("sales", "0 6 * * *")`, whose
  body defines a `@flow` (or `flow(...)(fn)`) and returns it: Prefect deploys the module
  attribute, `file.py:daily_sales`. The factory's parameters are bound to the call's literal
  arguments (or their defaults) and put where the body uses them: the flow's `name=`,
  `description=`, its parameters' defaults. The flow's function, docstring and annotations
  are the factory's (read in the factory's module);
- a decorator of the repository's own, `@team_flow`, whose body returns
  `flow(...)(fn)` of the function it is given.

What the source cannot tell (a factory with several returns, an argument computed at run
time) is not guessed: the flow's name is then computed in the built image, where Prefect
loads the file (flows_source.pending_name; image_programs.image_schemas). The factory's own
`@flow` inside a function is then no "flow inside a function" (discovery drops that warning).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any

from prefect_flow_deploy.reading.python_source import (
    FuncDef,
    FunctionRef,
    Module,
    Unreadable,
)
from prefect_flow_deploy.reading.python_statements import (
    literal_value,
)
from prefect_flow_deploy.reading.static_values import Scope

# Where the flow was made by a factory: the factory's code (module path, first and last line).
Made = tuple[str, int, int]


def made_in(module: Module, node: ast.stmt) -> Made:
    return (str(module.path), node.lineno, node.end_lineno or node.lineno)


@dataclass(frozen=True)
class Recipe:
    """How to read a factory-made flow: its function (with the factory's parameters put in),
    the flow's keywords, where each is read, and the factory's definition."""

    function: FuncDef
    function_module: Module
    keywords: list[ast.keyword]
    keyword_scope: Scope
    made: Made


class Unknown(Exception):
    """Only running the factory tells (the reason)."""


def factory_of(reader: Any, callee: ast.expr) -> FunctionRef | None:
    """The folder's function a call or decorator names, when its body uses Prefect's flow."""
    try:
        symbol = reader.resolver.expr(reader.module, callee)
    except Unreadable:
        return None
    if not isinstance(symbol, FunctionRef):
        return None
    for inner in ast.walk(symbol.node):
        if isinstance(inner, ast.Name | ast.Attribute) and reader.is_flow(symbol.module, inner):
            return symbol
    return None


def called(reader: Any, factory: FunctionRef, call: ast.Call) -> Recipe:
    """`x = factory(...)`: the flow its one `return` gives (raises Unknown)."""
    scope = _bind(reader, factory, call)
    returned = _single_return(factory.node)
    function, keywords = _flow_of(reader, factory, returned)
    if function is None:
        raise Unknown(f"`{factory.node.name}` returns no flow the source can tell")
    return Recipe(
        _substituted(function, scope.nodes), factory.module, keywords,
        scope, made_in(factory.module, function),
    )  # fmt: skip


def decorated(reader: Any, factory: FunctionRef, func: FuncDef) -> Recipe:
    """`@factory def f`: the flow of `f` the factory's `return flow(...)(fn)` makes."""
    params = _parameters(factory.node)
    if not params:
        raise Unknown(f"`{factory.node.name}` takes no function")
    returned = _single_return(factory.node)
    given = params[0]
    keywords = _flow_call_of(reader, factory.module, returned, given)
    if keywords is None:
        raise Unknown(f"`{factory.node.name}` does not return `flow(...)({given})`")
    scope = _Scope(factory.module, {f"{given}.__name__": func.name}, {})
    return Recipe(func, reader.module, keywords, scope, made_in(factory.module, factory.node))


# -- binding the call ------------------------------------------------------------------------


class _Scope(Scope):
    def __init__(self, module: Module, bound: dict[str, str | None], nodes: dict[str, ast.expr]):
        super().__init__(module, bound)
        self.nodes = nodes  # parameter → the literal it is bound to (for defaults)


def _parameters(func: FuncDef) -> list[str]:
    return [a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]]


def _bind(reader: Any, factory: FunctionRef, call: ast.Call) -> _Scope:
    """Each parameter of the factory bound to the call's argument, else its default: the
    string it is (None when not one), and the literal node (for defaults and keywords)."""
    args = factory.node.args
    positional = [*args.posonlyargs, *args.args]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        raise Unknown("its arguments are unpacked (`*args`, `**kwargs`)")
    if len(call.args) > len(positional) and args.vararg is None:
        raise Unknown("it is called with more arguments than it takes")
    given: dict[str, tuple[ast.expr, Module]] = {}
    for arg, value in zip(positional, call.args, strict=False):
        given[arg.arg] = (value, reader.module)
    for keyword in call.keywords:
        given[str(keyword.arg)] = (keyword.value, reader.module)
    defaults = dict(
        zip(
            [a.arg for a in positional][len(positional) - len(args.defaults) :],
            args.defaults,
            strict=True,
        )
    )
    defaults.update(
        {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None}
    )
    for name, value in defaults.items():
        given.setdefault(name, (value, factory.module))
    strings: dict[str, str | None] = {}
    nodes: dict[str, ast.expr] = {}
    for name, (value, module) in given.items():
        text = reader.strings.string(Scope(module), value)
        strings[name] = text
        if text is not None:
            nodes[name] = ast.Constant(text)
        elif _literal(value):
            nodes[name] = value
    return _Scope(factory.module, strings, nodes)


def _literal(node: ast.expr) -> bool:
    try:
        literal_value(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


# -- the factory's body ----------------------------------------------------------------------


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The factory's own statements, nested blocks included, not those of inner functions."""
    found = []
    for statement in body:
        found.append(statement)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody", "handlers"):
            found += _statements(
                [s for s in getattr(statement, name, []) if isinstance(s, ast.stmt)]
            )
    return found


def _single_return(func: FuncDef) -> ast.expr:
    returns = [s for s in _statements(func.body) if isinstance(s, ast.Return)]
    if len(returns) != 1 or returns[0].value is None:
        raise Unknown(
            f"`{func.name}` has {len(returns)} returns: which one runs depends on its arguments"
        )
    return returns[0].value


def _flow_of(
    reader: Any, factory: FunctionRef, returned: ast.expr
) -> tuple[FuncDef | None, list[ast.keyword]]:
    """The function and keywords of the flow the factory returns: a `@flow` def of its body,
    or `flow(...)(fn)` / `flow(fn, ...)` of one."""
    module, body = factory.module, factory.node.body
    if isinstance(returned, ast.Name):
        binding = _last_binding(body, returned.id)
        if isinstance(binding, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in binding.decorator_list:
                callee = decorator.func if isinstance(decorator, ast.Call) else decorator
                if reader.is_flow(module, callee):
                    return binding, decorator.keywords if isinstance(decorator, ast.Call) else []
            return None, []
        if isinstance(binding, ast.Assign):
            returned = binding.value
    if isinstance(returned, ast.Call):
        made = _flow_call(reader, module, returned)
        if made is not None and isinstance(made[0], ast.Name):
            function = _last_binding(body, made[0].id)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                return function, made[1]
    return None, []


def _flow_call(
    reader: Any, module: Module, call: ast.Call
) -> tuple[ast.expr, list[ast.keyword]] | None:
    """`flow(...)(target)` or `flow(target, ...)`: the target and the keywords."""
    if reader.is_flow(module, call.func) and call.args:
        return call.args[0], call.keywords
    if (
        isinstance(call.func, ast.Call)
        and reader.is_flow(module, call.func.func)
        and len(call.args) == 1
    ):
        return call.args[0], call.func.keywords
    return None


def _flow_call_of(
    reader: Any, module: Module, returned: ast.expr, given: str
) -> list[ast.keyword] | None:
    made = _flow_call(reader, module, returned) if isinstance(returned, ast.Call) else None
    if made is not None and isinstance(made[0], ast.Name) and made[0].id == given:
        return made[1]
    return None


def _last_binding(body: list[ast.stmt], name: str) -> ast.stmt | None:
    found = None
    for statement in _statements(body):
        if (
            isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == name
        ) or (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
        ):
            found = statement
    return found


class _PutIn(ast.NodeTransformer):
    def __init__(self, nodes: dict[str, ast.expr]) -> None:
        self.nodes = nodes

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.nodes:
            return ast.copy_location(copy.deepcopy(self.nodes[node.id]), node)
        return node


def _substituted(function: FuncDef, nodes: dict[str, ast.expr]) -> FuncDef:
    """The inner function as the call makes it: the factory's parameters, where its
    defaults, annotations and decorators read them, replaced by what they are bound to
    (its own parameters shadow none of those: they are evaluated in the factory)."""
    made = copy.deepcopy(function)
    put_in = _PutIn(nodes)
    args = made.args
    args.defaults = [put_in.visit(d) for d in args.defaults]
    args.kw_defaults = [put_in.visit(d) if d is not None else None for d in args.kw_defaults]
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None and arg.annotation is not None:
            arg.annotation = put_in.visit(arg.annotation)
    made.decorator_list = [put_in.visit(d) for d in made.decorator_list]
    return made
