"""The flows a folder's prefect.yaml entries name by another name than their own (either
layout). An entry naming no flow of its folder fails alone, by its name (rules.specs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from prefect_flow_deploy.core.model import (
    DeploymentConfig,
    FlowFolder,
    FlowSpec,
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
