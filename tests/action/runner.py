"""A stand-in for the GitHub runner's handling of a Docker container action, following
shared/ACTION-RUNNER.md: build the image from the root Dockerfile, run it with the runner's
flags, mounts, environment and file-command files, then read GITHUB_OUTPUT the way the
runner parses it. The current runner by default (RUNNER_TEMP mounted at /github/runner_temp,
since v2.331.0), the older one as a mode (RUNNERS).

One deliberate difference: `--network host`. On GitHub the registry and Prefect are on the
internet; here they listen on the host's loopback, which only the host network reaches.
Not reproduced: job `services:` (their network), the runner's masking of secrets in the log,
the `::` commands' effects (the tests read the raw log instead), the 1 MB output limit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
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
    seconds_after_signal: float | None = None  # with `cancel`: from the signal to the exit

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def json(self, name: str) -> object:
        return json.loads(self.outputs[name])


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it (FileCommandManager.cs, EnvFileKeyValuePairs, on
    Linux): `name=value`, or `name<<DELIM`, the value's lines, `DELIM`; a line break is `\n`
    (a `\r` stays in the value); a later name replaces an earlier one."""
    outputs: dict[str, str] = {}
    index = 0

    def read_line() -> tuple[str | None, bool]:  # the line, and whether a `\n` ended it
        nonlocal index
        if index >= len(text):
            return None, False
        end = text.find("\n", index)
        line = text[index:] if end < 0 else text[index:end]
        index = len(text) if end < 0 else end + 1
        return line, end >= 0

    line, _ = read_line()
    while line is not None:
        equals, heredoc = line.find("="), line.find("<<")
        if not line:
            pass
        elif equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            outputs[name] = value
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise ValueError(
                    f"Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                )
            start = end = index
            value_line, ended = read_line()
            while value_line != delimiter:
                if value_line is None:
                    raise ValueError(f"Invalid value. Matching delimiter not found '{delimiter}'")
                if not ended:
                    raise ValueError("Invalid value. EOF marker missing new line.")
                end = index - 1
                value_line, ended = read_line()
            outputs[name] = text[start:end] if end > start else ""
        else:
            raise ValueError(f"Invalid format '{line}'")
        line, _ = read_line()
    return outputs


# The directories of the runner's temp folder that the container sees (ContainerActionHandler).
MOUNTED = {
    "_github_home": "/github/home",
    "_github_workflow": "/github/workflow",
    "_runner_file_commands": "/github/file_commands",
}
FILE_COMMANDS = ("set_output", "set_env", "add_path", "save_state", "step_summary")

# The runners reproduced (shared/ACTION-RUNNER.md, its RUNNER_TEMP correction):
# CURRENT, v2.331.0 and later (what GitHub-hosted runners run; v2.329.0-v2.330.x behind the
# flag actions_container_action_runner_temp): RUNNER_TEMP itself is mounted at
# /github/runner_temp and translated like the other mounted folders, so the container sees
# RUNNER_TEMP=/github/runner_temp (actions/runner@258d6c85
# src/Runner.Worker/Handlers/ContainerActionHandler.cs:193-204, mounts and path mappings;
# :255-258, every variable translated; PR #4011, commit 7f72ba9e4, then #4163, 04d77df0c, which
# removed the flag).
# OLD, before v2.329.0 (self-hosted and GHES runners that lag): RUNNER_TEMP is not mounted and
# keeps the host's path, which does not exist in the container.
CURRENT, OLD = "current", "old"
RUNNERS = (CURRENT, OLD)
RUNNER_TEMP = "/github/runner_temp"


def run_action(
    image: str,
    workspace: Path,
    temp: Path,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
    timeout: float = 600,
    debug: bool = False,
    runner: str = CURRENT,
    event: dict[str, object] | None = None,
    context: dict[str, str] | None = None,
    cancel: tuple[str, signal.Signals] | None = None,
) -> StepResult:
    """One step of a job running the action, as shared/ACTION-RUNNER.md describes the runner.

    `event` is the webhook payload the runner writes to GITHUB_EVENT_PATH, and `context` the
    run's GITHUB_* values that go with it (GITHUB_EVENT_NAME, GITHUB_SHA, GITHUB_API_URL…):
    the runner sets those, so they win over `env`.

    `temp` is the runner's RUNNER_TEMP on the host (`/home/runner/work/_temp` on GitHub). Its
    `_github_home`, `_github_workflow` and `_runner_file_commands` are mounted; `runner` says
    which runner: CURRENT (the default) also mounts `temp` itself at /github/runner_temp, OLD
    does not (see RUNNERS). `env` is the workflow's, job's and step's `env:`; every value
    that is a host path under a mounted directory, the runner's own RUNNER_TEMP included, is
    translated to the container's path, as the runner does
    (ContainerInfo.TranslateToContainerPath): `DOCKER_CONFIG=$RUNNER_TEMP/_github_home/.docker`
    arrives as /github/home/.docker on both, `$RUNNER_TEMP/x` as /github/runner_temp/x on
    CURRENT and as the (absent) host path on OLD.

    `cancel=(text, signal)` cancels the job as the runner does once `text` is in the log (and
    3 s more have passed): it signals the `docker run` process, whose signal proxy (on by
    default for an attached run) hands it to the entrypoint, PID 1 in the container.
    """
    temp.mkdir(parents=True, exist_ok=True)
    for directory in MOUNTED:
        (temp / directory).mkdir(exist_ok=True)
    commands = temp / "_runner_file_commands"
    # Created empty before the step (FileCommandManager.InitializeFiles), read after it.
    files = {kind: commands / f"{kind}_{uuid.uuid4()}" for kind in FILE_COMMANDS}
    for path in files.values():
        path.write_text("")
    (temp / "_github_workflow" / "event.json").write_text(
        json.dumps(event if event is not None else {"ref": "refs/heads/main"})
    )

    variables = step_environment(files, temp, workspace, env or {}, debug, runner)
    variables.update(context or {})
    # Every declared input is set: the `with:` value, else its default, else "".
    variables.update(
        {
            f"INPUT_{name.replace(' ', '_').upper()}": value
            for name, value in _declared_inputs(inputs).items()
        }
    )
    command = docker_run_command(image, workspace, temp, list(variables), runner)
    env = {**os.environ, **variables}
    if cancel is None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        code, stdout, stderr, after = done.returncode, done.stdout, done.stderr, None
    else:
        code, stdout, stderr, after = _cancelled_run(command, env, timeout, *cancel)
    written = "".join(path.read_text() for path in files.values())
    return StepResult(
        code,
        stdout,
        stderr,
        parse_output_file(files["set_output"].read_text()),
        files["step_summary"].read_text(),
        written,
        after,
    )


def _cancelled_run(
    command: list[str], env: dict[str, str], timeout: float, text: str, signum: signal.Signals
) -> tuple[int, str, str, float]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.extend(iter(process.stdout.readline, ""))),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.extend(iter(process.stderr.readline, ""))),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    limit = time.monotonic() + timeout
    while not any(text in line for line in out + err) and time.monotonic() < limit:
        if process.poll() is not None:
            break
        time.sleep(0.2)
    time.sleep(3)
    sent = time.monotonic()
    process.send_signal(signum)
    code = process.wait(timeout=60)
    after = time.monotonic() - sent
    for reader in readers:
        reader.join(timeout=10)
    return code, "".join(out), "".join(err), after


