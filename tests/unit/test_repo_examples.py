"""The example workflows (examples/workflows/) and the tenant file beside them
(examples/prefect-flow-deploy.yaml), read as a user who copies them would meet them on
GitHub: valid (actionlint, and shellcheck on every `run:`), third-party actions pinned by
commit SHA, and free of traps. Each action step is resolved by the action's own code
(`options_from_inputs`, fed `INPUT_*` as the runner would, the file as the workspace's
prefect-flow-deploy.yaml) for every tenant it may deploy, and then:

- one tenant is one Prefect key and one registry, in every workflow;
- a job that reaches a private registry logs in to it first;
- a job outlives the action's deadline by a margin (at the deadline the action stops its
  builds and reports; a job killed first reports nothing);
- pull requests that get no secrets (a fork's, Dependabot's) skip with a notice;
- every workflow that deploys prunes, or says in a comment why not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from prefect_flow_deploy.action import options_from_inputs
from prefect_flow_deploy.settings.options import Options

from ..workflow_lint import (
    THIS_ACTION,
    actionlint,
    lint_each,
    load,
    pin_problems,
    shellcheck_findings,
    triggers,
)

__all__ = ["actionlint"]  # a fixture, used by name

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
CONFIG = ROOT / "examples" / "prefect-flow-deploy.yaml"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
# A job outlives the action's deadline by at least this: the action stops its builds at the
# deadline but lets a push or a deployment write under way finish, then reports; the job
# also pulls the action's image and checks out first.
MARGIN_MINUTES = 10
# What the fan-out's plan emits for one shard (README: the `matrix` output).
SHARD = {"shard": "1", "flows": "^(?:sales/daily)$", "folders": "sales/daily"}


@dataclass
class ActionRun:
    """One way a step of the action runs: its job, its step, one matrix entry."""

    workflow: Path
    job_id: str
    job: dict[str, Any]
    index: int  # the step's index in the job
    step: dict[str, Any]
    entry: dict[str, str]
    given: dict[str, str]  # `with:`, expressions evaluated for this entry
    options: Options

    @property
    def where(self) -> str:
        entry = f" {self.entry}" if self.entry else ""
        return f"{self.workflow.name} jobs.{self.job_id}.steps[{self.index}]{entry}"

    @property
    def key(self) -> str:
        """The secret the Prefect key comes from."""
        match = re.fullmatch(r"<secret (\w+)>", self.options.prefect_api_key or "")
        assert match, f"{self.where}: prefect-api-key must be a secret, not {self.given}"
        return match.group(1)


def evaluate(value: object, spec: dict[str, Any], entry: dict[str, str]) -> str:
    """The few expression forms the examples use, as GitHub evaluates them for one matrix
    entry; anything else fails the test (an example must stay readable)."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    dispatch = (triggers(spec).get("workflow_dispatch") or {}).get("inputs") or {}

    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if m := re.fullmatch(r"secrets\.(\w+)", expression):
            return f"<secret {m.group(1)}>"
        if m := re.fullmatch(r"secrets\[matrix\.([\w-]+)\]", expression):
            return f"<secret {entry[m.group(1)]}>"
        if m := re.fullmatch(r"matrix\.([\w-]+)", expression):
            return entry[m.group(1)]
        if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
            default = dispatch[m.group(1)].get("default", "")
            return str(default).lower() if isinstance(default, bool) else str(default)
        if expression == "github.repository_owner":
            return "acme"
        if m := re.fullmatch(r"github\.ref_name == '(\w+)' && '(\w+)' \|\| '(\w+)'", expression):
            return m.group(2) if entry.get("ref_name", "main") == m.group(1) else m.group(3)
        raise AssertionError(f"an expression the test cannot read: {expression}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def matrix_entries(job: dict[str, Any]) -> list[dict[str, str]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if matrix is None:  # a job for the other branches (manual.yml's dev) runs on one
        return [{"ref_name": "dev"}] if job.get("if") == "github.ref_name != 'main'" else [{}]
    if isinstance(matrix, str):  # the fan-out: the plan's output
        assert "fromJSON(needs.plan.outputs.matrix)" in matrix, matrix
        return [SHARD]
    if "include" in matrix and len(matrix) == 1:
        return [{k: str(v) for k, v in e.items()} for e in matrix["include"]]
    keys = [k for k in matrix if k not in ("include", "exclude")]
    assert len(keys) == 1 and "include" not in matrix, f"a matrix the test cannot read: {matrix}"
    return [{keys[0]: str(v)} for v in matrix[keys[0]]]


def resolve(given: dict[str, str], workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    """The action's options for these inputs: every declared input set as the runner sets it
    (the `with:` value, else its default), in a workspace holding the example tenant file."""
    for name in list(os.environ):
        if name.startswith("INPUT_"):
            monkeypatch.delenv(name)
    for name, spec in ACTION["inputs"].items():
        value = given.get(name, str(spec.get("default", "")))
        if value == "${{ github.token }}":
            value = "<the workflow's token>"
        monkeypatch.setenv(f"INPUT_{name.replace(' ', '_').upper()}", value)
    options, _ = options_from_inputs(workspace)
    return options


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[ActionRun]:
    """Every way every example runs the action."""
    workspace = tmp_path_factory.mktemp("workspace")
    shutil.copy(CONFIG, workspace / "prefect-flow-deploy.yaml")
    (workspace / "projects").mkdir()
    found = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PFD_REGISTRY_USERNAME"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GITHUB_ACTOR", "octocat")
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flows")  # the runner sets it on every job
        for workflow in WORKFLOWS:
            spec = load(workflow)
            for job_id, job in spec["jobs"].items():
                for index, step in enumerate(job.get("steps") or []):
                    if not str(step.get("uses", "")).startswith(f"{THIS_ACTION}@"):
                        continue
                    for entry in matrix_entries(job):
                        given = {
                            k: evaluate(v, spec, entry) for k, v in (step.get("with") or {}).items()
                        }
                        options = resolve(given, workspace, monkeypatch)
                        found.append(
                            ActionRun(workflow, job_id, job, index, step, entry, given, options)
                        )
    return found


# --- valid, and pinned ----------------------------------------------------------------------


def test_the_six_examples_are_there() -> None:
    names = {path.stem for path in WORKFLOWS}
    assert {
        "deploy-prod", "deploy-dev", "weekly-refresh", "manual", "pr-plan", "fan-out", "previews"
    } <= names  # fmt: skip


@pytest.fixture(scope="module")
def lint_errors(actionlint: list[str]) -> dict[Path, list[str]]:
    return lint_each(actionlint, WORKFLOWS)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_example_passes_actionlint_and_shellcheck(
    lint_errors: dict[Path, list[str]], workflow: Path
) -> None:
    assert lint_errors[workflow] == [], "actionlint found errors"
    assert shellcheck_findings(load(workflow)) == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_example_pins_third_party_actions_by_commit_sha(workflow: Path) -> None:
    assert pin_problems(workflow.read_text()) == []


PIN = re.compile(
    r"uses: acme/prefect-flow-deploy@(?:(v\d+)|(v\d+\.\d+\.\d+)|([0-9a-f]{40}) # v\d+\.\d+\.\d+)$",
    re.M,
)


def test_the_examples_show_the_three_ways_to_pin_this_action() -> None:
    found = [m for w in WORKFLOWS for m in PIN.findall(w.read_text())]
    assert all(any(m[i] for m in found) for i in range(3)), found
    steps = sum(w.read_text().count(f"uses: {THIS_ACTION}@") for w in WORKFLOWS)
    assert len(found) == steps, "pin @vX, @vX.Y.Z or a SHA # vX.Y.Z"


# --- what a user meets ----------------------------------------------------------------------


def test_every_action_step_is_read(runs: list[ActionRun]) -> None:
    by_workflow = {r.workflow.name for r in runs}
    assert by_workflow == {w.name for w in WORKFLOWS}
    assert {r.options.tenant for r in runs} == {"prod", "dev"}
    assert len(runs) >= 9  # pr-plan's matrix and manual's two jobs count once per tenant


def test_one_tenant_is_one_key_and_one_registry_in_every_workflow(runs: list[ActionRun]) -> None:
    keys: dict[str, set[str]] = {}
    registries: dict[str, set[str]] = {}
    for run in runs:
        assert run.options.tenant, f"{run.where}: no tenant"
        keys.setdefault(run.options.tenant, set()).add(run.key)
        registries.setdefault(run.options.tenant, set()).add(run.options.registry)
    assert keys == {"prod": {"PREFECT_API_KEY"}, "dev": {"PREFECT_API_KEY_DEV"}}
    assert registries == {
        "prod": {"ghcr.io/acme/flows"},
        "dev": {"registry.acme.example/flows-dev"},
    }
    # How it stays so: the tenant's block of the file names its registry, no workflow does.
    assert [r.where for r in runs if "registry" in r.given] == []


def test_a_private_registry_is_logged_in_before_the_action(runs: list[ActionRun]) -> None:
    """Anything but ghcr.io (which the workflow's token logs in to) needs docker/login-action
    in an earlier step, after DOCKER_CONFIG points at the runner's temp home (which the
    action's container mounts): else a deploy cannot push and a plan sees no image."""
    for run in runs:
        host = run.options.registry.split("/")[0]
        if host == "ghcr.io":
            permissions = {
                **load(run.workflow)["permissions"],
                **(run.job.get("permissions") or {}),
            }
            wanted = {"read", "write"} if run.options.dry_run else {"write"}
            assert permissions.get("packages") in wanted, f"{run.where}: packages permission"
            continue
        before = run.job["steps"][: run.index]
        logins = [
            i
            for i, s in enumerate(before)
            if str(s.get("uses", "")).startswith("docker/login-action@")
            and (s.get("with") or {}).get("registry") == host
        ]
        assert logins, f"{run.where}: no docker/login-action for {host} before the action"
        config = [
            i
            for i, s in enumerate(before[: logins[0]])
            if 'DOCKER_CONFIG=$RUNNER_TEMP/_github_home/.docker" >> "$GITHUB_ENV"'
            in str(s.get("run", ""))
        ]
        assert config, f"{run.where}: DOCKER_CONFIG must point at the mounted home first"


def test_every_job_outlives_the_action_deadline(runs: list[ActionRun]) -> None:
    for run in runs:
        job_minutes = float(run.job.get("timeout-minutes", 360))  # GitHub's default: 360
        deadline = run.options.timeout_minutes
        assert deadline > 0, f"{run.where}: give the action a deadline"
        assert job_minutes >= deadline + MARGIN_MINUTES, (
            f"{run.where}: the job's timeout-minutes ({job_minutes:g}) must exceed the action's "
            f"deadline ({deadline:g}) by {MARGIN_MINUTES} minutes"
        )


def test_the_deadline_rule_catches_the_trap_it_is_for(
    runs: list[ActionRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: deploy-prod.yml's job had 60 minutes, the action its default 60."""
    [prod] = [r for r in runs if r.workflow.name == "deploy-prod.yml"]
    given = {k: v for k, v in prod.given.items() if k != "timeout-minutes"}
    shutil.copy(CONFIG, tmp_path / "prefect-flow-deploy.yaml")
    (tmp_path / "projects").mkdir()
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flows")
    assert resolve(given, tmp_path, monkeypatch).timeout_minutes == 60
    assert float(prod.job["timeout-minutes"]) < 60 + MARGIN_MINUTES


def key_check(job: dict[str, Any], action_step: dict[str, Any]) -> dict[str, Any]:
    """The step the action step waits for: `if: steps.<id>.outputs.present == 'true'`."""
    condition = str(action_step.get("if", ""))
    match = re.search(r"steps\.([\w-]+)\.outputs\.present == 'true'", condition)
    assert match, f"the action step must wait for a check of the key, not {condition!r}"
    [check] = [s for s in job["steps"] if s.get("id") == match.group(1)]
    return check


@pytest.mark.parametrize(
    ("key", "actor", "code", "present", "said"),
    [
        ("pnu_key", "dependabot[bot]", 0, True, None),  # a Dependabot secret of that name
        ("", "dependabot[bot]", 0, False, "::notice title=Deploy plan skipped"),
        ("pnu_key", "octocat", 0, True, None),
        ("", "octocat", 1, False, "::error title=No Prefect key"),  # a misconfiguration
    ],
)
def test_pull_requests_without_secrets_skip_with_a_notice(
    runs: list[ActionRun],
    tmp_path: Path,
    key: str,
    actor: str,
    code: int,
    present: bool,
    said: str | None,
) -> None:
    """Forks get no secrets: a job for them prints a notice. Dependabot's pull requests come
    from this repository but get Dependabot secrets only (github/docs@954cb534
    content/code-security/dependabot/troubleshooting-dependabot/
    troubleshooting-dependabot-on-github-actions.md:26-33): the key check, run here with bash
    as the runner runs it, skips the plan with a notice, and fails for anyone else."""
    pull_request_runs = [
        r for r in runs if {"pull_request", "pull_request_target"} & set(triggers(load(r.workflow)))
    ]
    assert pull_request_runs
    for run in pull_request_runs:
        spec = load(run.workflow)
        same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
        assert run.job.get("if") == same_repo, f"{run.where}: forks get no secrets"
        forks = [j for j in spec["jobs"].values() if j.get("if") == same_repo.replace("==", "!=")]
        assert any("::notice " in str(s.get("run", "")) for j in forks for s in j["steps"])

        check = key_check(run.job, run.step)
        assert check["env"].get("ACTOR") == "${{ github.actor }}", "who started it decides"
        env = {k: evaluate(v, spec, run.entry) for k, v in check["env"].items() if k != "ACTOR"}
        # The secret it checks is the one the action step is given.
        secret = next(k for k, v in env.items() if v == f"<secret {run.key}>")
        env = {**env, secret: key, "ACTOR": actor}
        output = tmp_path / "output"
        output.write_text("")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", check["run"]],
            env={"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **env},
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == code, done.stdout + done.stderr
        assert ("present=true" in output.read_text()) is present
        if said:
            assert said in done.stdout and run.key in done.stdout
        for later in run.job["steps"][run.job["steps"].index(check) + 1 :]:
            assert "steps.key.outputs.present == 'true'" in str(later.get("if", "")), later


def test_every_deploying_workflow_prunes_or_says_why_not(runs: list[ActionRun]) -> None:
    for run in runs:
        if run.options.dry_run or run.options.prune:
            continue  # a plan only (manual.yml's `dry-run` input defaults to false: a deploy)
        assert re.search(r"#.*\bprune\b", step_text(run)), f"{run.where}: prune, or say why not"


def step_text(run: ActionRun) -> str:
    """The step's lines in the file, its comments included."""
    lines = run.workflow.read_text().splitlines()
    job = lines.index(f"  {run.job_id}:")
    start = next(
        i for i in range(job, len(lines)) if lines[i].strip() == f"- uses: {run.step['uses']}"
    )
    end = start + 1
    while end < len(lines) and lines[end].strip() and not lines[end].lstrip().startswith("- "):
        end += 1
    return "\n".join(lines[start:end])


def test_the_plans_prune_as_the_deploys_do(runs: list[ActionRun]) -> None:
    """A plan shows a gone folder's deployment as a removal only when it prunes too."""
    deploys = {
        r.options.tenant: r.options.prune
        for r in runs
        if not r.options.dry_run and not r.options.previews  # a preview run never prunes
    }
    for run in runs:
        if run.options.dry_run:
            assert run.options.prune == deploys[run.options.tenant], run.where


def test_each_deploy_queues_on_its_tenant(runs: list[ActionRun]) -> None:
    """Keyed on the tenant, not the branch: two branches deploying one tenant queue, not race
    (manual.yml's group names the tenant its branch deploys: main prod, others dev)."""
    by_branch = "prefect-flow-deploy-${{ github.ref_name == 'main' && 'prod' || 'dev' }}"
    branch_of = {"prod": "github.ref_name == 'main'", "dev": "github.ref_name != 'main'"}
    for run in runs:
        spec = load(run.workflow)
        assert spec["permissions"]["contents"] == "read", run.where
        for key in ("registry-password", "prefect-api-key", "github-token"):
            if key in run.step.get("with", {}):
                assert str(run.step["with"][key]).startswith("${{ secrets"), run.where
        if run.options.dry_run or run.options.previews:
            continue  # previews queue per pull request: test_previews_run_per_pull_request
        group = str(spec["concurrency"]["group"])
        tenant = run.options.tenant or ""
        if group == by_branch:
            assert run.job.get("if") == branch_of[tenant], run.where
        else:
            assert group == f"prefect-flow-deploy-{tenant}", run.where
        assert spec["concurrency"]["cancel-in-progress"] is False, run.where


def test_previews_run_per_pull_request_and_clean_up_when_it_closes(
    runs: list[ActionRun],
) -> None:
    """previews.yml: on the pull request's pushes and on its closing, one run at a time per
    pull request, with the permissions its comment and GitHub deployment need; the dev
    tenant's preview pool from the tenant file; a fork gets a notice (the shared rule:
    test_pull_requests_without_secrets_skip_with_a_notice)."""
    [run] = [r for r in runs if r.workflow.name == "previews.yml"]
    spec = load(run.workflow)
    assert set(triggers(spec)["pull_request"]["types"]) == {
        "opened", "synchronize", "reopened", "closed"
    }  # fmt: skip
    assert spec["concurrency"]["group"] == (
        "prefect-flow-previews-${{ github.event.pull_request.number }}"
    )
    assert spec["permissions"] == {
        "contents": "read", "pull-requests": "write", "deployments": "write"
    }  # fmt: skip
    options = run.options
    assert options.previews and not options.prune and not options.dry_run
    assert (options.tenant, options.preview_work_pool, options.max_previews) == (
        "dev", "dev-previews", 10
    )  # fmt: skip
    assert options.pull_request is None  # no event here: the runner's event gives it


def test_fan_out_feeds_the_plan_matrix_to_a_second_job() -> None:
    spec = load(ROOT / "examples" / "workflows" / "fan-out.yml")
    plan, deploy = spec["jobs"]["plan"], spec["jobs"]["deploy"]
    plan_step = next(s for s in plan["steps"] if THIS_ACTION in s.get("uses", ""))
    assert str(plan_step["with"]["dry-run"]).lower() == "true"
    step_id = plan_step["id"]
    assert plan["outputs"]["matrix"] == "${{ steps." + step_id + ".outputs.matrix }}"
    assert deploy["needs"] == "plan"
    assert deploy["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert "needs.plan.outputs.matrix" in deploy["if"], "an empty matrix must skip the job"
    step = next(s for s in deploy["steps"] if THIS_ACTION in s.get("uses", ""))
    assert step["with"]["flows"] == "${{ matrix.flows }}"
