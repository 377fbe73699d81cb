"""The default recipe for a flow folder without its own Dockerfile."""

from __future__ import annotations

from .context import RECIPE_IGNORES

CODE_ROOT = "/opt/prefect/flows"


def code_dir(project_component: str, folder_component: str) -> str:
    return f"{CODE_ROOT}/{project_component}/{folder_component}"


def default_dockerfile(base_image: str, workdir: str, has_requirements: bool) -> str:
    """Requirements first so that a code-only change reuses the installed-packages layer.

    The pip cache mount keeps downloads between builds of this folder on the same engine
    without putting them in a layer.
    """
    lines = [f"FROM {base_image}"]
    if has_requirements:
        lines += [
            "COPY requirements.txt /tmp/pfd/requirements.txt",
            "RUN --mount=type=cache,target=/root/.cache/pip \\",
            "    python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt",
        ]
    lines += [f"WORKDIR {workdir}", "COPY . .", ""]
    return "\n".join(lines)


def default_dockerignore(user_patterns: list[str]) -> str:
    return "\n".join([*user_patterns, *RECIPE_IGNORES, ""])
