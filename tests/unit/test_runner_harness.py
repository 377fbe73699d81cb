"""The action harness reads GITHUB_OUTPUT and translates paths as the GitHub runner does
(actions/runner src/Runner.Worker/FileCommandManager.cs, EnvFileKeyValuePairs, and
Container/ContainerInfo.cs, TranslateToContainerPath)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..action.runner import MOUNTED, _translate, parse_output_file


def test_name_value_and_heredoc_forms() -> None:
    text = "a=1\nb<<EOF_x\nline 1\nline=2\nEOF_x\n\nc=x<<y\nd<<E\nE\n"
    assert parse_output_file(text) == {"a": "1", "b": "line 1\nline=2", "c": "x<<y", "d": ""}


def test_a_carriage_return_stays_in_the_value_on_linux() -> None:
    assert parse_output_file("a=1\r\nb<<E\nx\r\nE\n") == {"a": "1\r", "b": "x\r"}
    # The delimiter line must be exactly the delimiter: `E\r` is not `E`.
    with pytest.raises(ValueError, match="Matching delimiter not found"):
        parse_output_file("b<<E\nx\r\nE\r\n")


def test_a_later_value_replaces_an_earlier_one() -> None:
    assert parse_output_file("a=1\na=2\n") == {"a": "2"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("<<E\nx\nE\n", "Name must not be empty"),
        ("a<<\nx\n", "delimiter must not be empty"),
        ("a<<E\nx\n", "Matching delimiter not found 'E'"),
        ("just text\n", "Invalid format 'just text'"),
    ],
)
def test_what_the_runner_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_output_file(text)


def test_host_paths_under_mounted_folders_are_translated(tmp_path: Path) -> None:
    mappings = {str(tmp_path / name): target for name, target in MOUNTED.items()}
    home = str(tmp_path / "_github_home")
    assert _translate(home + "/.docker", mappings) == "/github/home/.docker"
    assert _translate(home, mappings) == "/github/home"
    assert _translate(home + "x/.docker", mappings) == home + "x/.docker"  # not under it
    assert _translate(str(tmp_path), mappings) == str(tmp_path)  # RUNNER_TEMP keeps its path
