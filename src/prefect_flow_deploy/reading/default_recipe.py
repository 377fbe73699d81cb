"""The default recipe for a flow folder without its own Dockerfile."""

from __future__ import annotations

from prefect_flow_deploy.reading.build_context import RECIPE_IGNORES

CODE_ROOT = "/opt/prefect/flows"
# Build secrets the default recipe reads, and the pip variable each one sets: a private package
# index whose URL holds a token, read for the pip install step only (never a layer, an
# argument or an environment variable of the image).
PIP_SECRETS = {"pip-index-url": "PIP_INDEX_URL", "pip-extra-index-url": "PIP_EXTRA_INDEX_URL"}


def code_dir(project_component: str, folder_component: str) -> str:
    return f"{CODE_ROOT}/{project_component}/{folder_component}"


def default_dockerfile(
    base_image: str,
    workdir: str,
    has_requirements: bool,
    requirements_name_files: bool = False,
    secret_ids: frozenset[str] = frozenset(),
) -> str:
    """Requirements first so that a code-only change reuses the installed-packages layer;
    but when requirements.txt names files of the folder (`-r base.txt`, `-e ./lib`), pip
    needs them, so it runs after the folder is copied, in it (paths resolve as locally).

    The pip cache mount keeps downloads between builds of this folder on the same engine
    without putting them in a layer. The `pip-index-url` / `pip-extra-index-url` build
    secrets, when given, are mounted for that step and become pip's index variables there.
    """
    lines = [f"FROM {base_image}"]
    if has_requirements and not requirements_name_files:
        lines += ["COPY requirements.txt /tmp/pfd/requirements.txt"]
        lines += _pip_install("/tmp/pfd/requirements.txt", secret_ids)
    lines += [f"WORKDIR {workdir}", "COPY . ."]
    if has_requirements and requirements_name_files:
        lines += _pip_install("requirements.txt", secret_ids)
    return "\n".join([*lines, ""])


def _pip_install(requirements: str, secret_ids: frozenset[str]) -> list[str]:
    used = [(i, variable) for i, variable in PIP_SECRETS.items() if i in secret_ids]
    mounts = [f"    --mount=type=secret,id={i} \\" for i, _ in used]
    variables = "".join(f'{variable}="$(cat /run/secrets/{i})" ' for i, variable in used)
    return [
        "RUN --mount=type=cache,target=/root/.cache/pip \\",
        *mounts,
        f"    {variables}python -m pip install --root-user-action=ignore -r {requirements}",
    ]


def default_dockerignore(user_patterns: list[str]) -> str:
    return "\n".join([*user_patterns, *RECIPE_IGNORES, ""])
