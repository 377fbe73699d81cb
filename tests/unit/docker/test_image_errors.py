"""What the check says of an image as a whole, at the line to change (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_prefect_2_in_the_image_is_said_at_the_pin_that_holds_prefect_back(
    tmp_path: Path,
) -> None:
    """Svbongo/cicd-prefect-snowflake (trial b 6): the unpinned `prefect` line was blamed;
    `griffe==0.36.4`, outside Prefect 3's requirement, made pip take Prefect 2. Without
    requirements, the Dockerfile's FROM (the base image that brings Prefect 2)."""
    from prefect_flow_deploy.core.errors import FolderError
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.docker.image_errors import check_prefect_major

    (tmp_path / "requirements.txt").write_text("prefect\nrequests\ngriffe==0.36.4\n")
    (tmp_path / "Dockerfile").write_text("ARG X=1\nFROM python:3.11\nRUN pip install prefect\n")
    folder = FlowFolder("p", "f", tmp_path, requirements=tmp_path / "requirements.txt")
    with pytest.raises(FolderError) as caught:
        check_prefect_major(folder, "2.20.2")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "requirements.txt"), 3)
    assert "because `griffe==0.36.4` is outside what Prefect 3 requires" in caught.value.message
    check_prefect_major(folder, "3.9.1")  # Prefect 3: nothing to say
    folder = FlowFolder("p", "f", tmp_path, dockerfile=tmp_path / "Dockerfile")
    with pytest.raises(FolderError) as caught:
        check_prefect_major(folder, "2.20.2")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "Dockerfile"), 2)


def test_a_worker_command_that_fails_is_said_at_the_prefect_pin_with_its_exception_first(
    tmp_path: Path,
) -> None:
    """jonathjd/prefect-oop-example (trial round 8 a 3): `prefect==3.4.7` in pyproject.toml
    was said at the Dockerfile without a line, and the row's one line was a traceback's
    `^^^^`. The pin's line, else the Dockerfile's RUN that installs; the exception first."""
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.docker.image_errors import worker_command_error

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = [\n  "pandas",\n  "prefect==3.4.7",\n]\n'
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY . .\nRUN pip install uv && \\\n    uv pip install --system .\n"
    )
    printed = "Traceback (most recent call last):\n  x = y\n      ^^^^\nImportError: no name z"
    folder = FlowFolder("p", "f", tmp_path, dockerfile=tmp_path / "Dockerfile")
    error = worker_command_error(folder, printed)
    assert (error.file, error.line) == (str(tmp_path / "pyproject.toml"), 5)
    assert error.message.splitlines()[0].endswith("every run would crash: ImportError: no name z")
    (tmp_path / "pyproject.toml").unlink()
    error = worker_command_error(folder, printed)
    assert (error.file, error.line) == (str(tmp_path / "Dockerfile"), 3)


def test_a_worker_command_failing_in_a_pinned_library_is_said_at_that_pin(
    tmp_path: Path,
) -> None:
    """CBIIT/C3DC-Prefect-Dataloader (trial round 9 a 2): `typing_extensions==4.12.2` of a
    `pip freeze` replaced the version pydantic-core needs; the error advised another Prefect
    or base image, at the folder. A pin of the module the ImportError names is the line."""
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.docker.image_errors import worker_command_error

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.32.3\nTyping-Extensions==4.12.2\nprefect\n")
    folder = FlowFolder("p", "f", tmp_path, requirements=requirements)
    printed = (
        "Traceback (most recent call last):\nImportError: cannot import name 'Sentinel' from "
        "'typing_extensions' (/usr/local/lib/python3.11/site-packages/typing_extensions.py)"
    )
    error = worker_command_error(folder, printed)
    assert (error.file, error.line) == (str(requirements), 2)
    assert "pins `typing_extensions`" in error.message and "remove the pin" in error.message
    # the pin named by a chained cause, above the CLI loader's own ImportError (trial 11 a 3)
    chained = (
        "ImportError: cannot import name 'sentinel' from 'typing_extensions' (/x.py)\n"
        '    raise ImportError(f"Cannot import module {module_path!r}") from e\n'
        "ImportError: Cannot import module 'prefect.cli.flow_run' from 'prefect.cli.flow_run:app'"
    )
    error = worker_command_error(folder, chained)
    assert (error.file, error.line) == (str(requirements), 2)
    assert error.message.splitlines()[0].endswith(
        "would crash: ImportError: cannot import name 'sentinel' from 'typing_extensions' (/x.py)"
    )
    error = worker_command_error(
        folder, "ModuleNotFoundError: No module named 'importlib_metadata'"
    )
    assert (error.file, error.line) == (str(requirements), 3)  # not pinned: Prefect's line


def test_a_flow_file_the_code_dir_lacks_fails_its_flows_at_the_file(tmp_path: Path) -> None:
    from prefect_flow_deploy.core.model import FlowFolder, FlowSpec
    from prefect_flow_deploy.docker.image_errors import absent_errors

    flows = (
        FlowSpec("inner", "inner", "flows/inner.py", 3, {}),
        FlowSpec("top", "top", "top.py", 3, {}),
    )
    folder = FlowFolder("p", "f", tmp_path, flows=list(flows))
    [error] = absent_errors(folder, ["top.py"], "/app")
    assert error.file == str(tmp_path / "top.py")
    assert error.message.startswith("top.py is not in the image: its code directory /app holds "
                                    "flows/inner.py and not this file")  # fmt: skip


def test_a_worker_command_failing_in_pydantic_says_the_exception_not_its_link(
    tmp_path: Path,
) -> None:
    """kevingrismore/cicd-example-workspaces (trial round 10 a 6): pydantic prints "For
    further information visit https://errors.pydantic.dev/…" after the exception, and that
    link was the one line the row showed."""
    from prefect_flow_deploy.core.model import FlowFolder
    from prefect_flow_deploy.docker.image_errors import worker_command_error

    printed = (
        'Traceback (most recent call last):\n  File "x.py", line 935, in _model_schema\n'
        "pydantic.errors.PydanticUndefinedAnnotation: name 'ResultRecordMetadata' is not "
        "defined\n\nFor further information visit https://errors.pydantic.dev/2.14/u/undefined"
    )
    error = worker_command_error(FlowFolder("p", "f", tmp_path), printed)
    first = error.message.splitlines()[0]
    assert first.endswith(
        "would crash: pydantic.errors.PydanticUndefinedAnnotation: name "
        "'ResultRecordMetadata' is not defined"
    )
    assert "https://errors.pydantic.dev/2.14/u/undefined" in error.message  # kept, below
