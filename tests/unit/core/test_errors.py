"""Fatal errors stop the run with an exit status of their own (the README's "Exit codes");
a folder's error carries where to look."""

from __future__ import annotations

from prefect_flow_deploy.core import errors
from prefect_flow_deploy.core.errors import (
    ConfigurationError,
    FatalError,
    FolderError,
    NoFlowFoldersError,
)


def fatal_errors() -> list[type[FatalError]]:
    found: list[type[FatalError]] = []
    todo: list[type[FatalError]] = [FatalError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo += kind.__subclasses__()
    return [k for k in found if k.__module__ == errors.__name__]


def test_each_cause_has_its_own_exit_status_and_title() -> None:
    kinds = [k for k in fatal_errors() if k is not NoFlowFoldersError]
    codes = {k.__name__: k.exit_code for k in kinds}
    assert sorted(codes.values()) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert len({k.title for k in fatal_errors()}) == len(fatal_errors())


def test_no_flow_folder_is_a_configuration_error() -> None:
    assert issubclass(NoFlowFoldersError, ConfigurationError)
    assert NoFlowFoldersError.exit_code == ConfigurationError.exit_code == 3
    assert str(NoFlowFoldersError("say what to do")) == "say what to do"


def test_a_folder_error_says_where_to_look_and_stops_nothing_else() -> None:
    error = FolderError("docker build failed", file="projects/a/b/Dockerfile", line=4)
    assert (error.message, error.file, error.line) == (
        "docker build failed", "projects/a/b/Dockerfile", 4,
    )  # fmt: skip
    assert str(error) == "docker build failed"
    assert not isinstance(error, FatalError)
    assert FolderError("x").file is None and FolderError("x").line is None
