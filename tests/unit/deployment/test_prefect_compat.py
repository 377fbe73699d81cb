"""Prefect's helpers wherever the installed Prefect keeps them (prefect_compat.py): each one
answers as the engine uses it, under the lock's Prefect and the oldest allowed
(tests/integration/test_oldest_prefect.py runs this file there too)."""

from __future__ import annotations

from packaging.version import Version

from prefect_flow_deploy.deployment.prefect_compat import (
    deployment_trigger_adapter,
    handle_deprecated_schedule_fields,
    schedule_config_to_deployment_schedule,
    version_info_class,
)

from ...prefect_versions import installed, newest_allowed


def test_a_schedule_config_becomes_a_mapping_of_the_create_fields() -> None:
    made = schedule_config_to_deployment_schedule()({"cron": "0 6 * * *", "active": False})
    assert isinstance(made, dict) and made["active"] is False
    assert made["schedule"].cron == "0 6 * * *"


def test_the_trigger_adapter_reads_a_prefect_yaml_trigger() -> None:
    trigger = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "expect": ["x.Failed"]}
    read = deployment_trigger_adapter().validate_python(trigger)
    assert read.expect == {"x.Failed"}


def test_the_older_schedule_key_is_handled() -> None:
    entry = {"schedule": {"cron": "0 6 * * *"}}
    handled = handle_deprecated_schedule_fields()(entry)
    assert handled["schedules"][0]["cron"] == "0 6 * * *"


def test_version_info_is_prefect_s_model_or_none_for_a_client_without_it() -> None:
    found = version_info_class()
    if installed() == Version("3.2.0"):
        assert found is None  # the oldest allowed: no provenance is sent
    else:
        assert found is not None and "version" in found.model_fields
    assert found is not None or not newest_allowed()
