"""The flows a folder's prefect.yaml entries name by another name than their own (either
layout), and for a folder the repository's root prefect.yaml lists (Prefect's layout) the
entries kept (those naming a flow)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from prefect_flow_deploy.core.model import (
    DeploymentConfig,
    FlowFolder,
    FlowSpec,
    Problem,
    config_matches,
)
from prefect_flow_deploy.reading.entrypoint_names import named_flow
from prefect_flow_deploy.reading.python_source import FolderSource


def named_otherwise(
    folder: FlowFolder,
    listed: list[Path],
    source: FolderSource,
    flows_of: Callable[[Path], list[FlowSpec]],
) -> list[FlowSpec]:
    """The flows the folder's entries name by another name than their own (an alias, an
    import), each as its entry's entrypoint."""
    found: list[FlowSpec] = []
    for config in folder.deployment_configs:
        known = (*folder.flows, *found)
        if not config.entrypoint or any(config_matches(config, f) for f in known):
            continue
        file, _, attribute = config.entrypoint.removeprefix("./").rpartition(":")
        entry = next((p for p in listed if _names_file(file, p, folder.path)), None)
        flow = named_flow(source, entry, attribute, flows_of) if entry is not None else None
        found += [flow] if flow is not None else []
    return found


def by_alias_only(
    configs: Sequence[DeploymentConfig], flows: list[FlowSpec], aliased: list[FlowSpec]
) -> list[FlowSpec]:
    """The folder layout's flows, less those entries name only by another name (an
    `__init__.py:etl` re-export): a flow no entry names gets a default deployment, and one
    named through an alias is named, so it gets none."""
    through = {f.name for f in aliased}
    return [f for f in flows if f.name not in through or any(config_matches(c, f) for c in configs)]


def _names_file(written: str, file: Path, folder: Path) -> bool:
    """Whether an entrypoint's file part names the folder's file (as config_matches
    compares: relative to the folder or to the repository root)."""
    relative = file.relative_to(folder).as_posix()
    return written == relative or written.endswith("/" + relative)


def keep_listed(folder: FlowFolder) -> tuple[list[DeploymentConfig], list[Problem]]:
    """A folder of the repository's prefect.yaml deploys the flows its entries name, as
    `prefect deploy` does (the entries kept); an entry naming no flow of its file is an
    error at its line (the problems)."""
    configs = folder.deployment_configs
    named = [c for c in configs if any(config_matches(c, f) for f in folder.flows)]
    problems = []
    for config in configs:
        if config not in named:
            found = ", ".join(f.entrypoint for f in folder.flows) or "none"
            problems.append(
                Problem(
                    "error",
                    f"`entrypoint: {config.entrypoint}` names no @flow of that file (flows "
                    f"read there: {found}). Fix the function's name, or decorate it with @flow.",
                    folder.prefect_yaml,
                    config.line,
                    "prefect.yaml",
                )
            )
    return named, problems
