"""The flows a folder's prefect.yaml entries name by another name than their own."""

from __future__ import annotations

from prefect_flow_deploy.core.model import DeploymentConfig, FlowSpec
from prefect_flow_deploy.reading.listed_entries import by_alias_only


def test_a_flow_named_only_through_an_alias_gets_no_default_deployment() -> None:
    """`__init__.py:etl` re-exports flows.py's etl: the entry names it, so etl gets no
    default deployment of its own; report, which no entry names, gets one."""
    etl = FlowSpec("etl", "etl", "flows.py", 3, {})
    report = FlowSpec("report", "report", "flows.py", 9, {})
    alias = FlowSpec("etl", "etl", "__init__.py", 1, {})
    entry = DeploymentConfig(entrypoint="__init__.py:etl", name="daily", line=2)
    assert by_alias_only([entry], [etl, report], [alias]) == [report]
    direct = DeploymentConfig(entrypoint="flows.py:etl", name="nightly", line=6)
    assert by_alias_only([entry, direct], [etl, report], [alias]) == [etl, report]
