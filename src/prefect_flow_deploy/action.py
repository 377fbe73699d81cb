"""The GitHub Action's entry point: a thin shell over the engine.

Action inputs become the same `Options` the CLI builds; the engine runs; the outcome is
written as step outputs, a step summary and annotations. Every secret is masked before
anything else is printed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import github_action_utils as gha

from . import action_report
from .action_github import DeploymentRecord, post_plan
from .config import apply_config
from .engine import Engine, report_problems
from .errors import ConfigurationError, FatalError
from .github_api import GitHubClient, GitHubEnv, github_env
from .logger import log
from .naming import normalise_registry, registry_host
from .options import (
    BUILD_SECRETS_VARIABLE,
    DEFAULT_BASE_IMAGE,
    DEFAULT_CONFIG_FILE,
    DEFAULT_WORK_POOL,
    DEFAULT_WORK_POOL_TYPE,
    Options,
    parse_build_secrets,
    secret_values,
)

SECRET_INPUTS = ("registry-password", "prefect-api-key", "github-token")


def _text(name: str, default: str = "") -> str:
    value = gha.get_user_input(name)
    return value.strip() if value and value.strip() else default


def _flag(name: str, default: bool = False) -> bool:
    try:
        return bool(gha.get_boolean_input(name)) if _text(name) else default
    except ValueError as exc:
        raise ConfigurationError(
            f"input `{name}` must be true or false, not {_text(name)!r}"
        ) from exc


def _number(name: str, default: int) -> int:
    text = _text(name)
    try:
        return int(text) if text else default
    except ValueError as exc:
        raise ConfigurationError(f"input `{name}` must be a whole number, not {text!r}") from exc


def mask_secrets() -> None:
    for name in SECRET_INPUTS:
        log.mask(_text(name))
    log.mask(os.environ.get("PREFECT_API_KEY"))
    log.mask(os.environ.get("PFD_REGISTRY_PASSWORD"))
    for lines in (gha.get_user_input("build-secrets"), os.environ.get(BUILD_SECRETS_VARIABLE)):
        for value in secret_values((lines or "").splitlines()):
            log.mask(value)


def options_from_inputs(workspace: Path) -> tuple[Options, int]:
    """Inputs → Options (the same object the CLI builds), and the number of fan-out shards."""
    config_name = _text("config", DEFAULT_CONFIG_FILE)
    username, password = _text("registry-username"), _text("registry-password")
    registry = _text("registry")
    options = Options(
        projects_root=workspace / _text("projects-root", "projects"),
        registry=registry,
        registry_username=username or None,
        registry_password=password or None,
        tenant=_text("tenant") or None,
        base_image=_text("base-image", DEFAULT_BASE_IMAGE),
        work_pool=_text("work-pool", DEFAULT_WORK_POOL),
        work_pool_type=_text("work-pool-type", DEFAULT_WORK_POOL_TYPE),
        platforms=_text("platforms"),
        flows=_text("flows") or None,
        max_parallel=_number("max-parallel", 4),
        prefect_api_url=_text("prefect-api-url") or None,
        prefect_api_key=_text("prefect-api-key") or None,
        force=_flag("force"),
        prune=_flag("prune"),
        fail_fast=_flag("fail-fast"),
        dry_run=_flag("dry-run"),
        keep_images=_number("keep-images", -1) if _text("keep-images") else None,
        build_secrets=parse_build_secrets(
            (gha.get_user_input("build-secrets") or "").splitlines(), "input `build-secrets`"
        ),
    )
    config_path = workspace / config_name
    # Environment before the file: a variable set in the workflow's `env:` is explicit.
    options = options.with_environment()
    options = apply_config(options, config_path, required=config_name != DEFAULT_CONFIG_FILE)
    options = _github_token_login(options)
    _require(options, config_path)
    return options.validate(), _number("shards", 4)


def _github_token_login(options: Options) -> Options:
    """For ghcr.io, the workflow's token is a registry login (as docker/login-action does)."""
    token = _text("github-token")
    if options.registry_password or not token or not options.registry:
        return options
    if registry_host(normalise_registry(options.registry) + "/x") != "ghcr.io":
        return options
    actor = (
        os.environ.get("GITHUB_ACTOR")
        or os.environ.get("GITHUB_REPOSITORY_OWNER")
        or "github-actions"
    )
    return replace(
        options, registry_username=options.registry_username or actor, registry_password=token
    )


