"""The flows of one file as Python and Prefect see them once the module has run: `@flow` (the
decorator resolved to Prefect's own), `x = flow(...)(fn)`, `y = x.with_options(...)`, the
last binding of a name winning; their names, descriptions and parameter schemas, and the
problems at their lines (a bad name; what Prefect cannot deploy where it is: in
flow_file_problems.py)."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.model import FlowSpec, Problem, pending_name
from prefect_flow_deploy.core.naming import flow_name_from_function, name_problem
from prefect_flow_deploy.reading.flow_factories import (
    Unknown,
    called,
    decorated,
    factory_of,
    made_in,
)
from prefect_flow_deploy.reading.flow_file_problems import (
    PREFECT_FLOW,
    chosen_at_run_time,
    enclosed_flows,
    prefect1_flow,
)
from prefect_flow_deploy.reading.parameter_docstrings import parameter_docstrings
from prefect_flow_deploy.reading.python_source import (
    Alias,
    FolderSource,
    FuncDef,
    FunctionRef,
    Module,
    Unreadable,
)
from prefect_flow_deploy.reading.python_statements import (
    bound_names,
    top_level,
)
from prefect_flow_deploy.reading.schemas import (
    invalid_parameter,
    parameters_of,
    read_schema,
)
from prefect_flow_deploy.reading.static_values import Scope, StaticStrings

_CONSTANT_NAME = "Write the name as a string or a constant of the folder to see it in the plan."
# `@register_flow(name="x")` (mediacloud/sous-chef, trial round 11 b 3): the name is a string
# already; what the plan cannot read is the decorator the call returns.
_DECORATOR_CALL = (
    "The plan does not run a decorator factory's call to see the decorator it returns (a "
    "decorator of the folder used without a call, `@team_flow`, is read); the deployment is "
    "made all the same. To see its name in the plan, decorate the function with "
    "`@flow(name=…)` or a decorator of the folder used without a call."
)


class FileReader:
    """The flows of one file, as Python and Prefect see them once the module has run."""

    def __init__(self, path: Path, relative: str, source: FolderSource, module: Module) -> None:
        self.path, self.relative, self.source, self.module = path, relative, source, module
        self.resolver = source.resolver
        self.problems: list[Problem] = []
        self.flows: list[FlowSpec] = []
        self._functions: dict[str, FuncDef] = {}  # functions bound at this point of the run
        if source.strings is None:  # one per folder: answers are kept across its files
            source.strings = StaticStrings(source.resolver)
        self.strings: StaticStrings = source.strings

    def is_flow(self, module: Module, node: ast.expr) -> bool:
        """Whether `node`, in `module`, names Prefect's own `flow`."""
        return self.resolver.external_name(module, node) in PREFECT_FLOW

    def _is(self, node: ast.expr, names: frozenset[str] | str) -> bool:
        found = self.resolver.external_name(self.module, node)
        return found in names if isinstance(names, frozenset) else found == names

    def read(self, prefect1_possible: bool = True) -> None:
        first = prefect1_flow(self.module.tree, self.path, self._is) if prefect1_possible else None
        self.problems += [first] if first is not None else []
        # Run the module's top level in order: a later binding of a name replaces a flow.
        current: dict[str, tuple[ast.stmt, FlowSpec]] = {}
        for node in top_level(self.module.tree.body):
            flow, binding = None, ""
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                flow, binding = self._decorated(node), node.name
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                binding = node.targets[0].id
                flow = self._assigned(node, binding, {k: f for k, (_, f) in current.items()})
            for name in bound_names(node):
                current.pop(name, None)
                self._functions.pop(name, None)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._functions[node.name] = node
            if flow is not None:
                current[binding] = (node, flow)
        # A name rebound under if/try later on is not known to stay a flow.
        self.flows = [f for b, (n, f) in current.items() if self.module.names.get(b) is n]
        self.problems += enclosed_flows(self.module.tree, self.path, self._is)

    # -- @flow def ----------------------------------------------------------------------------
    def _decorated(self, func: FuncDef) -> FlowSpec | None:
        # Decorators apply bottom-up; Prefect's makes the Flow object (others above it wrap it:
        # the module attribute is then not a Flow, as Prefect's loader would find).
        flow_decorator: ast.expr | None = None
        factory: tuple[ast.expr, FunctionRef] | None = None  # a decorator of the folder's
        for decorator in func.decorator_list:
            callee = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self._is(callee, PREFECT_FLOW):
                flow_decorator = decorator
            elif factory is None:
                made_by = factory_of(self, _decorator_function(self, callee))
                factory = (decorator, made_by) if made_by is not None else None
        if flow_decorator is not None:
            keywords = flow_decorator.keywords if isinstance(flow_decorator, ast.Call) else []
            return self._flow(func, keywords, func.lineno, func.name)
        if factory is None:
            self.problems += chosen_at_run_time(func, self.module, self.relative, self.path)
            return None
        written, made_by = factory
        try:
            if isinstance(written, ast.Call) or written is not _decorator_function(self, written):
                raise Unknown(f"`@{ast.unparse(written)}` is made by a call")
            recipe = decorated(self, made_by, func)
        except Unknown as exc:
            fix = _DECORATOR_CALL if isinstance(written, ast.Call) else _CONSTANT_NAME
            return self._pending(func.name, func.lineno, str(exc), made_by, fix)
        return self._flow(
            recipe.function, recipe.keywords, func.lineno, func.name, recipe.keyword_scope,
            recipe.function_module, recipe.made,
        )  # fmt: skip

    def _pending(
        self,
        binding: str,
        line: int,
        why: str,
        factory: FunctionRef | None = None,
        fix: str = "",
    ) -> FlowSpec:
        """A flow whose name only running its file tells: Prefect computes it (and its
        schema) in the built image (image_programs.image_schemas); the plan shows a placeholder."""
        entrypoint = f"{self.relative}:{binding}"
        made = made_in(factory.module, factory.node) if factory else None
        self.problems.append(
            Problem(
                "warning",
                f"`{binding}` is a flow whose name only running the file tells ({why}): "
                "Prefect computes it in the built image, where it loads the file (without "
                "network or the engine's secrets), so the plan shows the deployment as "
                f"{pending_name(entrypoint)}. {fix or _CONSTANT_NAME}",
                self.path,
                line,
                "Flow name computed in the image",
            )
        )
        return FlowSpec(
            pending_name(entrypoint), binding, self.relative, line, None,
            schema_pending=f"computed in the built image with the flow's name ({why})",
            name_pending=why, made=made,
        )  # fmt: skip

    # -- x = flow(...)(fn), y = x.with_options(...) --------------------------------------------
    def _assigned(
        self, node: ast.Assign, binding: str, flows: dict[str, FlowSpec]
    ) -> FlowSpec | None:
        call = node.value
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "with_options":
            base = flows.get(func.value.id) if isinstance(func.value, ast.Name) else None
            if base is None:
                return None
            return self._with_options(base, call, node, binding)
        if self._is(func, PREFECT_FLOW) and call.args:
            target, keywords = call.args[0], call.keywords  # flow(fn, name=...)
        elif (
            isinstance(func, ast.Call) and self._is(func.func, PREFECT_FLOW) and len(call.args) == 1
        ):
            target, keywords = call.args[0], func.keywords  # flow(name=...)(fn)
        else:
            return self._made(node, binding, call)
        function = self._function_named(target)
        if function is None:
            self.problems.append(
                Problem(
                    "warning",
                    f"`{binding} = {ast.unparse(call)}` makes a flow of something that is not a "
                    "function defined in this file, so it is not deployed. Define the function "
                    "here and decorate it with `@flow`.",
                    self.path,
                    node.lineno,
                    "Flow not readable",
                )
            )
            return None
        return self._flow(function, keywords, node.lineno, binding)

    def _made(self, node: ast.Assign, binding: str, call: ast.Call) -> FlowSpec | None:
        """`x = make_flow(...)`: a factory of the folder that returns a flow
        (flow_factories.py); a flow whose name the source cannot tell is computed in the image."""
        factory = (
            factory_of(self, call.func) if isinstance(call.func, ast.Name | ast.Attribute) else None
        )
        if factory is None:
            return None
        try:
            recipe = called(self, factory, call)
        except Unknown as exc:
            return self._pending(binding, node.lineno, str(exc), factory)
        return self._flow(
            recipe.function, recipe.keywords, node.lineno, binding, recipe.keyword_scope,
            recipe.function_module, recipe.made,
        )  # fmt: skip

    def _function_named(self, node: ast.expr) -> FuncDef | None:
        if not isinstance(node, ast.Name):
            return None
        return self._functions.get(node.id)

    def _with_options(
        self, base: FlowSpec, call: ast.Call, node: ast.Assign, binding: str
    ) -> FlowSpec | None:
        name, pending = base.name, base.name_pending
        description = base.description
        for keyword in call.keywords:
            if keyword.arg == "name":
                if self._from_environment(keyword.value, base.function):
                    return None
                text = self.strings.string(Scope(self.module), keyword.value)
                pending = None if text is not None else _unread(keyword.value)
                name = text or (name if text is not None else "")
            elif keyword.arg == "description":
                text = self._description(keyword.value, base.function)
                description = text or description
        if pending is not None:
            return replace(
                self._pending(binding, node.lineno, pending), description=description,
                parameter_schema=base.parameter_schema, schema_pending=base.schema_pending,
            )  # fmt: skip
        if not self._valid_name(name, node.lineno):
            return None
        return replace(base, name=name, function=binding, line=node.lineno, description=description)

    # -- common ---------------------------------------------------------------------------------
    def _flow(
        self,
        func: FuncDef,
        keywords: list[ast.keyword],
        line: int,
        binding: str,
        scope: Scope | None = None,
        module: Module | None = None,
        made: tuple[str, int, int] | None = None,
    ) -> FlowSpec | None:
        """The flow of `func` with these keywords, read in `scope` (a factory's, its
        parameters bound) and its signature in `module` (the function's)."""
        scope = scope or Scope(self.module)
        given = {k.arg: k.value for k in keywords if k.arg}
        name, pending = flow_name_from_function(func.name), None
        if "name" in given:
            if self._from_environment(given["name"], func.name):
                return None
            text = self.strings.string(scope, given["name"])
            pending = None if text is not None else _unread(given["name"])
            name = text or name  # Prefect: `name or fn.__name__`
        if pending is None and not self._valid_name(
            name, given["name"].lineno if "name" in given else line
        ):
            return None
        docstring = ast.get_docstring(func)
        description = docstring
        if "description" in given:
            description = self._description(given["description"], func.name, scope) or docstring
        if not self._valid_parameters(func):
            return None
        schema, why = self._schema(func, docstring, module or self.module)
        known = FlowSpec(name, binding, self.relative, line, schema, description, why, made=made)
        if pending is None:
            return known
        return replace(
            self._pending(binding, given["name"].lineno, pending), line=line,
            parameter_schema=schema, schema_pending=why, description=description, made=made,
        )  # fmt: skip

    def _from_environment(self, value: ast.expr, function: str) -> bool:
        """A name read from the environment: the image computes names with none (nor the
        engine's), and the deployer's differs from a run's. An error at its line."""
        reads = [
            n for n in ast.walk(value)
            if isinstance(n, ast.Attribute | ast.Name)
            and self.resolver.external_name(self.module, n) in ("os.environ", "os.getenv")
        ]  # fmt: skip
        if reads:
            self.problems.append(
                Problem(
                    "error",
                    f"the flow {function!r} gets its name= from the environment, which differs "
                    "between where it is deployed and where it runs (and its name is computed "
                    "without any): write the name as a string, or a constant of the folder "
                    "(per tenant: a prefect.yaml deployment name).",
                    self.path,
                    value.lineno,
                    "Flow name",
                )
            )
        return bool(reads)

    def _description(
        self, value: ast.expr, function: str, scope: Scope | None = None
    ) -> str | None:
        """`description=`: a string, a constant, or `textwrap.dedent` of one, as names are
        read; anything else is a warning (Prefect would use its value, unknown here)."""
        scope = scope or Scope(self.module)
        if (
            isinstance(value, ast.Call)
            and len(value.args) == 1
            and not value.keywords
            and self._is(value.func, "textwrap.dedent")
        ):
            inner = self.strings.string(scope, value.args[0])
            if inner is not None:
                return textwrap.dedent(inner)
        text = self.strings.string(scope, value)
        if text is not None:
            return text
        self.problems.append(
            Problem(
                "warning",
                f"the flow {function!r} gets its description= from an expression that cannot "
                "be read without running your code; the deployment is given the function's "
                "docstring instead. Write the description as a string (or a module-level "
                "string constant, or textwrap.dedent of one).",
                self.path,
                value.lineno,
                "Flow description",
            )
        )
        return None

    def _valid_name(self, name: str, line: int) -> bool:
        problem = name_problem("flow", name)
        if problem is None:
            return True
        self.problems.append(
            Problem("error", f"{problem}. Choose another name=.", self.path, line, "Flow name")
        )
        return False

    def _valid_parameters(self, func: FuncDef) -> bool:
        valid = True
        for arg, _default, _kind in parameters_of(func):
            why = invalid_parameter(arg.arg)
            if why is None:
                continue
            valid = False
            self.problems.append(
                Problem(
                    "error",
                    f"the flow {func.name!r} has a parameter named {arg.arg!r}: {why}, so "
                    "Prefect fails to load the flow. Rename the parameter.",
                    self.path,
                    arg.lineno,
                    "Flow parameter",
                )
            )
        return valid

    def _schema(
        self, func: FuncDef, docstring: str | None, module: Module
    ) -> tuple[dict[str, Any] | None, str | None]:
        try:
            docs = parameter_docstrings(docstring)
            return read_schema(self.source, module, func, docs), None
        except Unreadable as exc:
            return None, str(exc)


def _unread(value: ast.expr) -> str:
    return f"name={ast.unparse(value)} is computed when the file runs"


def _decorator_function(reader: FileReader, callee: ast.expr) -> ast.expr:
    """The function behind a decorator: itself, or the factory a module-level alias calls
    (`team = make(...)`, then `@team`)."""
    try:
        symbol = reader.resolver.expr(reader.module, callee)
    except Unreadable:
        return callee
    if isinstance(symbol, Alias) and isinstance(symbol.value, ast.Call):
        return symbol.value.func
    return callee
