"""Every use of the table of deployment fields (fields.FIELDS), one loop each: the prefect.yaml
keys it owns, reading an entry, a spec's values, the server's values and the wanted ones as
compared, the hand-set state kept, the check before a create, which fields changed, the
create and PATCH bodies, and what the plan shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prefect_flow_deploy.core.model import DeploymentSpec
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.deployment import fields
from prefect_flow_deploy.deployment.field_types import (
    KEEP,
    OMIT,
    Entry,
    Source,
)


def prefect_yaml_keys() -> set[str]:
    """The keys of a prefect.yaml entry that mean something here."""
    return {key for f in fields.FIELDS for key in f.top_keys()}


def read_entry(entry: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every field of one prefect.yaml entry: (DeploymentConfig attributes, its `extra`);
    problems go to `entry.problems`."""
    attrs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for f in fields.FIELDS:
        if f.read is not None:
            value = f.read(entry)
            if f.attr:
                attrs[f.attr] = value
            else:
                extra[f.api] = value
    return attrs, extra


def spec_values(source: Source) -> dict[str, Any]:
    """The DeploymentSpec attributes (and `extra`) of the fields, from their source."""
    attrs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for f in fields.FIELDS:
        if not f.carried:
            continue
        value = f.resolve(source) if f.resolve else f.carried_value(source.config)
        if f.attr:
            attrs[f.attr] = value
        else:
            extra[f.api] = value
    return {**attrs, "extra": extra}


def held(data: dict[str, Any]) -> dict[str, Any]:
    """The server's deployment (the API's JSON) as compared, field by field."""
    return {f.api: f.server_value(data) for f in fields.FIELDS if f.compared}


def wanted(spec: DeploymentSpec) -> dict[str, Any]:
    """The wanted deployment as compared; a field the file leaves to the server is absent."""
    values = {f.api: f.wanted_value(spec) for f in fields.FIELDS if f.compared}
    return {k: v for k, v in values.items() if v is not KEEP}


def with_hand_set(spec: DeploymentSpec, existing: ExistingDeployment) -> DeploymentSpec:
    for f in fields.FIELDS:
        if f.hand_set is not None:
            spec = f.hand_set(spec, existing)
    return spec


def check(spec: DeploymentSpec) -> None:
    """Raise for a value the server would refuse (before anything is built)."""
    for f in fields.FIELDS:
        if f.check is not None:
            f.check(spec)


def changed(
    spec: DeploymentSpec, desired: dict[str, Any], existing: ExistingDeployment
) -> list[str]:
    """The fields whose wanted value differs from the server's, in `desired`'s order."""
    found = []
    for name, value in desired.items():
        f = fields.by_api(name)
        if f is None or (f.pending and value is None):
            continue  # pending: not known until the image is built and checked
        differs = (
            f.differs(spec, value, existing)
            if f.differs
            else existing.comparable.get(name) != value
        )
        if differs:
            found.append(name)
    return found


def create_values(spec: DeploymentSpec) -> dict[str, Any]:
    """The create body's fields (Prefect's DeploymentCreate arguments, flow_id aside)."""
    values = {f.api: f.create_value(spec) for f in fields.FIELDS if f.created}
    return {k: v for k, v in values.items() if v is not OMIT}


def update_values(spec: DeploymentSpec, changed_fields: Iterable[str]) -> dict[str, Any]:
    """The PATCH body's fields (DeploymentUpdate arguments) for these changed fields, with
    the ones the server needs alongside them."""
    names = [n for n in changed_fields if (f := fields.by_api(n)) is not None and f.updated]
    for name in names:  # grows while it goes: what a field needs may need more
        f = fields.by_api(name)
        needed = f.write_with(spec) if f is not None and f.write_with else ()
        names += [n for n in needed if n not in names]
    return {n: f.update_value(spec) for n in names if (f := fields.by_api(n)) is not None}


PENDING = "computed after build"


def shown(spec: DeploymentSpec) -> dict[str, Any]:
    """The fields the plan shows, under their plan keys (a pending value: PENDING)."""
    values = {f.shown: (f, f.spec_value(spec)) for f in fields.FIELDS if f.shown}
    return {k: PENDING if f.pending and v is None else v for k, (f, v) in values.items()}