def _require(options: Options, config_path: Path) -> None:
    """The runner does not enforce `required:`; say exactly what is missing."""
    missing = []
    if not options.registry and not options.dry_run:
        missing.append(
            "`registry`: the image prefix to push to, e.g. `registry: ghcr.io/${{ github.repository_owner }}/flows`"
        )
    if not options.prefect_api_url:
        missing.append(
            "`prefect-api-url`: your Prefect API, e.g. `https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>` "
            f"(or PREFECT_API_URL in `env:`, or `prefect-api-url` in the tenant's block of {config_path.name})"
        )
    if missing:
        raise ConfigurationError(
            "missing required input " + "; missing required input ".join(missing)
        )


def run() -> int:
    mask_secrets()  # before anything else is printed
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    options, shards = options_from_inputs(workspace)
    log.info(
        f"prefect-flow-deploy: {'plan' if options.dry_run else 'deploy'} {options.projects_root} "
        f"tenant={options.tenant or '-'} registry={options.registry or '(local)'} pool={options.work_pool}"
    )
    engine = Engine(options)
    github = _github()
    if options.dry_run:
        plan = engine.plan()
        report_problems(plan)
        engine.preview_retention(plan)
        if github and _flag("comment", True):
            client = GitHubClient(_text("github-token"), github.api_url)
            post_plan(plan, github, client, options.tenant, workspace, options.prune)
        rows = action_report.planned_results(plan)
        deletions = plan.image_deletions
        outputs = action_report.outputs(rows, 0, plan, shards)
        title, seconds, failed = (
            "prefect-flow-deploy plan (dry run)",
            None,
            plan.failed,
        )
        api_url = engine._api_url()
    else:
        record = _deployment_record(github, options.tenant)
        if record:
            record.start(_safe_api_url(engine))
        try:
            result = engine.deploy()
        except FatalError:
            if record:
                record.finish(False, None, _safe_api_url(engine))
            raise
        rows = result.results
        deletions = result.image_deletions
        outputs = action_report.run_outputs(result, shards)
        title, seconds, failed, api_url = (
            "prefect-flow-deploy",
            result.seconds,
            result.failed,
            result.api_url,
        )
        if record:
            counts = {k: int(outputs[k]) for k in ("built", "changed", "failed")}
            record.finish(not failed, counts, api_url)
    _write(
        outputs,
        action_report.summary(
            rows, api_url, title + (f" · {options.tenant}" if options.tenant else ""), seconds
        )
        + action_report.deletions_summary(deletions),
    )
    log.info(f"built {outputs['built']}, changed {outputs['changed']}, failed {outputs['failed']}")
    return 1 if failed else 0


def _github() -> GitHubEnv | None:
    """The run's repository and event, when there is a token to talk to GitHub with."""
    github = github_env(os.environ)
    if github and not _text("github-token"):
        log.annotate(
            "notice",
            "`github-token` is empty: no plan comment, no GitHub deployment",
            title="GitHub",
        )
        return None
    return github


def _deployment_record(github: GitHubEnv | None, tenant: str | None) -> DeploymentRecord | None:
    if github is None or not _flag("github-deployments", True):
        return None
    environment = _text("environment") or tenant or "prefect"
    return DeploymentRecord(
        github, GitHubClient(_text("github-token"), github.api_url), environment, tenant
    )


def _safe_api_url(engine: Engine) -> str | None:
    try:
        return engine._api_url()
    except FatalError:
        return None


def _write(outputs: dict[str, str], summary: str) -> None:
    if os.environ.get("GITHUB_OUTPUT"):
        for name, value in outputs.items():
            gha.set_output(name, log.redact(value))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        gha.append_job_summary(log.redact(summary))


def main() -> None:
    from .cancellation import install

    install()  # PID 1 in the container: without a handler SIGTERM would be ignored
    try:
        code = run()
    except FatalError as exc:
        log.error(str(exc), title=exc.title)
        code = exc.exit_code
    sys.exit(code)
