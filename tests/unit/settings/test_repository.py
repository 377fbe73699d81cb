"""Which repository a checkout is: its `origin` remote, in any form git writes it, compared in
lower case (GitHub's names are case-insensitive)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from prefect_flow_deploy.settings.repository import (
    normalise_repository,
    origin_repository,
    repository_from_remote,
)


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("git@github.com:Acme/Flows.git", "acme/flows"),
        ("https://github.com/acme/flows", "acme/flows"),
        ("https://github.com/acme/flows.git/", "acme/flows"),
        ("ssh://git@ghe.example.com/acme/flows.git", "acme/flows"),
        ("https://ghe.example.com/org/team/flows.git", "org/team/flows"),
        ("github.com:acme/flows", "acme/flows"),
        ("  https://github.com/acme/flows\n", "acme/flows"),
        ("/srv/git/flows.git", None),
        ("", None),
    ],
)
def test_the_repository_of_a_remote_url(url: str, repository: str | None) -> None:
    assert repository_from_remote(url) == repository


def test_a_repository_name_is_compared_in_lower_case_without_slashes() -> None:
    assert normalise_repository(" /Acme/Flows/ ") == "acme/flows"


@pytest.mark.skipif(shutil.which("git") is None, reason="no git here")
def test_the_checkout_s_origin_or_none(tmp_path: Path) -> None:
    assert origin_repository(tmp_path) is None  # not a checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert origin_repository(tmp_path) is None  # no origin
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:Acme/Flows.git"],
        check=True,
    )
    assert origin_repository(tmp_path) == "acme/flows"