def path_mappings(temp: Path, workspace: Path, runner: str) -> dict[str, str]:
    """Host folder → the container's path, for the runner's translation of values."""
    assert runner in RUNNERS, runner
    mappings = {str(temp): RUNNER_TEMP} if runner == CURRENT else {}
    mappings.update({str(temp / name): target for name, target in MOUNTED.items()})
    mappings[str(workspace)] = "/github/workspace"  # the order of ContainerActionHandler.cs:200-204
    return mappings


def step_environment(
    files: dict[str, Path],
    temp: Path,
    workspace: Path,
    env: dict[str, str],
    debug: bool,
    runner: str = CURRENT,
) -> dict[str, str]:
    """The container's environment: the step's `env:` and the runner's variables, each value
    translated (ContainerActionHandler.cs:255-258 translates all of them alike)."""
    mappings = path_mappings(temp, workspace, runner)
    variables = {**env, **runner_variables(files, temp, workspace, debug)}
    return {name: translate(value, mappings) for name, value in variables.items()}


def docker_run_command(
    image: str, workspace: Path, temp: Path, variables: list[str], runner: str = CURRENT
) -> list[str]:
    """The runner's `docker run` line (ContainerActionHandler and DockerCommandManager); the
    mounts in the runner's order (ContainerActionHandler.cs:193-198)."""
    command = [DOCKER, "run", "--name", f"pfd-action-{uuid.uuid4().hex[:12]}"]
    command += ["--label", "pfd-action-test", "--workdir", "/github/workspace", "--rm"]
    for key in variables:
        command += ["-e", key]  # values pass through the environment, as the runner does
    command += ["-e", "GITHUB_ACTIONS=true", "-e", "CI=true"]
    # The one deviation: on GitHub the registry and Prefect are remote; here they listen on
    # the host's loopback, which only the host network reaches.
    command += ["--network", "host"]
    command += ["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    assert runner in RUNNERS, runner
    if runner == CURRENT:
        command += ["-v", f"{temp}:{RUNNER_TEMP}"]
    for name, target in MOUNTED.items():
        command += ["-v", f"{temp / name}:{target}"]
    return [*command, "-v", f"{workspace}:/github/workspace", image]


def translate(value: str, mappings: dict[str, str]) -> str:
    """ContainerInfo.TranslateToContainerPath: a host path equal to, or under, a mapped
    folder. `mappings` in the order the runner adds them; each is inserted at the front
    (ContainerInfo.cs:248-251), so the last added is tried first."""
    for host, container in reversed(list(mappings.items())):
        if value == host or value.startswith(host + "/"):
            return container + value[len(host) :]
    return value


def runner_variables(
    files: dict[str, Path], temp: Path, workspace: Path, debug: bool
) -> dict[str, str]:
    """What the runner sets for every step (ACTION-RUNNER.md, "Environment inside the
    container"), as host paths: step_environment translates them (RUNNER_TEMP becomes
    /github/runner_temp on the current runner; RUNNER_WORKSPACE and RUNNER_TOOL_CACHE are
    under no mounted folder and keep the host's paths)."""
    variables = {
        "HOME": "/github/home",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
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
        # The runner's value is https://api.github.com, which must not be reached from
        # here: tests of the GitHub API pass the fake's URL (tests/github_fake.py); the rest
        # get a closed loopback port, so a GitHub call fails at once, as an outage would.
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_BASE_REF": "",
        "GITHUB_HEAD_REF": "",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(temp),
        "RUNNER_WORKSPACE": str(workspace.parent),
        "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
    }
    if debug:
        variables["RUNNER_DEBUG"] = "1"
    return variables


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
