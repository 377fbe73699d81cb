"""The loader of prefect.yaml and the config file: safe (no Python objects), and an unquoted
date or time is the text Prefect sends for it (pydantic's JSON form, the oracle here being
pydantic itself through Prefect's own DeploymentCreate)."""

from __future__ import annotations

import uuid

import pytest
import yaml

from prefect_flow_deploy.core.yaml_loader import Loader, load

TEXT = "a: 2024-01-01\nb: 2024-01-01T10:00:00\nc: 2024-01-01 10:00:00Z\nd: 2024-01-01t10:00:00.5+02:00\ne: '2024-01-01'\n"


def test_an_unquoted_date_or_time_is_the_text_prefect_sends() -> None:
    from prefect.client.schemas.actions import DeploymentCreate

    ours = load(TEXT)
    prefects = DeploymentCreate(name="n", flow_id=uuid.uuid4(), parameters=yaml.safe_load(TEXT))
    assert ours == prefects.model_dump(mode="json")["parameters"]
    assert ours == {
        "a": "2024-01-01", "b": "2024-01-01T10:00:00", "c": "2024-01-01T10:00:00Z",
        "d": "2024-01-01T10:00:00.500000+02:00", "e": "2024-01-01",
    }  # fmt: skip


def test_it_stays_the_safe_loader() -> None:
    libyaml = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    assert Loader.__mro__[1] is libyaml  # libyaml's when the wheel has it
    with pytest.raises(yaml.constructor.ConstructorError):
        load("x: !!python/object/apply:os.system ['true']\n")
