"""The command line: `prefect-flow-deploy plan|deploy|validate|new|adopt` (the action calls
the same commands).

Each command turns its arguments into Options (cli_options.py declares the settings once),
calls one function of `commands/`, chooses the reporter (terminal or JSON) and the exit
status.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console

from prefect_flow_deploy.cli_options import (
    _DEFAULTS,
    READ_SETTINGS,
    RUN,
    RUN_SETTINGS,
    _Text,
    takes,
)
from prefect_flow_deploy.core.errors import ConfigurationError, DeployFailedError, FatalError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.settings.options import (
    BUILD_SECRETS_VARIABLE,
    SETTINGS,
    Options,
    parse_build_secrets,
    secret_values,
)

if TYPE_CHECKING:
    from prefect_flow_deploy.reports.progress import LiveProgress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Build, push and register a repository of Prefect 3 flows, one image per flow "
    "folder. Exit status: 0 done; 1 some folder or deployment failed; 2 a usage error; 3 a "
    "wrong option, config file or layout; 4 no Docker; 5 the registry; 6 the Prefect API "
    "(unreachable, refused, too old, or none configured); 7 the deadline; 8 the plan moved.",
)


def _options(given: dict[str, Any]) -> Options:
    """The options given → the resolved Options (settings.py: the action's cascade too)."""
    from prefect_flow_deploy.settings.cascade import config_file, explicit_layer, resolve_options

    values = dict(given)
    config = values.pop("config", None)
    secrets = list(values.pop("build_secret", None) or [])
    for value in [*secret_values(secrets), *_environment_secrets()]:
        log.mask(value)  # before anything is printed, a mistake in the lines included
    values["build_secrets"] = parse_build_secrets(secrets, "--build-secret", "value")
    number = values.pop("preview", None)
    if number is not None:  # --preview PR: previews on, for that pull request
        values.update(previews=True, pull_request=number)
    explicit = explicit_layer(values, _option_name)
    # Given, the file must exist; else the repository root's (the action's lookup too).
    return resolve_options(explicit, os.environ, config_file(config, Path.cwd()))


def _environment_secrets() -> list[str]:
    variables = [s.env for s in SETTINGS.values() if s.secret and s.env]
    values = [os.environ.get(v, "") for v in variables if v != BUILD_SECRETS_VARIABLE]
    return [*values, *secret_values(os.environ.get(BUILD_SECRETS_VARIABLE, "").splitlines())]


def _option_name(name: str) -> str:
    if name in ("previews", "pull_request"):
        return "--preview"
    return "--build-secret" if name == "build_secrets" else f"--{SETTINGS[name].key}"


def _require_deploy_extra(command: str) -> None:
    """`plan` and `deploy` build with the Docker SDK and read the checkout's commits with
    dulwich: the `deploy` extra (validate, new and adopt need neither, nor the hook)."""
    import importlib.util

    missing = [name for name in ("docker", "dulwich") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigurationError(
            f"`{command}` needs the packages of the `deploy` extra, and {', '.join(missing)} "
            "is not installed: pip install 'prefect-flow-deploy[deploy]' (the Docker SDK, "
            "dulwich, PyGithub; `validate`, which the pre-commit hook runs, needs none of them)."
        )


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"prefect-flow-deploy {version('prefect-flow-deploy')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Build, push and register a repository of Prefect 3 flows."""


@app.command()
@takes(*RUN_SETTINGS)
def plan(
    given: dict[str, Any],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON.", rich_help_panel=RUN)
    ] = False,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Also write the plan to this file, for review; `deploy --plan FILE` applies "
            "exactly it (and refuses if the repository, registry or server moved since).",
            rich_help_panel=RUN,
        ),
    ] = None,
) -> None:
    """Show what would be built, pushed and registered, and why. Changes nothing."""
    from prefect_flow_deploy.core.process_end import no_collection_until_exit

    no_collection_until_exit()
    log.stdout_is_data = json_output  # before the first mask command
    _require_deploy_extra("plan")
    options = _options(given)
    from prefect_flow_deploy.commands.plan import plan as make_plan
    from prefect_flow_deploy.reports.terminal import plan_json, print_plan

    if json_output:
        log.quiet = True
    result = make_plan(options, out)
    if json_output:
        print(log.redact(plan_json(result, pretty=sys.stdout.isatty())))
    else:
        print_plan(result, Console())
    if result.failed:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
