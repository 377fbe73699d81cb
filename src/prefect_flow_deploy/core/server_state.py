"""What the Prefect server holds as a run reads it: its deployments, their automations, the
work pools the deployments name. Read-only values: a new state is a new value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect_flow_deploy.core.frozen import FrozenMap


@dataclass(frozen=True)
class Pool:
    name: str
    type: str
    template: dict[str, Any] = field(default_factory=dict)  # the base job template
    exists: bool = True
    # For a pool that does not exist: the pools the server has (a typo is then plain).
    others: tuple[str, ...] = ()

    @property
    def properties(self) -> dict[str, Any]:
        variables = self.template.get("variables") or {}
        result: dict[str, Any] = variables.get("properties") or {}
        return result


@dataclass(frozen=True)
class ExistingDeployment:
    id: str
    flow_name: str
    name: str
    tags: Sequence[str]
    comparable: dict[str, Any]
    schedules: Sequence[dict[str, Any]]  # the API's JSON, for the exact comparison
    image: str | None
    code_dir: str | None
    # Automations this deployment owns (its prefect.yaml triggers), as the API's JSON.
    automations: Sequence[dict[str, Any]] = ()
    updated: str = ""  # the server's `updated` time (ISO 8601): which previews are oldest

    def __post_init__(self) -> None:
        """Tuples, whatever sequence it was given."""
        for name in ("tags", "schedules", "automations"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def folder_key(self) -> str | None:
        return next((t.removeprefix("folder:") for t in self.tags if t.startswith("folder:")), None)


@dataclass(frozen=True)
class ServerState:
    """What the server held when the run read it: read-only (a new state is a new value)."""

    deployments: Mapping[str, ExistingDeployment] = field(default_factory=dict)  # by full name
    # Automations owned by deployments (their triggers), by deployment id
    automations: Mapping[str, Sequence[dict[str, Any]]] = field(default_factory=dict)
    server_version: str | None = None  # None: Prefect Cloud, or not told

    def __post_init__(self) -> None:
        object.__setattr__(self, "deployments", FrozenMap(self.deployments))
        automations = {i: tuple(owned) for i, owned in self.automations.items()}
        object.__setattr__(self, "automations", FrozenMap(automations))
