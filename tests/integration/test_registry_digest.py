"""A registry that serves another image under the tag than the one just pushed (another
push of the same tag in between, a cache or proxy in front of it serving a stale one): the
folder fails before any deployment is written, naming both digests. Through our proxy in
front of the real registry (tests/fault_proxy.py), which answers the tag's HEAD, once the
manifest was pushed, with the base image's manifest."""

from __future__ import annotations

import json

import pytest

from ..conftest import Scenario, Stack, write_flow
from ..fault_proxy import FOREVER, SERVE, Fault, fault_proxy
from .test_cli import cli, common
from .test_fault_scenarios import _tenant_deployments, seed_base_layers

pytestmark = pytest.mark.stack


def test_a_pushed_image_the_registry_does_not_serve_fails_its_folder(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("p", "one"), "one")
    host, base = stack.base_image.split("/", 1)
    repository, tag = base.rsplit(":", 1)
    other = Fault(
        SERVE, method="HEAD", path=r"/manifests/[0-9a-f]{20}$", times=FOREVER,
        serve=f"/v2/{repository}/manifests/{tag}", armed_by=r"^PUT /v2/.*/manifests/",
    )  # fmt: skip
    with fault_proxy(f"http://{host}", [other]) as (url, proxy):
        proxied = url.removeprefix("http://").rstrip("/")
        seed_base_layers(stack, [f"t{scenario.suffix}/{scenario.project('p')}/one"])
        args = [*common(scenario, stack), "--registry", f"{proxied}/t{scenario.suffix}"]
        run = cli("deploy", "--json", *args)
    assert run.returncode == 1, run.stderr
    assert proxy.faults, "the registry was never asked after the push"
    [row] = json.loads(run.stdout)
    assert row["status"] == "failed", row
    assert "serves sha256:" in row["error"] and "not the sha256:" in row["error"], row["error"]
    assert _tenant_deployments(scenario) == []  # nothing written from an image it cannot trust
