"""A prefect.yaml entrypoint that names a flow by another name than its definition's: an alias
in its file (`run = etl`), or a flow imported from another module of the folder (`from .etl
import etl as run`). Prefect loads an entrypoint as the module's attribute
(`load_flow_from_entrypoint`), so it deploys that flow; so do we, under the entrypoint as
written, with the name, description and schema of the flow it names.

Only for an entry of a prefect.yaml: a folder deploys each flow once, by its definition, so
an alias there is no second flow. Found comparing our reading with Prefect's on real
repositories (2026-12-05: qiskit-community/qcsc-prefect's `miyabi_bitcount_flow =
bitcount_flow`).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from prefect_flow_deploy.core.model import FlowSpec
from prefect_flow_deploy.reading.python_source import (
    Alias,
    FolderSource,
    FunctionRef,
    Module,
    Symbol,
    Unreadable,
)

# A flow's definition, followed through at most this many names (`a = b`, imports).
_MOST_NAMES = 20


def named_flow(
    source: FolderSource,
    entry_file: Path,
    attribute: str,
    flows_of: Callable[[Path], list[FlowSpec]],
) -> FlowSpec | None:
    """The flow `entry_file:attribute` names when it is no flow's own name there: the flow
    it stands for (`flows_of(file)`: that file's flows), as that entrypoint; None when the
    name is no flow of the folder, or only running the code could tell."""
    module = source.parsed(entry_file)
    binding = module.names.get(attribute) if module is not None else None
    if module is None or binding is None:
        return None
    try:
        found = _definition(source, source.resolver.name(module, attribute))
    except Unreadable:
        return None
    if found is None:
        return None
    defining, name = found
    given = Path(source.given + str(defining.path)[len(source.folder) :])
    flow = next((f for f in flows_of(given) if f.function == name), None)
    if flow is None:
        return None
    relative = os.path.relpath(entry_file, source.given).replace(os.sep, "/")
    line = getattr(binding, "lineno", flow.line)
    return replace(flow, file=relative, function=attribute, line=line)


def _definition(source: FolderSource, symbol: Symbol) -> tuple[Module, str] | None:
    """The module and the name a flow is bound to there, through plain aliases."""
    for _ in range(_MOST_NAMES):
        if isinstance(symbol, FunctionRef):
            return symbol.module, symbol.node.name
        if not isinstance(symbol, Alias):
            return None
        if isinstance(symbol.value, ast.Name | ast.Attribute):
            symbol = source.resolver.expr(symbol.module, symbol.value)
            continue
        # `name = flow(fn)`, `name = make_flow(...)`: the flow is bound to that name.
        names = symbol.module.names
        bound = (
            n
            for n, node in names.items()
            if isinstance(node, ast.Assign) and node.value is symbol.value
        )
        name = next(bound, None)
        return (symbol.module, name) if name is not None else None
    return None
