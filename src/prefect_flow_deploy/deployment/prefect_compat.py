"""Prefect's own helpers the engine reuses, wherever the installed Prefect keeps them:
pyproject.toml allows every Prefect from 3.2 (tests/integration/test_oldest_prefect.py),
and some moved since. Imported lazily, as their callers do: a run with nothing to do never
imports Prefect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def schedule_config_to_deployment_schedule() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """prefect.cli.deploy's `_schedule_config_to_deployment_schedule`, as newer Prefects
    give it: a schedule config → a mapping of DeploymentScheduleCreate's fields (`schedule`,
    `active`, …). It lives in the `prefect.cli.deploy` package's `_schedules` module in newer
    Prefects; in Prefect 3.2 in the `prefect.cli.deploy` module, returning the model itself."""
    try:
        from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    except ImportError:  # Prefect before prefect.cli.deploy became a package
        from prefect.cli.deploy import (  # type: ignore[attr-defined,no-redef]
            _schedule_config_to_deployment_schedule,
        )

    def convert(config: dict[str, Any]) -> dict[str, Any]:
        made = _schedule_config_to_deployment_schedule(config)
        if isinstance(made, dict):
            return made
        return {name: getattr(made, name) for name in made.model_fields_set}

    return convert


def deployment_trigger_adapter() -> Any:
    """prefect.cli.deploy's `DeploymentTriggerAdapter` (moved as the one above)."""
    try:
        from prefect.cli.deploy._triggers import DeploymentTriggerAdapter
    except ImportError:
        from prefect.cli.deploy import DeploymentTriggerAdapter  # type: ignore[attr-defined,no-redef]
    return DeploymentTriggerAdapter


def handle_deprecated_schedule_fields() -> Any:
    """prefect.cli.deploy's `_handle_deprecated_schedule_fields` (moved as the ones above)."""
    try:
        from prefect.cli.deploy._config import _handle_deprecated_schedule_fields
    except ImportError:
        from prefect.cli.deploy import (  # type: ignore[attr-defined,no-redef]
            _handle_deprecated_schedule_fields,
        )
    return _handle_deprecated_schedule_fields


def version_info_class() -> Any:
    """Prefect's `VersionInfo` (a deployment's provenance, kept by Prefect Cloud); None for a
    client without it (before 3.4), which then sends none."""
    try:
        from prefect.client.schemas.objects import VersionInfo
    except ImportError:
        return None
    return VersionInfo
