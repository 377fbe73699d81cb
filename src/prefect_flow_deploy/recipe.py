"""The default recipe for a flow folder without its own Dockerfile."""

from __future__ import annotations

from .context import RECIPE_IGNORES

CODE_ROOT = "/opt/prefect/flows"


def code_dir(project_component: str, folder_component: str) -> str:
    return f"{CODE_ROOT}/{project_component}/{folder_component}"


def default_dockerfile(
    base_image: str, workdir: str, has_requirements: bool, requirements_name_files: bool = False
) -> str:
    """Requirements first so that a code-only change reuses the installed-packages layer;
    but when requirements.txt names files of the folder (`-r base.txt`, `-e ./lib`), pip
    needs them, so it runs after the folder is copied, in it (paths resolve as locally).

    The pip cache mount keeps downloads between builds of this folder on the same engine
    without putting them in a layer.
    """
    lines = [f"FROM {base_image}"]
    if has_requirements and not requirements_name_files:
        lines += ["COPY requirements.txt /tmp/pfd/requirements.txt"]
        lines += _pip_install("/tmp/pfd/requirements.txt")
    lines += [f"WORKDIR {workdir}", "COPY . ."]
    if has_requirements and requirements_name_files:
        lines += _pip_install("requirements.txt")
    return "\n".join([*lines, ""])


def _pip_install(requirements: str) -> list[str]:
    return [
        "RUN --mount=type=cache,target=/root/.cache/pip \\",
        f"    python -m pip install --root-user-action=ignore -r {requirements}",
    ]


def default_dockerignore(user_patterns: list[str]) -> str:
    return "\n".join([*user_patterns, *RECIPE_IGNORES, ""])
