"""Preview deployments for a pull request, on the real stack (registry, Prefect server, the
Docker worker): only the changed folder is built, one paused preview per flow in it,
production untouched; the next push updates the same previews; a preview run started
through the API completes on the worker; closing the pull request removes the previews
(never the runs' history); and a preview can never write over a production deployment
whose name it would take. The rules themselves: tests/unit/rules/test_previews.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_flow_deploy.clients.registry import RegistryClient

from ..conftest import Scenario, Stack, copy_example
from ..helpers import deploy, run_deployment, server_api, server_deployment

pytestmark = [pytest.mark.stack, pytest.mark.e2e]

REPO = "acme/flows"
PR = 12


def production_state(names: list[str]) -> dict[str, tuple[str, str]]:
    """id and `updated` of each deployment: what "untouched" compares."""
    return {n: (d["id"], d["updated"]) for n in names if (d := server_deployment(n))}


def missing(name: str) -> bool:
    flow, _, deployment = name.partition("/")
    with server_api() as client:
        return client.get(f"deployments/name/{flow}/{deployment}").status_code == 404


def edit(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_a_pull_request_gets_paused_previews_of_its_changed_folder_that_run_and_go_away(
    stack: Stack, scenario: Scenario
) -> None:
    s = scenario
    s.work_pool = stack.worker_pool  # the pool the stack's worker serves
    copy_example(s, "sales", "daily_orders")
    two = copy_example(s, "sales", "two_flows")
    project = s.project("sales")
    base = {"repository": REPO}
    first = deploy(s, stack, **base)
    assert not first.failed, first.results
    prod = [f"daily-orders/{project}", f"refresh-prices/{project}", f"archive-invoices/{project}"]
    before = production_state(prod)
    assert len(before) == 3

    # The pull request changes one folder.
    edit(two / "flows.py", "\n\nPREVIEW = 1\n")
    opened = deploy(s, stack, **base, previews=True, pull_request=PR)
    assert not opened.failed, opened.results
    assert opened.counters.built == 1 and [i.folder.name for i in opened.plan.images] == [
        "two_flows"
    ]
    names = [f"refresh-prices/{project}-pr-{PR}", f"archive-invoices/{project}-pr-{PR}"]
    assert sorted(r.status for r in opened.results) == ["created", "created"]
    for name in names:
        data = server_deployment(name)
        assert data["paused"] is True, name
        assert all(not schedule["active"] for schedule in data["schedules"])
        assert {f"preview:pr-{PR}", f"repo:{REPO}", f"tenant:{s.tenant}"} <= set(data["tags"])
        assert data["work_pool_name"] == stack.worker_pool
    assert production_state(prod) == before  # ids and `updated` as they were
    image = server_deployment(names[0])["job_variables"]["image"]
    assert image != server_deployment(prod[1])["job_variables"]["image"]

    # A reviewer runs one: the paused preview runs when asked, on the Docker worker.
    state, logs = run_deployment(names[0], {"currency": "CHF"})
    assert state == "COMPLETED", "\n".join(logs)

    # The next push updates the same previews (same ids, the new image); with keep-images,
    # the image only the previews used before is deleted, even among the newest 5.
    ids = {n: server_deployment(n)["id"] for n in names}
    edit(two / "flows.py", "\nPREVIEW = 2\n")
    pushed = deploy(s, stack, **base, previews=True, pull_request=PR, keep_images=5)
    assert not pushed.failed, pushed.results
    assert pushed.counters.built == 1
    assert sorted(r.status for r in pushed.results) == ["updated", "updated"]
    assert {n: server_deployment(n)["id"] for n in names} == ids
    second = server_deployment(names[0])["job_variables"]["image"]
    assert second != image
    assert production_state(prod) == before
    registry = RegistryClient()
    production_images = {server_deployment(n)["job_variables"]["image"] for n in prod}
    assert not registry.exists(image) and registry.exists(second)
    assert [d.outcome for d in pushed.image_deletions] == ["deleted"]
    assert all(registry.exists(i) for i in production_images)

    # Closed: the previews go, their runs stay in the history, production stays; the image
    # only they used goes too (closed without merging), production's stay.
    runs = flow_runs(ids[names[0]])
    assert runs, "the reviewer's run is in the history"
    closed = deploy(
        s, stack, **base, previews=True, pull_request=PR, preview_closed=True, keep_images=5
    )
    assert not closed.failed, closed.results
    assert closed.counters.built == 0
    assert sorted(r.status for r in closed.results) == ["removed", "removed"]
    assert all(missing(n) for n in names)
    assert production_state(prod) == before
    assert not registry.exists(second)
    assert all(registry.exists(i) for i in production_images)
    with server_api() as client:
        for run_id in runs:
            assert client.get(f"flow_runs/{run_id}").status_code == 200


def flow_runs(deployment_id: str) -> list[str]:
    with server_api() as client:
        response = client.post(
            "flow_runs/filter", json={"deployments": {"id": {"any_": [deployment_id]}}}
        )
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return [r["id"] for r in found]


def test_a_preview_never_writes_over_a_production_deployment_named_like_it(
    stack: Stack, scenario: Scenario
) -> None:
    """Production has `etl/<project>` and, literally, `etl/<project>-pr-12`: the pull
    request's preview of the first would take the second's name. It fails alone, and the
    production deployment is not written (nor removed when the pull request closes)."""
    s = scenario
    project = s.project("ops")
    folder = s.folder("ops", "etl")
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef etl(day: str = 'today') -> str:\n    return day\n"
    )
    (folder / "prefect.yaml").write_text(
        f"deployments:\n  - name: {project}\n    entrypoint: flow.py:etl\n"
        f"  - name: {project}-pr-{PR}\n    entrypoint: flow.py:etl\n"
    )
    first = deploy(s, stack, repository=REPO)
    assert not first.failed, first.results
    literal = f"etl/{project}-pr-{PR}"
    before = production_state([f"etl/{project}", literal])

    edit(folder / "flow.py", "\n# changed by the pull request\n")
    preview = deploy(s, stack, repository=REPO, previews=True, pull_request=PR)
    rows = {f"{r.flow}/{r.deployment}": r for r in preview.results}
    assert rows[literal].status == "failed"
    assert "is not a preview" in (rows[literal].error or "")
    assert rows[f"etl/{project}-pr-{PR}-pr-{PR}"].status == "created"  # the other one's preview
    assert production_state([f"etl/{project}", literal]) == before
    assert f"preview:pr-{PR}" not in server_deployment(literal)["tags"]

    closed = deploy(s, stack, repository=REPO, previews=True, pull_request=PR, preview_closed=True)
    assert [r.status for r in closed.results] == ["removed"]
    assert missing(f"etl/{project}-pr-{PR}-pr-{PR}")
    assert production_state([f"etl/{project}", literal]) == before
    with pytest.raises(httpx.HTTPStatusError):
        server_deployment(f"etl/{project}-pr-{PR}-pr-{PR}")
