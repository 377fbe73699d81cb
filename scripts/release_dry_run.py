#!/usr/bin/env python3
"""Run the release workflow (.github/workflows/release.yml) on this machine: a bare repository
as `origin`, a registry on loopback as GHCR, the workflow's steps in order.

    .venv/bin/python scripts/release_dry_run.py [--version v1.2.3] [--registry 127.0.0.1:5000]
        [--kind signed|annotated|lightweight] [--keep]      # the project's venv: it reads YAML

Needs Docker, a registry that takes anonymous pushes (scripts/stack.sh up starts one at
127.0.0.1:5000) and a Prefect server at 127.0.0.1:4200 (the same). It makes a repository of
this checkout's files (the working tree, committed), tags it (a gpg-signed tag by default,
with a throw-away key), pushes to the bare `origin`, and runs the job as the runner would:

- every `run:` step is the workflow's own text, `${{ }}` evaluated, run by `bash --noprofile
  --norc -e -o pipefail` in the checkout, with the step's and the job's `env:` and what the
  runner sets (GITHUB_*, RUNNER_TEMP, a GITHUB_OUTPUT file read back into `steps.<id>.outputs`);
  `if:` evaluated (a failed step skips the rest, as `success()` does);
- the `uses:` steps, which need github.com, are replaced by what they do, with the docker CLI:
  actions/checkout: `git fetch --depth=1 origin <sha>`, detached (the workflow asks for
  `ref: github.sha`); docker/setup-qemu-action: nothing (only linux/amd64 is built here:
  PLATFORMS=linux/amd64); docker/setup-buildx-action: the buildx plugin copied from the action
  image (Debian's docker-buildx) into the runner's ~/.docker/cli-plugins; docker/login-action:
  nothing (the loopback registry takes anonymous pushes); docker/build-push-action:
  scripts/action-image.sh (the Dockerfile on the stand-in base: python:3.12-slim-trixie cannot
  be pulled here, nor can OCI labels be set through it), `docker push` of that one platform,
  then `docker buildx imagetools create` of an index tagged with the workflow's tags (what a
  multi-platform build pushes: an index), whose digest is the step's `digest` output;
- two steps are not run: "A Prefect server for the dry runs" (`docker run
  prefecthq/prefect:…` cannot be pulled here; the stack's server answers on the same
  127.0.0.1:4200), and "GitHub Release" (`gh` and the GitHub API).

REGISTRY, PLATFORMS and the smoke test's base image (PFD_SMOKE_BASE_IMAGE) are the only values
changed from the workflow's; GITHUB_REPOSITORY names a fresh repository path in the registry.
It ends by checking that the tag's action.yml runs an image by digest that the registry has,
pulls without credentials and starts. tests/integration/test_release_dry_run.py runs it
(attempt 1 stopped by a tag moved meanwhile, attempt 2 reusing the image, attempt 3 a re-run
of a released tag).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
DOCKER = "/usr/bin/docker"  # Debian's client: BuildKit built in (ENVIRONMENT.md)
NOT_RUN = {
    "A Prefect server for the dry runs": "the stack's Prefect server answers on 127.0.0.1:4200",
    "GitHub Release": "needs the GitHub API (gh release)",
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.com",
    "GIT_COMMITTER_NAME": "Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run(
    command: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV, **(env or {})}).strip()


# --- the repository ---------------------------------------------------------------------------


@dataclass
class Origin:
    path: Path  # the bare repository
    clone: Path  # the maintainer's
    sha: str  # the tagged commit (GITHUB_SHA)
    version: str


@contextmanager
def signing_key() -> Iterator[dict[str, str]]:
    """A throw-away gpg key without passphrase, in a GNUPGHOME short enough for the agent's
    socket; the agent is stopped and the folder removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="pfd-gpg-", dir="/tmp"))
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        run(
            ["gpg", "--batch", "--passphrase", "", "--quick-generate-key",
             f"Maintainer <{GIT_ENV['GIT_COMMITTER_EMAIL']}>", "ed25519", "sign", "never"],
            env=env,
        )  # fmt: skip
        yield {"GNUPGHOME": str(home)}
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def make_origin(workdir: Path, version: str, kind: str = "signed") -> Origin:
    """A bare `origin` holding this checkout's files (committed as they are now) on main, and
    the release tag pushed: `kind` is signed (git tag -s), annotated or lightweight."""
    origin, clone = workdir / "origin.git", workdir / "maintainer"
    git(workdir, "init", "-q", "--bare", str(origin))
    git(workdir, "init", "-q", "-b", "main", str(clone))
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT)
    for name in filter(None, files.split("\0")):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "the action, as this checkout has it")
    git(clone, "remote", "add", "origin", str(origin))
    git(clone, "push", "-q", "origin", "main")
    sha = git(clone, "rev-parse", "HEAD")
    if kind == "signed":
        with signing_key() as gpg:
            git(clone, "tag", "-s", "-m", f"Release {version}", version, env=gpg)
    elif kind == "annotated":
        git(clone, "tag", "-a", "-m", f"Release {version}", version)
    else:
        git(clone, "tag", version)
    git(clone, "push", "-q", "origin", f"refs/tags/{version}")
    return Origin(origin, clone, sha, version)


