"""The GitHub Action's entry point: a thin shell over the engine.

Action inputs become the same `Options` the CLI builds, through the same cascade
(settings.py): an input left empty is unset, so the config file and the environment fill it
(action.yml gives the cascade's inputs no `default:` for that reason: the runner would pass
it as if the user had written it). The engine runs; the outcome is written as step outputs,
a step summary and annotations. Every secret is masked before anything else is printed.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import github_action_utils as gha

from prefect_flow_deploy.clients.github_api import PR_EVENTS, GitHubClient, GitHubEnv, github_env
from prefect_flow_deploy.clients.prefect_api import resolve
from prefect_flow_deploy.commands.deploy import deploy
from prefect_flow_deploy.commands.plan import plan as make_plan
from prefect_flow_deploy.core.errors import ConfigurationError, FatalError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.naming import normalise_registry, registry_host
from prefect_flow_deploy.core.results import RunResult
from prefect_flow_deploy.reports import action as action_report
from prefect_flow_deploy.reports import preview_comment
from prefect_flow_deploy.reports.github import (
    DeploymentRecord,
    deactivate_previews,
    post_plan,
    post_previews,
)
from prefect_flow_deploy.rules import previews
from prefect_flow_deploy.run.plan_file import hash_of
from prefect_flow_deploy.settings.cascade import (
    config_file,
    explicit_layer,
    resolve_options,
    with_given,
)
from prefect_flow_deploy.settings.options import (
    BUILD_SECRETS_VARIABLE,
    DEFAULT_CONFIG_FILE,
    SETTINGS,
    Given,
    Layer,
    Options,
    parse_build_secrets,
    secret_values,
)

SECRET_INPUTS = ("registry-password", "prefect-api-key", "github-token", "builder-tls-ca",
                 "builder-tls-cert", "builder-tls-key")  # fmt: skip
T = TypeVar("T")


def _text(name: str) -> str:
    value = gha.get_user_input(name)
    return value.strip() if value else ""


def _flag(name: str) -> bool | None:
    """true or false; None when the input is empty (unset)."""
    try:
        return bool(gha.get_boolean_input(name)) if _text(name) else None
    except ValueError as exc:
        raise ConfigurationError(
            f"input `{name}` must be true or false, not {_text(name)!r}"
        ) from exc


def _parsed(name: str, convert: Callable[[str], T], what: str) -> T | None:
    """The input converted; None when it is empty (unset)."""
    text = _text(name)
    try:
        return convert(text) if text else None
    except ValueError as exc:
        raise ConfigurationError(f"input `{name}` must be {what}, not {text!r}") from exc


def _minutes(name: str) -> float | None:
    return _parsed(name, float, "a number of minutes")


def _number(name: str) -> int | None:
    return _parsed(name, int, "a whole number")


# The inputs that are options (the rest, such as shards or comment, steer the action itself).
_TEXT = ("registry", "registry_username", "registry_password", "tenant", "base_image",
         "work_pool", "work_pool_type", "platforms", "flows", "prefect_api_url",
         "prefect_api_key", "preview_work_pool", "builder", "builder_tls_ca",
         "builder_tls_cert", "builder_tls_key")  # fmt: skip
_FLAGS = (
    "force",
    "force_order",
    "prune",
    "fail_fast",
    "dry_run",
    "mask_build_args",
    "previews",
    "create_work_pool",
)
_NUMBERS = ("max_parallel", "keep_images", "max_previews")


def mask_secrets() -> None:
    for name in SECRET_INPUTS:
        log.mask(_text(name))
    for variable in ("PREFECT_API_KEY", "PFD_REGISTRY_PASSWORD", "PFD_BUILDER_TLS_CA",
                     "PFD_BUILDER_TLS_CERT", "PFD_BUILDER_TLS_KEY"):  # fmt: skip
        log.mask(os.environ.get(variable))
    for lines in (gha.get_user_input("build-secrets"), os.environ.get(BUILD_SECRETS_VARIABLE)):
        for value in secret_values((lines or "").splitlines()):
            log.mask(value)


def explicit_inputs() -> Layer:
    """The inputs the user set (an empty one is unset), named `input <id>`."""
    key = {name: SETTINGS[name].key for name in SETTINGS}
    projects_root = _text("projects-root")
    values: dict[str, object] = {
        **{name: _text(key[name]) for name in _TEXT},
        **{name: _flag(key[name]) for name in _FLAGS},
        **{name: _number(key[name]) for name in _NUMBERS},
        "timeout_minutes": _minutes("timeout-minutes"),
        "projects_root": Path(projects_root) if projects_root else None,
        "build_secrets": parse_build_secrets(
            (gha.get_user_input("build-secrets") or "").splitlines(), "input `build-secrets`"
        ),
    }
    return explicit_layer(values, lambda name: f"input {key[name]}")


def options_from_inputs(workspace: Path, event: GitHubEnv | None = None) -> tuple[Options, int]:
    """Inputs → Options (the same cascade as the CLI's), and the number of fan-out shards.
    With previews on, a pull request's event gives the pull request (and whether it is
    closed)."""
    config_name = _text("config")
    # The default name may be absent; any other must exist (as before its default was "").
    given = workspace / config_name if config_name not in ("", DEFAULT_CONFIG_FILE) else None
    config = config_file(given, workspace)

    def finish(options: Options) -> Options:
        options = _github_token_login(options)
        if options.previews and event and event.event_name in PR_EVENTS and event.pull_number:
            source = f"event {event.event_name} ({event.action or 'no action'})"
            options = with_given(
                options,
                pull_request=Given(event.pull_number, source),
                preview_closed=Given(event.action == "closed", source),
                preview_merged=Given(event.merged, source),
            )
        _require(options, config.path)
        return options

    options = resolve_options(explicit_inputs(), os.environ, config, workspace, finish)
    shards = _number("shards")
    return options, 4 if shards is None else shards


def _github_token_login(options: Options) -> Options:
    """For ghcr.io, the workflow's token is a registry login (as docker/login-action does)."""
    token = _text("github-token")
    if options.registry_password or not token or not options.registry:
        return options
    if registry_host(normalise_registry(options.registry) + "/x") != "ghcr.io":
        return options
    if options.registry_username:
        username = Given(options.registry_username, options.source("registry_username"))
    else:
        variable = next(
            (v for v in ("GITHUB_ACTOR", "GITHUB_REPOSITORY_OWNER") if os.environ.get(v)), None
        )
        username = Given(
            os.environ[variable] if variable else "github-actions",
            f"environment {variable}" if variable else "default for the github-token login",
        )
    return with_given(
        options,
        registry_username=username,
        registry_password=Given(token, "input github-token (the ghcr.io login)"),
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


def preview_refused(options: Options, event: GitHubEnv | None) -> str | None:
    """Why this pull request gets no previews (None: it may): a fork's has no secrets, and
    on pull_request_target the head's code would run with them unless the workflow opts in
    by name."""
    if not options.previews or event is None or event.event_name not in PR_EVENTS:
        return None
    if event.from_fork:
        return (
            f"no previews for pull request #{event.pull_number}: it comes from a fork "
            f"({event.head_repository or 'a deleted repository'}), whose runs get no secrets; "
            "previews are made only for the repository's own branches."
        )
    if (
        event.event_name == "pull_request_target"
        and _flag("preview-pull-request-target") is not True
    ):
        return (
            f"no previews for pull request #{event.pull_number} on pull_request_target: that "
            "event runs with the repository's secrets, and previews build and run the head's "
            "code. Use the pull_request event, or set `preview-pull-request-target: true` if "
            "this workflow only runs for trusted branches."
        )
    return None


def run() -> int:
    mask_secrets()  # before anything else is printed
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    event = github_env(os.environ)
    options, shards = options_from_inputs(workspace, event)
    refused = preview_refused(options, event)
    if refused:
        log.annotate("notice", refused, title="Previews")
        _write({}, f"## prefect-flow-deploy\n\n{refused}\n")
        return 0
    log.info(
        f"prefect-flow-deploy: {'plan' if options.dry_run else 'deploy'} {options.projects_root} "
        f"tenant={options.tenant or '-'} registry={options.registry or '(local)'} pool={options.work_pool}"
    )
    github = _github()
    bot = f"{_text('github-app-slug') or 'github-actions'}[bot]"
    client = GitHubClient(_text("github-token"), github.api_url, bot_login=bot) if github else None
    pull_states = (
        functools.partial(client.pull_states, github.repository)
        if client and github and options.previews
        else None
    )
    if options.dry_run:
        plan = make_plan(options, pull_states=pull_states)
        plan_hash = hash_of(plan, options)
        log.info(f"plan sha256:{plan_hash}")
        if github and client and _flag("comment") is not False:
            post_plan(plan, github, client, options.tenant, workspace, plan_hash)
        rows = action_report.planned_results(plan)
        deletions, build = plan.image_deletions, plan.build
        outputs = action_report.outputs(rows, 0, plan, shards)
        title, seconds, failed = "prefect-flow-deploy plan (dry run)", None, plan.failed
        api_url = plan.api_url
        code = 1 if failed else 0
    else:
        record = _Record(_deployment_record(github, options), options)
        try:
            result = deploy(options, pull_states=pull_states, on_start=record.start)
        except FatalError:
            record.finish(False, None, _safe_api_url(options))
            raise
        rows = result.results
        deletions, build = result.image_deletions, result.plan.build
        outputs = action_report.run_outputs(result, shards)
        title, seconds, failed = "prefect-flow-deploy", result.seconds, result.failed
        api_url = result.api_url
        code = result.exit_code
        counts = {k: int(outputs[k]) for k in ("built", "changed", "failed")}
        record.finish(not failed, counts, api_url)
        if github and client:
            _report_previews(result, options, github, client)
    not_shown = log.say_annotations_not_shown()
    _write(
        outputs,
        action_report.summary(
            rows, api_url, title + (f" · {options.tenant}" if options.tenant else ""), seconds
        )
        + action_report.deletions_summary(deletions)
        + f"\nB{build.describe()[1:]}.\n"
        + (f"\n> {not_shown}\n" if not_shown else ""),
    )
    log.info(f"built {outputs['built']}, changed {outputs['changed']}, failed {outputs['failed']}")
    return code


class _Record:
    """The run's GitHub deployment (if any): started once the engine is set up, finished
    with the run's outcome (a failure when the run stops on a fatal error)."""

    def __init__(self, record: DeploymentRecord | None, options: Options) -> None:
        self.record, self.options, self.started = record, options, False

    def start(self) -> None:
        if self.record:
            self.record.start(_safe_api_url(self.options))
            self.started = True

    def finish(self, ok: bool, counts: dict[str, int] | None, api_url: str | None) -> None:
        if self.record and self.started:
            self.record.finish(ok, counts, api_url)


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


def _deployment_record(github: GitHubEnv | None, options: Options) -> DeploymentRecord | None:
    """The run's GitHub deployment: to the tenant's environment, or a pull request's
    previews to `preview/pr-<n>` (none when they are being removed)."""
    if github is None or _flag("github-deployments") is False or options.preview_closed:
        return None
    client = GitHubClient(_text("github-token"), github.api_url)
    if options.preview is not None:
        environment = previews.environment(options.preview)
        return DeploymentRecord(github, client, environment, options.tenant, transient=True)
    environment = _text("environment") or options.tenant or "prefect"
    return DeploymentRecord(github, client, environment, options.tenant)


def _report_previews(
    result: RunResult, options: Options, github: GitHubEnv, client: GitHubClient
) -> None:
    """The pull request's previews comment, and the GitHub environments of pull requests
    whose previews this run removed (closed: this one, or found closed by the sweep)."""
    if options.preview is not None and _flag("comment") is not False:
        about = preview_comment.Previews(
            options.preview, options.tenant, github.head_sha or github.sha, result.api_url,
            options.preview_closed,
        )  # fmt: skip
        post_previews(result.plan, result.results, about, github, client)
    removed = {f"{r.flow}/{r.deployment}" for r in result.results if r.status == "removed"}
    gone = [d for d in result.plan.deployments if d.action == "remove" and d.preview]
    done = [
        n
        for n in previews.environments_done(gone)
        if all(d.full_name in removed for d in gone if d.preview == n)
    ]
    if options.preview_closed and options.preview is not None and options.preview not in done:
        done.append(options.preview)  # closed with no preview left: its environment still goes
    if done and _flag("github-deployments") is not False:
        deactivate_previews(done, github, client, options.tenant)


def _safe_api_url(options: Options) -> str | None:
    """The Prefect API the run writes to, for the GitHub deployment's link (before and
    whatever the run's outcome); None when none is configured."""
    try:
        return resolve(options.prefect_api_url, options.prefect_api_key).shown
    except FatalError:
        return None


def _write(outputs: dict[str, str], summary: str) -> None:
    if os.environ.get("GITHUB_OUTPUT"):
        for name, value in outputs.items():
            gha.set_output(name, log.redact(value))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        gha.append_job_summary(log.redact(summary))


def main() -> None:
    from prefect_flow_deploy.core.process_end import skip_final_collection
    from prefect_flow_deploy.docker.cancellation import install

    install()  # PID 1 in the container: without a handler SIGTERM would be ignored
    try:
        code = run()
    except FatalError as exc:
        log.error(str(exc), title=exc.title)
        code = exc.exit_code
    skip_final_collection()
    sys.exit(code)
