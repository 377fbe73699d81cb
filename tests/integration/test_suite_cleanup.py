"""The suite's own hygiene: a test's deployments are deleted when it ends (conftest's
fresh_suffix and remove_deployments_of), since every plan reads all the deployments the tool
manages and those a run left behind slowed each later plan (CONTRIBUTING.md)."""

from __future__ import annotations

import uuid

import pytest

from ..conftest import Stack, remove_deployments_of
from ..helpers import server_api

pytestmark = [pytest.mark.stack]


def test_a_tests_deployments_go_by_name_or_flow_name_and_no_other(stack: Stack) -> None:
    suffix, other = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    with server_api() as client:

        def made(flow: str, name: str) -> str:
            flow_id = client.post("flows/", json={"name": flow}).raise_for_status().json()["id"]
            body = {"name": name, "flow_id": flow_id}
            return str(client.post("deployments/", json=body).raise_for_status().json()["id"])

        by_name = made("cleanup-flow", f"sales-{suffix}")
        by_flow = made(f"cleanup-{suffix}", "daily")
        kept = made(f"cleanup-{other}", f"sales-{other}")

        remove_deployments_of(suffix)

        assert client.get(f"deployments/{by_name}").status_code == 404
        assert client.get(f"deployments/{by_flow}").status_code == 404
        assert client.get(f"deployments/{kept}").status_code == 200
        remove_deployments_of(other)
        assert client.get(f"deployments/{kept}").status_code == 404
