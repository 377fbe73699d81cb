"""The action harness reads GITHUB_OUTPUT, mounts and translates paths as the GitHub runner
does (actions/runner@258d6c85 src/Runner.Worker/FileCommandManager.cs, EnvFileKeyValuePairs;
Container/ContainerInfo.cs, TranslateToContainerPath; Handlers/ContainerActionHandler.cs), for
the current runner (v2.331.0 on: RUNNER_TEMP mounted at /github/runner_temp) by default and
for the older one as a mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..action.runner import (
    CURRENT,
    FILE_COMMANDS,
    MOUNTED,
    OLD,
    docker_run_command,
    parse_output_file,
    path_mappings,
    step_environment,
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


def test_runner_temp_is_translated_only_on_the_current_runner(tmp_path: Path) -> None:
    """ContainerActionHandler.cs:200-204 adds RUNNER_TEMP's mapping first, so the folders
    under it, added later and tried first, keep their own (`_github_home` → /github/home)."""
    temp, workspace = tmp_path / "_temp", tmp_path / "w" / "repo"
    current, old = path_mappings(temp, workspace, CURRENT), path_mappings(temp, workspace, OLD)
    assert translate(f"{temp}/x/config.json", current) == "/github/runner_temp/x/config.json"
    assert translate(str(temp), current) == "/github/runner_temp"
    assert translate(f"{temp}/_github_home/.docker", current) == "/github/home/.docker"
    assert translate(f"{temp}/x/config.json", old) == f"{temp}/x/config.json"  # not mounted
    assert translate(f"{temp}/_github_home/.docker", old) == "/github/home/.docker"
    assert translate(f"{workspace}/projects", current) == "/github/workspace/projects"


def mounts(command: list[str]) -> list[str]:
    return [command[i + 1] for i, flag in enumerate(command) if flag == "-v"]


def test_exactly_the_current_runners_mounts_in_its_order(tmp_path: Path) -> None:
    """ContainerActionHandler.cs:193-198: the socket, RUNNER_TEMP as /github/runner_temp,
    _github_home, _github_workflow, _runner_file_commands and the workspace."""
    workspace, temp = tmp_path / "work", tmp_path / "_temp"
    command = docker_run_command("img", workspace, temp, ["HOME"])  # the default: current
    assert mounts(command) == [
        "/var/run/docker.sock:/var/run/docker.sock",
        f"{temp}:/github/runner_temp",
        f"{temp}/_github_home:/github/home",
        f"{temp}/_github_workflow:/github/workflow",
        f"{temp}/_runner_file_commands:/github/file_commands",
        f"{workspace}:/github/workspace",
    ]
    assert command[-1] == "img" and "-t" not in command and "-i" not in command
    assert (
        "--user" not in command and command[command.index("--workdir") + 1] == "/github/workspace"
    )


def test_the_old_runner_does_not_mount_runner_temp(tmp_path: Path) -> None:
    """Before v2.329.0 (and v2.329-v2.330 without the flag): no /github/runner_temp."""
    workspace, temp = tmp_path / "work", tmp_path / "_temp"
    current = mounts(docker_run_command("img", workspace, temp, [], CURRENT))
    old = mounts(docker_run_command("img", workspace, temp, [], OLD))
    assert old == [m for m in current if not m.endswith(":/github/runner_temp")]
    assert len(old) == len(current) - 1


def files_in(tmp_path: Path) -> dict[str, Path]:
    return {kind: tmp_path / f"{kind}_x" for kind in FILE_COMMANDS}


def test_the_current_runners_environment(tmp_path: Path) -> None:
    temp, workspace = tmp_path / "_temp", tmp_path / "w" / "repo"
    env = {"DOCKER_CONFIG": f"{temp}/_github_home/.docker", "LOGIN": f"{temp}/login"}
    variables = step_environment(files_in(tmp_path), temp, workspace, env, debug=True)
    assert variables["RUNNER_TEMP"] == "/github/runner_temp"
    assert variables["LOGIN"] == "/github/runner_temp/login"
    assert variables["DOCKER_CONFIG"] == "/github/home/.docker"
    assert variables["RUNNER_WORKSPACE"] == str(tmp_path / "w")  # under no mounted folder
    assert variables["HOME"] == "/github/home" and variables["RUNNER_DEBUG"] == "1"
    assert variables["GITHUB_WORKSPACE"] == "/github/workspace"
    assert variables["GITHUB_OUTPUT"] == "/github/file_commands/set_output_x"
    listed = "SHA REF REF_NAME EVENT_NAME REPOSITORY RUN_ID RUN_ATTEMPT SERVER_URL API_URL ACTOR"
    assert {f"GITHUB_{name}" for name in listed.split()} <= set(variables)
    assert "GITHUB_TOKEN" not in variables  # the runner does not set it: an input


def test_the_old_runners_environment(tmp_path: Path) -> None:
    temp, workspace = tmp_path / "_temp", tmp_path / "w" / "repo"
    env = {"DOCKER_CONFIG": f"{temp}/_github_home/.docker", "LOGIN": f"{temp}/login"}
    variables = step_environment(files_in(tmp_path), temp, workspace, env, False, OLD)
    assert variables["RUNNER_TEMP"] == str(temp)  # the host's path
    assert variables["LOGIN"] == f"{temp}/login"  # a path the container does not have
    assert variables["DOCKER_CONFIG"] == "/github/home/.docker"  # the recipe works on both
