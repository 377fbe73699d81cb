"""The default recipe of a folder without a Dockerfile: requirements installed before the code
is copied (a code-only change reuses the layer), after it when requirements.txt names files of
the folder; the pip index secrets mounted for that step only."""

from __future__ import annotations

from prefect_flow_deploy.reading.build_context import RECIPE_IGNORES
from prefect_flow_deploy.reading.default_recipe import (
    CODE_ROOT,
    code_dir,
    default_dockerfile,
    default_dockerignore,
)

BASE = "prefecthq/prefect:3-python3.12"


def test_the_code_lives_under_one_root_by_project_and_folder() -> None:
    assert code_dir("sales", "daily") == f"{CODE_ROOT}/sales/daily"


def test_without_requirements_the_recipe_copies_the_code_only() -> None:
    assert default_dockerfile(BASE, "/w", has_requirements=False) == (
        f"FROM {BASE}\nWORKDIR /w\nCOPY . .\n"
    )


def test_requirements_are_installed_before_the_code_is_copied() -> None:
    lines = default_dockerfile(BASE, "/w", has_requirements=True).splitlines()
    assert lines[1] == "COPY requirements.txt /tmp/pfd/requirements.txt"
    assert lines[2] == "RUN --mount=type=cache,target=/root/.cache/pip \\"
    assert lines[3].endswith(
        "python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt"
    )
    assert lines[4:] == ["WORKDIR /w", "COPY . ."]


def test_requirements_that_name_folder_files_are_installed_in_the_copied_folder() -> None:
    lines = default_dockerfile(BASE, "/w", True, requirements_name_files=True).splitlines()
    assert lines[:3] == [f"FROM {BASE}", "WORKDIR /w", "COPY . ."]
    assert lines[-1].endswith("-r requirements.txt")


def test_the_pip_index_secrets_are_mounted_for_the_install_step_only() -> None:
    text = default_dockerfile(
        BASE, "/w", True, secret_ids=frozenset({"pip-extra-index-url", "unrelated"})
    )
    assert "--mount=type=secret,id=pip-extra-index-url" in text
    assert 'PIP_EXTRA_INDEX_URL="$(cat /run/secrets/pip-extra-index-url)" python -m pip' in text
    assert "unrelated" not in text and "PIP_INDEX_URL" not in text.replace("EXTRA_INDEX", "")
    assert "ENV" not in text and "ARG" not in text  # never in the image's config


def test_the_recipe_s_ignores_follow_the_user_s() -> None:
    assert default_dockerignore(["*.csv"]) == "\n".join(["*.csv", *RECIPE_IGNORES, ""])
