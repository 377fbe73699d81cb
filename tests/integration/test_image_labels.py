"""Every flow image says where it comes from (issue 23): the OCI labels a registry's UI reads
(the repository, the commit, the time) and the folder, visible in `docker inspect`; none of
them is part of the content tag, so a new commit of the same content rebuilds nothing."""

from __future__ import annotations

import docker
import pytest

from prefect_flow_deploy.core.naming import FOLDER_LABEL

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, plan
from .test_deploy_order import git

pytestmark = pytest.mark.stack


def test_labels_name_repository_commit_and_folder_and_a_new_commit_rebuilds_nothing(
    stack: Stack, scenario: Scenario
) -> None:
    repo = scenario.root.parent
    write_flow(scenario.folder("p", "labelled"), f"labelled_{scenario.suffix}")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    first = git(repo, "rev-parse", "HEAD")

    result = deploy(scenario, stack, repository="acme/labels")
    assert not result.failed, result.results
    [image] = result.plan.images
    assert image.action == "build"
    labels = docker.from_env().images.get(image.reference).labels
    assert labels["org.opencontainers.image.source"] == "https://github.com/acme/labels"
    assert labels["org.opencontainers.image.revision"] == first
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert labels[FOLDER_LABEL] == f"{scenario.project('p')}/labelled"

    (repo / "NOTES.md").write_text("outside every flow folder\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "second")
    again = plan(scenario, stack, repository="acme/labels")
    [same] = again.images
    assert (same.tag, same.action) == (image.tag, "exists")  # the same content tag
    assert {d.action for d in again.deployments} == {"unchanged"}
