"""Whose deployment a name is: a run never writes over another tenant's, another repository's,
or another folder's deployment that it did not read; one that records no owner is taken over."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prefect_flow_deploy.core.model import TENANT_TAG_PREFIX
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.deployment.ownership import repository_tag
from prefect_flow_deploy.rules.takeover import other_folder, other_repository, other_tenant


def existing(*tags: str) -> ExistingDeployment:
    return ExistingDeployment("d1", "etl", "sales", list(tags), {}, [], None, None)


def test_another_tenant_s_deployment_is_never_overwritten() -> None:
    theirs = existing(f"{TENANT_TAG_PREFIX}eu")
    assert other_tenant("etl/sales", None, "us") is None
    assert other_tenant("etl/sales", existing(f"{TENANT_TAG_PREFIX}us"), "us") is None
    message = other_tenant("etl/sales", theirs, "us")
    assert message is not None and "belongs to tenant 'eu', and tenant 'us' would" in message
    assert message.endswith("prefect-flow-deploy.yaml).")
    untenanted_run = other_tenant("etl/sales", theirs, None)
    assert untenanted_run is not None and untenanted_run.endswith("or run with --tenant eu.")


def test_a_deployment_of_no_tenant_is_taken_over_by_a_tenant() -> None:
    assert other_tenant("etl/sales", existing(), "us") is None


def test_another_repository_s_deployment_is_never_taken_over() -> None:
    recorded = existing(repository_tag("acme/other"))
    assert other_repository("etl/sales", None, "acme/flows") is None
    assert other_repository("etl/sales", existing(), "acme/flows") is None  # none recorded
    assert (
        other_repository("etl/sales", existing(repository_tag("acme/flows")), "acme/flows") is None
    )
    message = other_repository("etl/sales", recorded, "acme/flows")
    assert message is not None and "belongs to repository acme/other" in message


def spec(folder_key: str) -> Any:
    return SimpleNamespace(folder_key=folder_key, full_name="etl/sales")


def test_another_folder_s_deployment_is_kept_while_that_folder_has_the_flow() -> None:
    theirs = existing("folder:sales/old")
    unread = {"sales/old": frozenset({"etl"})}
    message = other_folder(spec("sales/new"), theirs, set(), unread)
    assert message is not None and "belongs to sales/old, which still has the flow 'etl'" in message
    # read in this run: compared already; the flow moved away: taken over
    assert other_folder(spec("sales/new"), theirs, {"sales/old"}, unread) is None
    assert other_folder(spec("sales/new"), theirs, set(), {"sales/old": frozenset()}) is None
    assert other_folder(spec("sales/old"), theirs, set(), unread) is None  # its own
    assert other_folder(spec("sales/new"), existing(), set(), unread) is None  # no folder
