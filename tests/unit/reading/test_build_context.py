import shutil
from pathlib import Path

from prefect_flow_deploy.core.model import FlowFolder
from prefect_flow_deploy.reading.build_context import (
    LARGE_FILE,
    content_tag,
    context_files,
    large_files,
    read_dockerignore,
)
from prefect_flow_deploy.reading.discovery import read_folder
from prefect_flow_deploy.reading.dockerfile import base_images, declared_args
from prefect_flow_deploy.reading.recipes import context_files_for_hash, recipe_for
from prefect_flow_deploy.settings.options import Options


def folder_at(path: Path) -> FlowFolder:
    def present(name: str) -> Path | None:
        return path / name if (path / name).exists() else None

    return FlowFolder(
        "p",
        path.name,
        path,
        dockerfile=present("Dockerfile"),
        requirements=present("requirements.txt"),
    )


def tag_of(path: Path, base_digest: str = "sha256:aaa", **options: object) -> str:
    folder = folder_at(path)
    opts = Options(projects_root=path.parent, **options)  # type: ignore[arg-type]
    recipe = recipe_for(folder, opts)
    tag, _ = content_tag(
        context_files_for_hash(recipe),
        recipe.dockerfile_text or "",
        recipe.build_args,
        {ref: base_digest for ref, _ in recipe.bases},
    )
    return tag


def make_folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "flow.py").write_text("from prefect import flow\n")
    (root / "sub" / "helper.py").write_text("X = 1\n")
    (root / "requirements.txt").write_text("tabulate\n")
    return root


def test_same_content_same_tag_on_different_paths_and_times(tmp_path: Path) -> None:
    one = make_folder(tmp_path / "clone1" / "flows")
    two = tmp_path / "clone2" / "elsewhere" / "flows"
    shutil.copytree(one, two)
    (two / "flow.py").touch()  # a newer mtime must not matter
    assert tag_of(one) == tag_of(two)


def test_tag_changes_with_each_input(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "f")
    original = tag_of(folder)
    assert tag_of(folder, base_digest="sha256:bbb") != original
    assert tag_of(folder, base_image="other/base:1") != original
    (folder / "sub" / "helper.py").write_text("X = 2\n")
    changed = tag_of(folder)
    assert changed != original
    (folder / "requirements.txt").unlink()
    assert tag_of(folder) not in (original, changed)


def test_the_owner_execute_bit_changes_the_tag_and_other_bits_do_not(tmp_path: Path) -> None:
    """A script made executable runs differently in the image: its mode counts (read once,
    by the walk that hashes the file), a group or world bit does not."""
    folder = make_folder(tmp_path / "f")
    original = tag_of(folder)
    (folder / "sub" / "helper.py").chmod(0o664)
    assert tag_of(folder) == original
    (folder / "sub" / "helper.py").chmod(0o744)
    executable = tag_of(folder)
    assert executable != original
    (folder / "sub" / "helper.py").chmod(0o644)
    assert tag_of(folder) == original


def test_dockerignore_and_caches_do_not_change_the_tag(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "f")
    original = tag_of(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "flow.cpython-311.pyc").write_bytes(b"\0")
    assert tag_of(folder) == original
    (folder / ".dockerignore").write_text("# comment\nnotes.md\n")
    with_ignore = tag_of(folder)
    (folder / "notes.md").write_text("scratch")
    assert tag_of(folder) == with_ignore
    assert read_dockerignore(folder) == ["notes.md"]


