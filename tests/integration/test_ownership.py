"""Two repositories deploying to one Prefect server, in one tenant, with the same project and
flow names: neither prunes nor takes over the other's deployments (issue 15: a prune from
repository A deleted B's deployments, and B silently took over A's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.exceptions import ObjectNotFound

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, plan, read_deployment
from .test_cli import cli as run_cli
from .test_cli import common

pytestmark = pytest.mark.stack
A, B = "acme/flows-a", "acme/flows-b"


@pytest.fixture(autouse=True)
def _no_github_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)  # each run names its own


def other_root(scenario: Scenario) -> Path:
    """Repository B's checkout: same project names as A's (the scenario's)."""
    root = scenario.root.parent.parent / "repo-b" / "projects"
    root.mkdir(parents=True)
    return root


def test_prune_and_take_over_leave_another_repositorys_deployments(
    stack: Stack, scenario: Scenario
) -> None:
    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha")
    gone = write_flow(scenario.folder("p", "beta"), "beta")
    root_b = other_root(scenario)
    write_flow(root_b / p / "gamma", "gamma", "return 'b'")

    assert not deploy(scenario, stack, repository=A).failed
    assert not deploy(scenario, stack, projects_root=root_b, repository=B).failed
    gamma = read_deployment(f"gamma/{p}")
    assert f"repo:{B}" in gamma.tags and f"tenant:{scenario.tenant}" in gamma.tags
    assert f"repo:{A}" in read_deployment(f"alpha/{p}").tags

    # A's plan neither removes nor lists B's deployment as orphaned, and says whose each is.
    planned = plan(scenario, stack, repository=A)
    assert {(d.full_name, d.action, d.owner) for d in planned.deployments} == {
        (f"alpha/{p}", "unchanged", A),
        (f"beta/{p}", "unchanged", A),
    }

    # A prunes its removed folder: its own deployment goes, B's stays exactly as it was.
    gone.joinpath("flow.py").unlink()
    gone.rmdir()
    pruned = deploy(scenario, stack, repository=A, prune=True)
    assert {(r.flow, r.status) for r in pruned.results} == {
        ("alpha", "unchanged"),
        ("beta", "removed"),
    }
    with pytest.raises(ObjectNotFound):
        read_deployment(f"beta/{p}")
    assert read_deployment(f"gamma/{p}").updated == gamma.updated

    # B gets a flow of the same deployment name as A's: that flow fails naming the owner,
    # A's deployment is untouched, B's other deployment is still fine.
    alpha = read_deployment(f"alpha/{p}")
    write_flow(root_b / p / "alpha", "alpha", "return 'b took it'")
    taken = deploy(scenario, stack, projects_root=root_b, repository=B, prune=True)
    assert taken.failed
    rows = {r.flow: r for r in taken.results}
    assert rows["alpha"].status == "failed"
    assert f"belongs to repository {A}" in (rows["alpha"].error or "")
    assert rows["gamma"].status == "unchanged"
    after = read_deployment(f"alpha/{p}")
    assert (after.updated, after.version, after.tags) == (alpha.updated, alpha.version, alpha.tags)

    # The same through the command line: exit 1, the message at the flow, owner in --json.
    cli = run_cli("plan", "--json", *common(scenario, stack), "--projects-root", str(root_b),
                  "--repository", B)  # fmt: skip
    assert cli.returncode == 1, cli.stderr
    items = {i["deployment"]: i for i in json.loads(cli.stdout)["items"]}
    assert items[f"alpha/{p}"]["deployment_action"] == "failed"
    assert items[f"gamma/{p}"]["owner"] == B
    assert f"belongs to repository {A}" in cli.stderr
    assert str(root_b / p / "alpha" / "flow.py") in cli.stderr


def test_a_deployment_without_the_record_is_taken_over_once(
    stack: Stack, scenario: Scenario
) -> None:
    """Deployed before the record existed: matched as before, recorded on its next write,
    then unchanged (adding the tag changes it once, never again)."""
    p = scenario.project("p")
    write_flow(scenario.folder("p", "old"), "old")
    assert not deploy(scenario, stack, repository=None).failed
    assert not any(t.startswith("repo:") for t in read_deployment(f"old/{p}").tags)

    planned = plan(scenario, stack, repository=A)
    (row,) = planned.deployments
    assert (row.action, row.changed_fields, row.owner) == ("update", ("tags",), None)
    assert not deploy(scenario, stack, repository=A).failed
    assert f"repo:{A}" in read_deployment(f"old/{p}").tags
    again = plan(scenario, stack, repository=A)
    assert [(d.action, d.owner) for d in again.deployments] == [("unchanged", A)]

    # Now recorded: a run that names no repository may not take it over.
    anonymous = deploy(scenario, stack, repository=None)
    assert anonymous.failed and f"--repository {A}" in (anonymous.results[0].error or "")


def test_a_name_another_repository_creates_while_this_run_builds_is_not_taken_over(
    stack: Stack, scenario: Scenario
) -> None:
    """The race make reliability found: both repositories plan a create of one name before
    either writes (each plan sees no deployment), and a create replaces a deployment of the
    same name. Only the read made just before the write can tell: the later run fails that
    deployment with the take-over message, B's stays B's."""
    from prefect_flow_deploy.run.engine import Engine

    from ..helpers import options

    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha", "return 'a'")
    root_b = other_root(scenario)
    write_flow(root_b / p / "alpha", "alpha", "return 'b'")

    engine = Engine(options(scenario, stack, repository=A))
    planned = engine.plan()  # before B writes: a create
    assert [(d.full_name, d.action) for d in planned.deployments] == [(f"alpha/{p}", "create")]
    assert not deploy(scenario, stack, projects_root=root_b, repository=B).failed
    theirs = read_deployment(f"alpha/{p}")

    engine.plan = lambda: planned  # type: ignore[method-assign]  # carry out the earlier plan
    late = engine.deploy()
    assert late.failed
    [row] = late.results
    assert row.status == "failed"
    assert f"belongs to repository {B}, and repository {A} would take it over" in (row.error or "")
    now = read_deployment(f"alpha/{p}")
    assert (now.id, now.job_variables, now.tags) == (theirs.id, theirs.job_variables, theirs.tags)


def test_a_run_without_an_identity_refuses_to_prune_and_says_who_it_acts_as(
    stack: Stack, scenario: Scenario
) -> None:
    """No --repository, no GITHUB_REPOSITORY, no git remote: `--prune` removed every managed
    deployment of the tenant that recorded no repository, another repository's included."""
    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha")
    assert not deploy(scenario, stack, repository=None).failed  # recorded by no repository
    write_flow(scenario.folder("q", "delta"), "delta")  # another project, so alpha is "gone"
    for file in scenario.folder("p", "alpha").iterdir():
        file.unlink()
    scenario.folder("p", "alpha").rmdir()

    anonymous = run_cli("deploy", "--prune", *common(scenario, stack))
    assert anonymous.returncode == 3, anonymous.stderr
    assert "--prune needs to know which repository this run deploys" in anonymous.stderr
    assert read_deployment(f"alpha/{p}").name == p  # still there

    named = run_cli("plan", *common(scenario, stack), "--repository", A)
    assert f"acting as repository {A} (--repository), tenant {scenario.tenant}" in named.stderr
    nobody = run_cli("plan", *common(scenario, stack))
    assert "acting as no repository" in nobody.stderr


def test_a_deployment_whose_record_was_removed_by_hand_is_not_pruned(
    stack: Stack, scenario: Scenario
) -> None:
    from ..helpers import server_api

    p = scenario.project("p")
    write_flow(scenario.folder("p", "alpha"), "alpha")
    gone = write_flow(scenario.folder("p", "beta"), "beta")
    assert not deploy(scenario, stack, repository=A).failed
    beta = read_deployment(f"beta/{p}")
    with server_api() as client:  # someone takes the record off by hand
        tags = [t for t in beta.tags if not t.startswith("repo:")]
        client.patch(f"deployments/{beta.id}", json={"tags": tags}).raise_for_status()
    gone.joinpath("flow.py").unlink()
    gone.rmdir()

    pruned = deploy(scenario, stack, repository=A, prune=True)
    assert not pruned.failed
    assert {(r.flow, r.status) for r in pruned.results} == {("alpha", "unchanged")}
    assert read_deployment(f"beta/{p}").id == beta.id
    assert any(
        f"beta/{p}" in problem.message and "records no repository" in problem.message
        for problem in pruned.plan.problems
    )
