"""Which repository a deployment belongs to: the pure rules (the real two-repository case
against a Prefect server is tests/integration/test_ownership.py)."""

import subprocess
from pathlib import Path

import pytest

from prefect_flow_deploy.deployment.diff import existing_from_json, ours
from prefect_flow_deploy.deployment.ownership import foreign_owner, recorded_owner, takeover_message
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given, Options
from prefect_flow_deploy.settings.repository import repository_from_remote
from tests.unit.rules.test_specs import folder_with, image


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("git@github.com:Acme/Flows.git", "acme/flows"),
        ("https://github.com/acme/flows.git", "acme/flows"),
        ("https://github.com/acme/flows", "acme/flows"),
        ("ssh://git@github.example.com:2222/acme/flows.git", "acme/flows"),
        ("https://token@gitlab.com/group/sub/flows.git/", "group/sub/flows"),
        ("/srv/git/flows.git", None),  # a local path names no repository
    ],
)
def test_repository_from_a_remote(url: str, repository: str | None) -> None:
    assert repository_from_remote(url) == repository


def test_explicit_then_github_then_the_git_remote(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:acme/laptop.git"],
        check=True,
    )
    (tmp_path / "projects").mkdir()
    env = {"GITHUB_REPOSITORY": "Acme/CI"}

    def resolved(explicit: str | None, env: dict[str, str], root: Path) -> Options:
        given = {"repository": Given(explicit, "--repository")} if explicit else {}
        return resolve_options(given, env, root=root)

    assert resolved("acme/given", env, tmp_path).repository == "acme/given"
    assert resolved(None, env, tmp_path).repository == "acme/ci"
    laptop = resolved(None, {}, tmp_path)
    assert laptop.repository == "acme/laptop"
    assert laptop.source("repository") == "git remote origin"
    nowhere = tmp_path.parent / f"{tmp_path.name}-nowhere"
    (nowhere / "projects").mkdir(parents=True)
    assert resolved(None, {}, nowhere).repository is None


def test_a_deployment_is_ours_unless_another_repository_recorded_it() -> None:
    assert foreign_owner(["repo:acme/b", "tenant:t"], "acme/a") == "acme/b"
    assert foreign_owner(["repo:acme/a"], "acme/a") is None
    assert foreign_owner(["tenant:t"], "acme/a") is None  # none recorded: matched as before
    assert foreign_owner(["repo:acme/b"], None) == "acme/b"  # a run that names none
    assert recorded_owner(["x", "repo:acme/b"]) == "acme/b"

    def existing(*tags: str) -> object:
        return existing_from_json({"id": "1", "name": "d", "tags": list(tags)}, "f")

    assert ours(existing("tenant:t", "repo:acme/a"), "t", "acme/a")  # type: ignore[arg-type]
    assert not ours(existing("tenant:t", "repo:acme/b"), "t", "acme/a")  # type: ignore[arg-type]
    assert not ours(existing("tenant:u", "repo:acme/a"), "t", "acme/a")  # type: ignore[arg-type]
    assert ours(existing("tenant:t"), "t", "acme/a")  # type: ignore[arg-type]


def test_the_message_names_the_owner_and_what_to_do() -> None:
    message = takeover_message("etl/sales", "acme/b", "acme/a")
    assert "belongs to repository acme/b" in message and "repository acme/a" in message
    assert "name=" in message and "--repository" not in message
    assert "--repository acme/b" in takeover_message("etl/sales", "acme/b", None)


def test_the_record_is_one_tag_on_every_deployment() -> None:
    folder = folder_with([])
    specs = desired_deployments_for(folder, Options(tenant="prod", repository="acme/flows"))
    assert all(s.tags.count("repo:acme/flows") == 1 for s in specs)
    assert not any(
        t.startswith("repo:") for s in desired_deployments_for(folder, Options()) for t in s.tags
    )


def desired_deployments_for(folder, options):  # type: ignore[no-untyped-def]
    from prefect_flow_deploy.rules.specs import deployment_specs

    return deployment_specs(folder, image(folder), options)[0]