def test_context_files_respect_dockerignore_exceptions(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("a.py", "data/big.csv", "data/keep.csv"):
        (tmp_path / name).write_text(name)
    files = [f.path for f in context_files(tmp_path, ["data", "!data/keep.csv"])]
    assert files == ["a.py", "data/keep.csv"]


def test_dockerfile_bases_resolve_args_and_skip_stages() -> None:
    text = """
ARG BASE_IMAGE=python:3.12
ARG TAG
FROM ${BASE_IMAGE} AS builder
RUN echo
FROM builder
FROM --platform=linux/amd64 registry.io/x/y:${TAG:-1.0} AS final
FROM scratch
"""
    bases = base_images(text, {"TAG": "2.0"})
    assert [(b.reference, b.line) for b in bases] == [
        ("python:3.12", 4),
        ("registry.io/x/y:2.0", 7),
    ]
    assert base_images(text, {"BASE_IMAGE": "mine:1"})[0].reference == "mine:1"
    assert declared_args(text) == {"BASE_IMAGE", "TAG"}


def test_own_dockerfile_gets_base_image_arg_only_when_declared(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text("")
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE=x\nFROM ${BASE_IMAGE}\nCOPY . .\n")
    recipe = recipe_for(folder_at(tmp_path), Options(base_image="local/base:1"))
    assert recipe.build_args == {"BASE_IMAGE": "local/base:1"}
    assert recipe.bases == (("local/base:1", 2),)
    (tmp_path / "Dockerfile").write_text("FROM fixed/base:2\nCOPY . .\n")
    recipe = recipe_for(folder_at(tmp_path), Options(base_image="local/base:1"))
    assert recipe.build_args == {} and recipe.bases == (("fixed/base:2", 1),)
    assert "Dockerfile" in recipe.files


def test_build_failure_headline_is_the_error_lines_without_step_prefixes() -> None:
    from prefect_flow_deploy.docker.build_log import build_error_headline

    log = (
        "#7 [stage-0 3/5] RUN python -m pip install -r /tmp/pfd/requirements.txt\n"
        "#7 1.234 ERROR: Could not find a version that satisfies the requirement nope==1.0\n"
        "#7 1.235 ERROR: No matching distribution found for nope==1.0\n"
        "#7 ERROR: executor failed running [/bin/sh -c python -m pip install]: exit code: 1\n"
        "ERROR: failed to solve: process did not complete successfully\n"
    )
    assert build_error_headline(log) == (
        "ERROR: Could not find a version that satisfies the requirement nope==1.0 / "
        "ERROR: No matching distribution found for nope==1.0"
    )
    assert build_error_headline("#3 DONE 0.0s\n") == ""


def test_requirements_naming_folder_files_install_after_the_copy(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text("from prefect import flow\n\n@flow\ndef f(): pass\n")
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    plain = recipe_for(read_folder("p", tmp_path), Options(base_image="b:1")).dockerfile_text or ""
    assert plain.index("-r /tmp/pfd/requirements.txt") < plain.index("COPY . .")

    (tmp_path / "base.txt").write_text("requests==2.32.3\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt  # shared\n")
    local = recipe_for(read_folder("p", tmp_path), Options(base_image="b:1")).dockerfile_text or ""
    assert "/tmp/pfd" not in local
    assert local.index("COPY . .") < local.index(
        "pip install --root-user-action=ignore -r requirements.txt"
    )


def test_files_named_like_credentials_are_found() -> None:
    from prefect_flow_deploy.reading.build_context import secret_looking_files

    files = dict.fromkeys(
        [
            ".env", ".env.prod", ".env.example", "conf/.env.sample", ".env.development.example", "flow.py", "keys/id_rsa",
            "certs/server.pem", "gcp-service-account.json", "credentials.json", "data.json",
            ".pypirc", "monkey.py", "environment.yml",
        ],
        "digest",
    )  # fmt: skip
    assert secret_looking_files(files) == [
        ".env", ".env.prod", ".pypirc", "certs/server.pem", "credentials.json",
        "gcp-service-account.json", "keys/id_rsa",
    ]  # fmt: skip


def test_large_files_are_found_by_size_alone(tmp_path: Path) -> None:
    (tmp_path / "big.bin").touch()
    with (tmp_path / "big.bin").open("r+b") as handle:
        handle.truncate(LARGE_FILE + 1)  # sparse: nothing written
    (tmp_path / "small.txt").write_text("x")
    assert large_files(tmp_path, ["big.bin", "small.txt", "gone.txt"]) == [
        ("big.bin", LARGE_FILE + 1)
    ]
