"""A flow's parameter descriptions from its docstring, as Prefect reads them."""

from __future__ import annotations


def parameter_docstrings(docstring: str | None) -> dict[str, str]:
    """Prefect's `parameter_docstrings` (Google style, through griffe), without importing
    Prefect for it: a test checks both agree."""
    if not docstring:
        return {}
    import logging

    from griffe import Docstring, DocstringSectionKind, Parser, parse

    logger = logging.getLogger("griffe")
    disabled, logger.disabled = logger.disabled, True
    try:
        docs: dict[str, str] = {}
        for section in parse(Docstring(docstring), Parser.google):
            if section.kind == DocstringSectionKind.parameters:
                docs = {p.name: p.description for p in section.value}
        return docs
    finally:
        logger.disabled = disabled