# --- expressions ------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<s>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||\(|\))|(?P<w>[\w.\-\[\]]+))")


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The expression forms release.yml uses: context paths (`steps.x.outputs.y`, `github.sha`,
    `env.X`), string literals, `==` and `!=` (case-insensitive, as GitHub compares strings),
    `&&` and `||` (the value of the deciding operand), parentheses, success(), always(),
    failure(). A missing property is null (`''` in text)."""
    tokens = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read {expression!r} at {text[position:]!r}")
        position = match.end()
        tokens.append(match)
    index = 0

    def peek() -> str | None:
        return tokens[index].group("op") if index < len(tokens) else None

    def value() -> Any:
        nonlocal index
        token = tokens[index]
        index += 1
        if token.group("op") == "(":
            inner = either()
            assert peek() == ")", expression
            index += 1
            return inner
        if token.group("s"):
            return token.group("s")[1:-1].replace("''", "'")
        word = token.group("w")
        if word in ("success", "always", "failure", "cancelled") and peek() == "(":
            index += 2  # `(` `)`
            failed = context["job"]["failed"]
            return {"success": not failed, "always": True, "failure": failed, "cancelled": False}[
                word
            ]
        if word in ("true", "false"):
            return word == "true"
        found: Any = context
        for part in word.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return found

    def truthy(v: Any) -> bool:
        return v not in (None, "", False, 0)

    def comparison() -> Any:
        nonlocal index
        left = value()
        if peek() in ("==", "!="):
            op = peek()
            index += 1
            right = value()
            equal = (
                str(left if left is not None else "").lower()
                == str(right if right is not None else "").lower()
            )
            return equal if op == "==" else not equal
        return left

    def both() -> Any:
        nonlocal index
        left = comparison()
        while peek() == "&&":
            index += 1
            right = comparison()
            left = right if truthy(left) else left
        return left

    def either() -> Any:
        nonlocal index
        left = both()
        while peek() == "||":
            index += 1
            right = both()
            left = left if truthy(left) else right
        return left

    result = either()
    assert index == len(tokens), f"cannot read {expression!r}"
    return result


def substitute(value: object, context: dict[str, Any]) -> str:
    """A `with:`, `env:` or `run:` value as the runner passes it: booleans as `true`/`false`,
    each `${{ }}` replaced by its value."""
    text = str(value).lower() if isinstance(value, bool) else str(value)

    def one(match: re.Match[str]) -> str:
        found = evaluate(match.group(1), context)
        if isinstance(found, bool):
            return str(found).lower()
        return "" if found is None else str(found)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text, flags=re.S)


def condition(step: dict[str, Any], context: dict[str, Any]) -> bool:
    """`if:` (with or without `${{ }}`); without a status function it is `success() && …`."""
    raw = str(step.get("if", "success()")).strip()
    raw = raw[3:-2] if raw.startswith("${{") and raw.endswith("}}") else raw
    if not re.search(r"\b(success|always|failure|cancelled)\(\)", raw):
        raw = f"success() && ({raw})"
    return evaluate(raw, context) not in (None, "", False, 0)


# --- the job ----------------------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    status: str  # success, failure, skipped, not run
    how: str  # "run", or what replaced the action
    log: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Attempt:
    steps: list[StepRun]

    @property
    def ok(self) -> bool:
        return all(s.status != "failure" for s in self.steps)

    def step(self, text: str) -> StepRun:
        return next(s for s in self.steps if text in s.name)

    def describe(self) -> str:
        return "\n".join(f"  {s.status:8} {s.name} ({s.how})" for s in self.steps)


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT: `name=value` lines, or `name<<DELIM` … `DELIM`."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            outputs[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclass
class DryRun:
    """One machine's stand-in for GitHub: the origin, the registry, the runner's folders."""

    origin: Origin
    workdir: Path
    registry: str = "127.0.0.1:5000"
    repository: str = field(
        default_factory=lambda: f"pfd-dry-run-{uuid.uuid4().hex[:8]}/prefect-flow-deploy"
    )
    smoke_base_image: str = os.environ.get("PFD_BASE_IMAGE", "")
    attempts: int = 0

    @property
    def image(self) -> str:
        return f"{self.registry}/{self.repository.lower()}"

    def run_attempt(self, before_step: Callable[[str], None] | None = None) -> Attempt:
        """One run (attempt) of the job, from a fresh runner (workspace, temp, home)."""
        self.attempts += 1
        spec = yaml.safe_load(WORKFLOW.read_text())
        job = spec["jobs"]["release"]
        base = self.workdir / f"attempt-{self.attempts}"
        workspace, temp, home = base / "work" / "repo", base / "_temp", base / "home"
        for folder in (workspace, temp, home):
            folder.mkdir(parents=True)
        github = {
            "ref_name": self.origin.version,
            "ref": f"refs/tags/{self.origin.version}",
            "sha": self.origin.sha,
            "repository": self.repository,
            "repository_owner": self.repository.split("/")[0],
            "actor": "maintainer",
            "server_url": "https://github.com",
            "token": "ghs_dry-run-token",
            "run_attempt": str(self.attempts),
            "event": {"repository": {"name": self.repository.split("/")[1]}},
        }
        context: dict[str, Any] = {
            "github": github,
            "secrets": {"GITHUB_TOKEN": github["token"]},
            "steps": {},
            "job": {"failed": False},
            "env": {},
        }
        job_env = {
            **{k: substitute(v, context) for k, v in (spec.get("env") or {}).items()},
            **{k: substitute(v, context) for k, v in (job.get("env") or {}).items()},
            # What this machine differs in (see the module's doc).
            "REGISTRY": self.registry,
            "PLATFORMS": "linux/amd64",
        }
        context["env"] = job_env
        runner_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_SHA": self.origin.sha,
            "GITHUB_REF": github["ref"],
            "GITHUB_REF_NAME": github["ref_name"],
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
            "GITHUB_ACTOR": github["actor"],
            "GITHUB_RUN_ATTEMPT": github["run_attempt"],
            "GITHUB_SERVER_URL": github["server_url"],
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux",
            "PFD_SMOKE_BASE_IMAGE": self.smoke_base_image,
        }
        results = []
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {number}"
            if before_step:
                before_step(name)
            if name in NOT_RUN:
                results.append(StepRun(name, "not run", NOT_RUN[name]))
                continue
            if not condition(step, context):
                results.append(StepRun(name, "skipped", "if: false"))
                continue
            output = temp / f"set_output_{uuid.uuid4()}"
            output.write_text("")
            env = {
                **runner_env,
                **job_env,
                **{k: substitute(v, context) for k, v in (step.get("env") or {}).items()},
                "GITHUB_OUTPUT": str(output),
            }
            with_ = {k: substitute(v, context) for k, v in (step.get("with") or {}).items()}
            if "run" in step:
                how, code, log = (
                    "run",
                    *self.shell(substitute(step["run"], context), env, workspace),
                )
            else:
                how, code, log = self.replace_action(
                    step["uses"], with_, env, workspace, home, output
                )
            result = StepRun(
                name, "success" if code == 0 else "failure", how, log, read_outputs(output)
            )
            results.append(result)
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": result.outputs}
            if code != 0:
                context["job"]["failed"] = True
        return Attempt(results)

    def shell(self, script: str, env: dict[str, str], workspace: Path) -> tuple[int, str]:
        """As the runner runs a `run:` step with `shell: bash`: the script in a file, then
        `bash --noprofile --norc -e -o pipefail FILE` in the workspace."""
        path = Path(env["RUNNER_TEMP"]) / f"{uuid.uuid4()}.sh"
        path.write_text(script)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(path)],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    def replace_action(
        self,
        uses: str,
        given: dict[str, str],
        env: dict[str, str],
        workspace: Path,
        home: Path,
        output: Path,
    ) -> tuple[str, int, str]:
        action = uses.split("@")[0]
        try:
            if action == "actions/checkout":
                assert given.get("ref") == self.origin.sha, given  # ref: github.sha
                git(workspace, "init", "-q")
                git(workspace, "remote", "add", "origin", str(self.origin.path))
                git(workspace, "fetch", "-q", "--no-tags", "--depth=1", "origin", given["ref"])
                git(workspace, "checkout", "-q", "--detach", given["ref"])
                return "git fetch --depth=1 origin <sha>; git checkout --detach", 0, ""
            if action == "docker/setup-qemu-action":
                return "not needed: only linux/amd64 is built here", 0, ""
            if action == "docker/setup-buildx-action":
                image = self.build_action_image(workspace)
                plugins = home / ".docker" / "cli-plugins"
                plugins.mkdir(parents=True, exist_ok=True)
                container = run([DOCKER, "create", image]).strip()
                try:
                    run([DOCKER, "cp", f"{container}:/usr/libexec/docker/cli-plugins/docker-buildx",
                         str(plugins / "docker-buildx")])  # fmt: skip
                finally:
                    run([DOCKER, "rm", container])
                return "the buildx plugin from the action image, in ~/.docker/cli-plugins", 0, ""
            if action == "docker/login-action":
                return "not needed: the loopback registry takes anonymous pushes", 0, ""
            if action == "docker/build-push-action":
                return self.build_and_push(given, env, workspace, output)
        except (RuntimeError, AssertionError, subprocess.TimeoutExpired) as error:
            return f"{action}: failed", 1, str(error)
        raise ValueError(f"no stand-in for {uses}")

    def build_action_image(self, workspace: Path) -> str:
        """scripts/action-image.sh of the checkout: its Dockerfile, on the stand-in base."""
        tag = f"{self.image}:build-{self.origin.sha[:12]}"
        built = run(["bash", str(workspace / "scripts" / "action-image.sh"), tag], timeout=1800)
        return built.strip().splitlines()[-1]

    def build_and_push(
        self, given: dict[str, str], env: dict[str, str], workspace: Path, output: Path
    ) -> tuple[str, int, str]:
        assert given["push"] == "true" and given["context"] == ".", given
        tags = given["tags"].split()
        built = self.build_action_image(workspace)
        platform_tag = f"{self.image}:build-{self.origin.sha[:12]}-linux-amd64"
        run([DOCKER, "tag", built, platform_tag])
        run([DOCKER, "push", platform_tag], timeout=900)
        docker_env = {**os.environ, "HOME": env["HOME"]}
        command = ["docker", "buildx", "imagetools", "create"]
        for tag in tags:
            command += ["--tag", tag]
        log = run([*command, platform_tag], env=docker_env)
        digest = manifest_digest(tags[0], docker_env)
        with output.open("a") as file:
            file.write(f"digest={digest}\n")
        how = "scripts/action-image.sh, docker push, buildx imagetools create (an index)"
        return how, 0, log


def manifest_digest(reference: str, env: dict[str, str]) -> str:
    shown = run(
        ["docker", "buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", reference],
        env=env,
    )
    digest = json.loads(shown)["digest"]
    assert isinstance(digest, str)
    return digest


# --- the result -------------------------------------------------------------------------------


@dataclass
class Released:
    commit: str
    image: str  # IMAGE@sha256:…
    floating: dict[str, str]  # tag → commit


def released(dry_run: DryRun) -> Released:
    """What origin holds once the release is done: the tag's commit, the image its action.yml
    runs, where the floating tags point."""
    origin = dry_run.origin.path
    version = dry_run.origin.version
    commit = git(origin, "rev-parse", f"refs/tags/{version}^{{commit}}")
    action = git(origin, "show", f"{commit}:action.yml")
    match = re.search(r"^  image: docker://(\S+)$", action, re.M)
    if not match:
        raise RuntimeError(f"{version}'s action.yml does not run an image:\n{action}")
    tags = git(origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags")
    floating = {}
    for line in tags.splitlines():
        name, _ = line.split()
        if re.fullmatch(r"v\d+(\.\d+)?", name):
            floating[name] = git(origin, "rev-parse", f"refs/tags/{name}^{{commit}}")
    return Released(commit, match.group(1), floating)


def check_image(reference: str, smoke_base_image: str) -> str:
    """The registry has it (by digest), it pulls without credentials, and it starts and
    answers a dry run as the runner runs it (scripts/smoke-action-image.sh)."""
    repository, digest = reference.split("@")
    host, name = repository.split("/", 1)
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{digest}",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.index.v1+json, "
                 "application/vnd.docker.distribution.manifest.list.v2+json, "
                 "application/vnd.docker.distribution.manifest.v2+json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.headers["Docker-Content-Digest"] == digest
    with tempfile.TemporaryDirectory() as anonymous:
        env = {
            **os.environ,
            "DOCKER_CONFIG": anonymous,
            "PREFECT_API_URL": "http://127.0.0.1:4200/api",
            "PFD_SMOKE_BASE_IMAGE": smoke_base_image,
        }
        if image_is_local(reference):  # pulled from the registry, not the local build
            run([DOCKER, "rmi", reference], env=env)
        run([DOCKER, "pull", reference], env=env, timeout=600)
        smoke = ROOT / "scripts" / "smoke-action-image.sh"
        return run(["bash", str(smoke), reference, "linux/amd64"], env=env, timeout=600)


def image_is_local(reference: str) -> bool:
    done = subprocess.run([DOCKER, "image", "inspect", reference], capture_output=True)
    return done.returncode == 0


def delete_from_registry(dry_run: DryRun) -> None:
    """Deletes every manifest of the dry run's repository path (the registry has delete on),
    and its local tags."""
    host, name = dry_run.image.split("/", 1)
    accept = ("application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution."
              "manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json")  # fmt: skip
    try:
        with urllib.request.urlopen(f"http://{host}/v2/{name}/tags/list", timeout=30) as answer:
            tags = json.load(answer).get("tags") or []
    except OSError:
        tags = []  # nothing was pushed
    digests = set()
    for tag in tags:
        request = urllib.request.Request(
            f"http://{host}/v2/{name}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            digests.add(answer.headers["Docker-Content-Digest"])
    for digest in digests:
        request = urllib.request.Request(
            f"http://{host}/v2/{name}/manifests/{digest}", method="DELETE"
        )
        with contextlib.suppress(OSError):  # already gone with another tag
            urllib.request.urlopen(request, timeout=30).close()
    images = run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", dry_run.image])
    for image in images.split():
        subprocess.run([DOCKER, "rmi", image], capture_output=True)
    for image in run(
        [DOCKER, "images", "--digests", "--format", "{{.Repository}}@{{.Digest}}", dry_run.image]
    ).split():
        subprocess.run([DOCKER, "rmi", image], capture_output=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="v1.2.3")
    parser.add_argument("--kind", choices=["signed", "annotated", "lightweight"], default="signed")
    parser.add_argument("--registry", default="127.0.0.1:5000")
    parser.add_argument("--keep", action="store_true", help="keep the folder and the images")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="pfd-release-dry-run-"))
    start = time.monotonic()
    dry_run = DryRun(make_origin(workdir, args.version, args.kind), workdir, args.registry)
    try:
        attempt = dry_run.run_attempt()
        print(f"{args.version} ({args.kind} tag) released in {time.monotonic() - start:.0f} s:")
        print(attempt.describe())
        if not attempt.ok:
            failed = next(s for s in attempt.steps if s.status == "failure")
            print(f"\n{failed.name} failed:\n{failed.log}", file=sys.stderr)
            return 1
        result = released(dry_run)
        print(f"{args.version} → {result.commit}, action.yml runs {result.image}")
        print(f"floating tags: {result.floating}")
        print(check_image(result.image, dry_run.smoke_base_image).strip())
        print("the image is in the registry, pulls without credentials and starts")
        return 0
    finally:
        if args.keep:
            print(f"kept {workdir} and {dry_run.image}")
        else:
            delete_from_registry(dry_run)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
