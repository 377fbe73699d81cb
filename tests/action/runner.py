"""A stand-in for the GitHub runner's handling of a Docker container action, following
shared/ACTION-RUNNER.md: build the image from the root Dockerfile, run it with the runner's
flags, mounts, environment and file-command files, then read GITHUB_OUTPUT the way the
runner parses it.

One deliberate difference: `--network host`. On GitHub the registry and Prefect are on the
internet; here they listen on the host's loopback, which only the host network reaches.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

DOCKER = "/usr/bin/docker"
GITHUB_TOKEN = "ghs_FakeWorkflowToken0123456789"
ROOT = Path(__file__).resolve().parents[2]


def build_action_image() -> str:
    """The runner builds the action's Dockerfile once per job (here: on the stand-in base)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "action-image.sh")], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the action image failed:\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def make_workspace(path: Path, projects: Path) -> Path:
    """A checkout: a git repository holding the flow folders under projects/."""
    import shutil

    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(projects, path / "projects")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "-C", str(path), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(path), "commit", "-qm", "flows"], check=True)
    return path


@dataclass
class StepResult:
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    files_written: str  # everything the step wrote to the file-command files

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def json(self, name: str) -> object:
        return json.loads(self.outputs[name])


def parse_output_file(text: str) -> dict[str, str]:
    """The runner's FileCommandManager: `name=value` or `name<<DELIM` … `DELIM`."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc != -1 and (equals == -1 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            value: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"unterminated {name}<<{delimiter}")
            index += 1
            outputs[name] = "\n".join(value)
        elif equals != -1:
            outputs[line[:equals]] = line[equals + 1 :]
        else:
            raise ValueError(f"invalid output line {line!r}")
    return outputs


def run_action(
    image: str,
    workspace: Path,
    temp: Path,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> StepResult:
    temp.mkdir(parents=True, exist_ok=True)
    dirs = {
        name: temp / name
        for name in ("_temp", "_github_home", "_github_workflow", "_runner_file_commands")
    }
    for directory in dirs.values():
        directory.mkdir(exist_ok=True)
    commands = dirs["_runner_file_commands"]
    files = {}
    for kind in ("set_output", "set_env", "add_path", "save_state", "step_summary"):
        files[kind] = commands / f"{kind}_{uuid.uuid4()}"
        files[kind].write_text("")
    (dirs["_github_workflow"] / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}))

    variables = {
        "HOME": "/github/home",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "RUNNER_TEMP": "/github/runner_temp",
        "GITHUB_OUTPUT": f"/github/file_commands/{files['set_output'].name}",
        "GITHUB_ENV": f"/github/file_commands/{files['set_env'].name}",
        "GITHUB_PATH": f"/github/file_commands/{files['add_path'].name}",
        "GITHUB_STATE": f"/github/file_commands/{files['save_state'].name}",
        "GITHUB_STEP_SUMMARY": f"/github/file_commands/{files['step_summary'].name}",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REPOSITORY": "acme/flows",
        "GITHUB_REPOSITORY_OWNER": "acme",
        "GITHUB_RUN_ID": "1",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_BASE_REF": "",
        "GITHUB_HEAD_REF": "",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "GITHUB_ACTIONS": "true",
        "CI": "true",
    }
    # Every declared input is set: the `with:` value, else its default, else "".
    variables.update(
        {
            f"INPUT_{name.replace(' ', '_').upper()}": value
            for name, value in _declared_inputs(inputs).items()
        }
    )
    variables.update(env or {})
    name = f"pfd-action-{uuid.uuid4().hex[:12]}"
    command = [
        DOCKER,
        "run",
        "--name",
        name,
        "--label",
        "pfd-action-test",
        "--workdir",
        "/github/workspace",
        "--rm",
    ]
    for key in variables:
        command += ["-e", key]  # values pass through the environment, as the runner does
    command += ["--network", "host"]
    command += [
        "-v", "/var/run/docker.sock:/var/run/docker.sock",
        "-v", f"{dirs['_temp']}:/github/runner_temp",
        "-v", f"{dirs['_github_home']}:/github/home",
        "-v", f"{dirs['_github_workflow']}:/github/workflow",
        "-v", f"{commands}:/github/file_commands",
        "-v", f"{workspace}:/github/workspace",
        image,
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **variables}
    )
    written = "".join(path.read_text() for path in files.values())
    return StepResult(
        done.returncode,
        done.stdout,
        done.stderr,
        parse_output_file(files["set_output"].read_text()),
        files["step_summary"].read_text(),
        written,
    )


def _declared_inputs(given: dict[str, str]) -> dict[str, str]:
    import yaml

    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"not inputs of action.yml: {sorted(unknown)}")

    def default(spec: dict[str, object]) -> str:
        value = spec.get("default", "")
        if value == "${{ github.token }}":
            return GITHUB_TOKEN  # the runner evaluates the expression (and masks the token)
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {name: given.get(name, default(spec)) for name, spec in declared.items()}
