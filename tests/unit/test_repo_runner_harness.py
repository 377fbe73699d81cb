"""The action harness reads GITHUB_OUTPUT and translates paths as the GitHub runner does
(actions/runner src/Runner.Worker/FileCommandManager.cs, EnvFileKeyValuePairs, and
Container/ContainerInfo.cs, TranslateToContainerPath)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..action.runner import (
    FILE_COMMANDS,
    MOUNTED,
    docker_run_command,
    parse_output_file,
    runner_variables,
    translate,
)


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
    assert translate(home + "/.docker", mappings) == "/github/home/.docker"
    assert translate(home, mappings) == "/github/home"
    assert translate(home + "x/.docker", mappings) == home + "x/.docker"  # not under it
    assert translate(str(tmp_path), mappings) == str(tmp_path)  # RUNNER_TEMP keeps its path


def mounts(command: list[str]) -> list[str]:
    return [command[i + 1] for i, flag in enumerate(command) if flag == "-v"]


def test_exactly_the_runners_mounts(tmp_path: Path) -> None:
    """ACTION-RUNNER.md: the socket, _github_home, _github_workflow, _runner_file_commands and
    the workspace; RUNNER_TEMP itself is not mounted (there is no /github/runner_temp)."""
    workspace, temp = tmp_path / "work", tmp_path / "_temp"
    command = docker_run_command("img", workspace, temp, ["HOME"], mount_runner_temp=False)
    assert mounts(command) == [
        "/var/run/docker.sock:/var/run/docker.sock",
        f"{temp}/_github_home:/github/home",
        f"{temp}/_github_workflow:/github/workflow",
        f"{temp}/_runner_file_commands:/github/file_commands",
        f"{workspace}:/github/workspace",
    ]
    assert command[-1] == "img" and "-t" not in command and "-i" not in command
    assert (
        "--user" not in command and command[command.index("--workdir") + 1] == "/github/workspace"
    )
    newer = docker_run_command("img", workspace, temp, [], mount_runner_temp=True)
    assert f"{temp}:/github/runner_temp" in mounts(newer)


def test_the_runners_environment(tmp_path: Path) -> None:
    files = {kind: tmp_path / f"{kind}_x" for kind in FILE_COMMANDS}
    variables = runner_variables(files, tmp_path / "_temp", tmp_path / "w" / "repo", debug=True)
    assert variables["RUNNER_TEMP"] == str(tmp_path / "_temp")  # the host's path
    assert variables["RUNNER_WORKSPACE"] == str(tmp_path / "w")
    assert variables["HOME"] == "/github/home" and variables["RUNNER_DEBUG"] == "1"
    assert variables["GITHUB_OUTPUT"] == "/github/file_commands/set_output_x"
    listed = "SHA REF REF_NAME EVENT_NAME REPOSITORY RUN_ID RUN_ATTEMPT SERVER_URL API_URL ACTOR"
    assert {f"GITHUB_{name}" for name in listed.split()} <= set(variables)
    assert "GITHUB_TOKEN" not in variables  # the runner does not set it: an input
