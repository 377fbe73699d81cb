"""A folder's build recipe and its image's content tag: the default recipe or the folder's own
Dockerfile (given BASE_IMAGE when it declares it), the context's files, a warning for a file
that looks like credentials, and a tag that follows the content and the base image's digest."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.core.model import FlowFolder, FlowSpec
from prefect_flow_deploy.reading.recipes import image_answer, recipe_for, secret_file_problems
from prefect_flow_deploy.settings.options import Options

BASE = "localhost:5000/prefect:3-python3.12"


def folder(tmp_path: Path, **files: str) -> FlowFolder:
    path = tmp_path / "projects" / "sales" / "daily"
    path.mkdir(parents=True, exist_ok=True)
    for name, text in {"flow.py": "print(1)\n", **files}.items():
        (path / name).write_text(text)
    flow = FlowSpec("etl", "etl", "flow.py", 1, {})
    return FlowFolder(
        "sales",
        "daily",
        path,
        [flow],
        requirements=path / "requirements.txt" if "requirements.txt" in files else None,
        dockerfile=path / "Dockerfile" if "Dockerfile" in files else None,
    )


def test_the_default_recipe_installs_the_requirements_and_lists_the_files(tmp_path: Path) -> None:
    recipe = recipe_for(
        folder(tmp_path, **{"requirements.txt": "requests\n"}), Options(base_image=BASE)
    )
    assert recipe.dockerfile_text is not None and recipe.dockerfile_text.startswith(
        f"FROM {BASE}\n"
    )
    assert "requirements.txt" in recipe.dockerfile_text
    assert recipe.bases == ((BASE, 0),)
    assert recipe.expected_code_dir == "/opt/prefect/flows/sales/daily"
    assert set(recipe.files) == {"flow.py", "requirements.txt"}


def test_a_folder_s_own_dockerfile_gets_the_base_image_it_declares(tmp_path: Path) -> None:
    dockerfile = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n"
    recipe = recipe_for(folder(tmp_path, Dockerfile=dockerfile), Options(base_image=BASE))
    assert recipe.dockerfile_text is None and recipe.expected_code_dir is None
    assert recipe.build_args == {"BASE_IMAGE": BASE}
    assert recipe.bases == ((BASE, 2),)
    assert set(recipe.files) == {"flow.py", "Dockerfile"}


def test_a_file_that_looks_like_credentials_is_a_warning_at_it(tmp_path: Path) -> None:
    found = folder(tmp_path, **{".env": "TOKEN=x\n"})
    recipe = recipe_for(found, Options(base_image=BASE))
    [problem] = secret_file_problems(found, recipe)
    assert (problem.severity, problem.title, problem.file) == (
        "warning", "Secret in the image", found.path / ".env",
    )  # fmt: skip


def test_the_tag_follows_the_content_and_the_base_image(tmp_path: Path) -> None:
    options = Options(base_image=BASE, registry="reg.io/acme")
    found = folder(tmp_path)
    recipe = recipe_for(found, options)
    unresolved = image_answer(found, recipe, {}, {BASE: "no such tag"}, options)
    assert unresolved.tag is None and unresolved.base_error == ("no such tag", 0)
    first = image_answer(found, recipe, {BASE: "sha256:1"}, {}, options)
    assert first.repository == "reg.io/acme/sales/daily" and first.tag
    assert image_answer(found, recipe, {BASE: "sha256:1"}, {}, options).tag == first.tag
    assert image_answer(found, recipe, {BASE: "sha256:2"}, {}, options).tag != first.tag
    (found.path / "flow.py").write_text("print(2)\n")
    changed = recipe_for(found, options)
    assert image_answer(found, changed, {BASE: "sha256:1"}, {}, options).tag != first.tag