@takes(*RUN_SETTINGS, "fail_fast")
def deploy(
    given: dict[str, Any],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the outcome as JSON.", rich_help_panel=RUN)
    ] = False,
    plan_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--plan",
            help="Apply exactly this plan (from `plan --out`); refused if the repository, "
            "registry or server moved since it was made.",
            rich_help_panel=RUN,
        ),
    ] = None,
) -> None:
    """Build and push what changed, and register every flow as a Prefect deployment."""
    log.stdout_is_data = json_output  # before the first mask command
    _require_deploy_extra("deploy")
    options = _options(given)
    from prefect_flow_deploy.commands.deploy import deploy as run_deploy
    from prefect_flow_deploy.reports.terminal import json_text, print_result, result_rows

    result = run_deploy(options, plan_file, live_view(json_output))
    if json_output:
        print(log.redact(json_text(result_rows(result), pretty=sys.stdout.isatty())))
    else:
        print_result(result, Console(stderr=True))
    if result.failed:
        raise typer.Exit(result.exit_code)


@app.command()
@takes(*READ_SETTINGS)
def validate(given: dict[str, Any]) -> None:
    """Check every flow folder without Docker, Prefect or a registry (for pre-commit).

    Flows, prefect.yaml, requirements.txt, Dockerfiles, name collisions. Exit 1 on errors."""
    options = _options(given)
    import time

    from prefect_flow_deploy.commands.validate import validate as check
    from prefect_flow_deploy.reading.discovery import report_folder_problems

    started, warned = time.monotonic(), log.said["warning"]
    outcome = check(options)
    report_folder_problems(outcome.folders)
    # Every warning said, those of no folder too (a flow file loose in a project folder).
    warnings = log.said["warning"] - warned
    folders, flows, errors = len(outcome.folders), outcome.flows, outcome.errors
    log.info(
        f"validated {folders} flow folder{'s' * (folders != 1)} ({flows} flow{'s' * (flows != 1)})"
        f" in {time.monotonic() - started:.2f}s: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )
    if outcome.errors:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
@takes("projects_root")
def new(
    given: dict[str, Any],
    project: Annotated[str, typer.Argument(help="Project folder (created when missing).")],
    folder: Annotated[str, typer.Argument(help="The new flow folder's name.")],
    flow: Annotated[
        _Text, typer.Option(help="The flow's name (default: the folder's name).")
    ] = None,
    schedule: Annotated[
        _Text,
        typer.Option(help="A cron schedule, e.g. '0 6 * * *' (written to prefect.yaml, UTC)."),
    ] = None,
) -> None:
    """Create a flow folder that deploys as it is.

    flow.py (a typed parameter, a docstring), an empty requirements.txt and, with
    --schedule, a prefect.yaml."""
    from prefect_flow_deploy.commands.new import NewFlow, ScaffoldError, create

    root = given["projects_root"] or _DEFAULTS.projects_root
    try:
        target = create(NewFlow(project, folder, flow, schedule), Options(root))
    except ScaffoldError as exc:
        raise ConfigurationError(f"cannot create {project}/{folder}: {exc}") from exc
    files = ", ".join(sorted(p.name for p in target.iterdir()))
    log.info(f"created {target} ({files}); `prefect-flow-deploy plan` shows it as a create.")


@app.command()
@takes("projects_root")
def adopt(
    given: dict[str, Any],
    path: Annotated[
        Path, typer.Argument(help="The repository to rewrite (default: the current one).")
    ] = Path(),
    project: Annotated[
        _Text,
        typer.Option(
            help="Project for flows whose folder sits directly at the repository root "
            "(default: the repository's name)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what it would do; change nothing.")
    ] = False,
) -> None:
    """Rewrite a repository into projects/<project>/<folder>/, printing what it does.

    From Prefect's own layout (a prefect.yaml at the root: each folder's prefect.yaml is
    written from it) or the Prefect 1 folders a workflow registers with `prefect register
    --project`. Files move with `git mv` in a git checkout."""
    from prefect_flow_deploy.commands.adopt import apply

    root = path.resolve()
    projects = given["projects_root"] or _DEFAULTS.projects_root
    outcome = apply(root, root / projects, project, dry_run)
    for line in outcome.lines:
        print(line)
    for warning in outcome.warnings:
        log.warning(warning, title="adopt")


def live_view(json_output: bool) -> LiveProgress | None:
    """On a terminal (not on GitHub, not for --json) a live view of each folder's progress;
    elsewhere the plain lines the logger prints."""
    from prefect_flow_deploy.core.logger import running_on_github

    if json_output or running_on_github() or not sys.stderr.isatty():
        return None
    from prefect_flow_deploy.reports.progress import LiveProgress

    return LiveProgress(Console(stderr=True))


def main() -> None:
    from prefect_flow_deploy.core.process_end import skip_final_collection
    from prefect_flow_deploy.core.run_files import use_runner_temp
    from prefect_flow_deploy.docker.cancellation import install

    install()
    use_runner_temp(os.environ)  # on a runner: where the job's end removes what a kill left
    try:
        app()
    except FatalError as exc:
        log.error(str(exc), title=exc.title)
        sys.exit(exc.exit_code)
    finally:  # on GitHub (a `run:` step), say when its annotations outnumber what it shows
        log.say_annotations_not_shown()
        skip_final_collection()


if __name__ == "__main__":
    main()
