"""`{{ prefect.variables.<name> }}` in parameters is filled in as `prefect deploy` fills it
(prefect.utilities.templating.resolve_variables, the oracle here, with the same values)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect.utilities.templating import resolve_variables

from prefect_flow_deploy.rules.server_variables import missing_variables, resolved

from .test_spec_checks import spec as make_spec

VARIABLES: dict[str, Any] = {"bucket": "s3://b", "limits": {"rows": 10}, "n": 3, "flag": False}

TEMPLATES: list[Any] = [
    "{{ prefect.variables.bucket }}", "{{prefect.variables.limits}}", "{{ prefect.variables.n }}",
    "{{ prefect.variables.flag }}", "at {{ prefect.variables.bucket }}/x",
    "{{ prefect.variables.n }}-{{ prefect.variables.n }} of {{ prefect.variables.bucket }}",
    "{{ prefect.variables.nope }}", "a {{ prefect.variables.nope }} b",
    "{{ prefect.blocks.secret.k }}", "{{ $HOME }} {{ prefect.variables.n }}", "plain", 7, None,
    {"nested": ["{{ prefect.variables.limits }}", {"deep": "x{{ prefect.variables.n }}"}]},
]  # fmt: skip


class _Variable:
    def __init__(self, value: Any) -> None:
        self.value = value


class _Client:
    """What resolve_variables asks of its client: read_variable_by_name."""

    async def read_variable_by_name(self, name: str) -> _Variable | None:
        return _Variable(VARIABLES[name]) if name in VARIABLES else None


@pytest.mark.parametrize("template", TEMPLATES, ids=repr)
def test_each_value_is_what_prefect_deploy_registers(template: Any) -> None:
    prefect: Any = resolve_variables(template, client=_Client())  # type: ignore[arg-type]
    expected = asyncio.run(prefect)
    assert resolved(template, VARIABLES) == expected


def test_a_variable_the_server_lacks_is_warned_at_the_entry(tmp_path: Path) -> None:
    parameters = {"a": "{{ prefect.variables.nope }}", "b": "{{ prefect.variables.n }}"}
    spec = make_spec(
        parameters=parameters, source_file=tmp_path / "prefect.yaml", source_line=3,
        source_lines={"parameters": 5},
    )  # fmt: skip
    [warning] = missing_variables([spec], VARIABLES)
    assert (warning.severity, warning.file, warning.line) == ("warning", spec.source_file, 5)
    assert "`nope`" in warning.message and 'registered with ""' in warning.message
    assert missing_variables([spec], {**VARIABLES, "nope": 1}) == []
