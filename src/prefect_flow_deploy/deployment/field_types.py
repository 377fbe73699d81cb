"""What the table of deployment fields (fields.FIELDS) is made of: a field (DeploymentField: how
it is read, compared, written and shown), the prefect.yaml entry being read (Entry, which
collects problems at their key's line), what a wanted deployment is made from (Source), and
the markers KEEP (the server's hand-set value stays) and OMIT (not sent)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect_flow_deploy.core.model import (
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImagePlan,
    Problem,
)
from prefect_flow_deploy.core.server_state import ExistingDeployment

if TYPE_CHECKING:
    from prefect_flow_deploy.settings.options import Options


FOLDER_TAG_PREFIX = "folder:"
SET_WORKDIR_STEP = "prefect.deployments.steps.set_working_directory"


class Marker(enum.Enum):
    # The file does not say: the server's value (set by hand) stays; neither compared nor
    # written on an update.
    KEEP = "keep"
    # Not sent in the body: the server applies its default.
    OMIT = "omit"


KEEP = Marker.KEEP
OMIT = Marker.OMIT


@dataclass
class Entry:
    """One `deployments:` entry of a prefect.yaml being read: its data, where it is, and the
    problems found so far (each at its key's line)."""

    data: dict[str, Any]
    path: Path
    line: int | None
    lines: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    def at(self, key: str) -> int | None:
        return self.lines.get(key, self.line)

    def error(self, message: str, key: str, title: str = "prefect.yaml") -> None:
        self._say(Problem("error", message, self.path, self.at(key), title))

    def warn(self, message: str, key: str, title: str = "prefect.yaml") -> None:
        self._say(Problem("warning", message, self.path, self.at(key), title))

    def _say(self, problem: Problem) -> None:
        if problem not in self.problems:  # fields read from one key report its shape once
            self.problems.append(problem)

    def bad(self, key: str, expected: str) -> None:
        self.error(f"`{key}` must be {expected}", key)

    def typed(self, key: str, kind: type | tuple[type, ...], expected: str) -> Any:
        value = self.data.get(key)
        if value is not None and not isinstance(value, kind):
            self.bad(key, expected)
            return None
        return value


@dataclass(frozen=True)
class Source:
    """What a wanted deployment is made from: one flow of a folder, the prefect.yaml entry
    naming it (or an empty one), the folder's image and the run's options."""

    folder: FlowFolder
    flow: FlowSpec
    config: DeploymentConfig
    image: ImagePlan
    options: Options


Reader = Callable[[Entry], Any]
Resolver = Callable[[Source], Any]
Value = Callable[[DeploymentSpec], Any]


@dataclass(frozen=True)
class DeploymentField:
    """One deployment field. Every function is optional; without it the plain default
    applies (noted per attribute)."""

    api: str  # its name in the API's JSON: the comparison's key, the bodies' key
    # Attribute of DeploymentConfig / DeploymentSpec carrying it; None: their `extra[api]`.
    attr: str | None = None
    # Where prefect.yaml says it (`work_pool.name`; a refused write points there); None: nowhere.
    yaml: str | None = None
    aliases: tuple[str, ...] = ()  # other top-level keys of an entry it accepts
    read: Reader | None = None  # prefect.yaml entry → DeploymentConfig value; None: not read
    # → DeploymentSpec value; default: the value read from prefect.yaml. None when `carried`
    # is False.
    resolve: Resolver | None = None
    carried: bool = True  # False: a constant, nothing to carry on the spec
    compared: bool = True  # False: never compared (identity, or written another way)
    held: Callable[[dict[str, Any]], Any] | None = None  # server JSON → compared; data[api]
    wanted: Value | None = None  # spec → compared, or KEEP; default: the carried value
    pending: bool = False  # a None wanted value is not known until the image is built
    # Whether the wanted value differs from the server's (default: !=).
    differs: Callable[[DeploymentSpec, Any, ExistingDeployment], bool] | None = None
    # The spec with the server's hand-set state kept where prefect.yaml is silent.
    hand_set: Callable[[DeploymentSpec, ExistingDeployment], DeploymentSpec] | None = None
    check: Value | None = None  # raises for a value the server would refuse (on a create)
    created: bool = True  # in the create body
    create: Value | None = None  # its value there, or OMIT; default: the carried value
    updated: bool = True  # in the PATCH body when changed
    update: Value | None = None  # its value there; default: the carried value
    # Fields the server needs in the same PATCH when this one is written.
    write_with: Callable[[DeploymentSpec], tuple[str, ...]] | None = None
    shown: str | None = None  # its key in the plan's `desired`; None: not shown there
    note: str = ""  # why it is as it is (the README's table of fields)

    def top_keys(self) -> tuple[str, ...]:
        """The top-level keys of a prefect.yaml entry this field owns."""
        return ((self.yaml.split(".")[0],) if self.yaml else ()) + self.aliases

    def carried_value(self, carrier: DeploymentConfig | DeploymentSpec) -> Any:
        return getattr(carrier, self.attr) if self.attr else carrier.extra.get(self.api)

    def server_value(self, data: dict[str, Any]) -> Any:
        return self.held(data) if self.held else data.get(self.api)

    def spec_value(self, spec: DeploymentSpec) -> Any:
        """The spec's value as the API's JSON holds it: its tuples (tags, schedules,
        triggers) as lists."""
        value = self.carried_value(spec)
        return list(value) if isinstance(value, tuple) else value

    def wanted_value(self, spec: DeploymentSpec) -> Any:
        return self.wanted(spec) if self.wanted else self.spec_value(spec)

    def create_value(self, spec: DeploymentSpec) -> Any:
        return self.create(spec) if self.create else self.spec_value(spec)

    def update_value(self, spec: DeploymentSpec) -> Any:
        return self.update(spec) if self.update else self.spec_value(spec)
