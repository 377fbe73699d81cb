"""The command line: `prefect-flow-deploy plan|deploy` (the action calls the same engine)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from .errors import ConfigurationError, DeployFailedError, FatalError
from .logger import log
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

if TYPE_CHECKING:
    from .progress import LiveProgress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Build, push and register a folder-per-flow repository of Prefect 3 flows.",
)

ProjectsRoot = Annotated[Path, typer.Option(help="Folder holding <project>/<flow folder>/.")]
Registry = Annotated[
    str, typer.Option(help="Image prefix, e.g. ghcr.io/acme/flows. Empty: build locally, no push.")
]
RegistryUser = Annotated[
    str | None, typer.Option(envvar="PFD_REGISTRY_USERNAME", help="Registry login.")
]
RegistryPassword = Annotated[
    str | None, typer.Option(envvar="PFD_REGISTRY_PASSWORD", help="Registry password or token.")
]
Tenant = Annotated[
    str | None, typer.Option(help="Tenant name (a block of the config file; recorded as a tag).")
]
Repository = Annotated[
    str | None,
    typer.Option(
        help="owner/name recorded on each deployment (prune and take-over leave other "
        "repositories' alone). Default: GITHUB_REPOSITORY, else the git remote origin."
    ),
]
BaseImage = Annotated[str, typer.Option(help="Base image for folders without a Dockerfile.")]
WorkPool = Annotated[
    str, typer.Option(help="Work pool (any type that runs an image); created when missing.")
]
Platforms = Annotated[
    str,
    typer.Option(
        help="Platforms to build each image for, comma-separated (linux/amd64,linux/arm64): "
        "one manifest list. Empty: the engine's own."
    ),
]
WorkPoolType = Annotated[
    str,
    typer.Option(
        help="Type of a work pool created when missing (docker, kubernetes, ecs, …), "
        "with that worker's default job template."
    ),
]
Flows = Annotated[Optional[str], typer.Option(help="Regular expression on <project>/<folder>.")]  # noqa: UP045
MaxParallel = Annotated[
    int,
    typer.Option(
        help="Builds and pushes at once (deployment writes: one at a time to a self-hosted server, up to 2x this to Prefect Cloud)."
    ),
]
ApiUrl = Annotated[Optional[str], typer.Option(envvar="PREFECT_API_URL", help="Prefect API URL.")]  # noqa: UP045
ApiKey = Annotated[Optional[str], typer.Option(envvar="PREFECT_API_KEY", help="Prefect API key.")]  # noqa: UP045
Force = Annotated[bool, typer.Option(help="Rebuild every image (fresh base pull, no cache).")]
Prune = Annotated[
    bool, typer.Option(help="Delete managed deployments whose folder or flow is gone.")
]
FailFast = Annotated[bool, typer.Option(help="Stop at the first failing folder.")]
KeepImages = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        help="After a successful deploy, delete each folder repository's images beyond the newest N that no deployment on the server uses. Default: keep all."
    ),
]
BuildSecret = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--build-secret",
        help="ID=VALUE, given to BuildKit as a secret (RUN --mount=type=secret,id=ID); repeat "
        "for more. Also PFD_BUILD_SECRETS (lines of id=value). Values never reach the tag.",
        show_default=False,
    ),
]
Config = Annotated[Optional[Path], typer.Option(help="Config file with per-tenant settings.")]  # noqa: UP045


def _options(**values: object) -> Options:
    from .config import apply_config

    config = values.pop("config")
    given = list(values.pop("build_secret", None) or [])  # type: ignore[call-overload]
    for value in secret_values(given):
        log.mask(value)  # before anything is printed, a mistake in the lines included
    values["build_secrets"] = parse_build_secrets(given, "--build-secret", "value")
    options = Options(**values)  # type: ignore[arg-type]
    options = apply_config(options, config or _default_config(options), required=config is not None)  # type: ignore[arg-type]
    log.mask(options.registry_password)
    log.mask(options.prefect_api_key)
    for value in secret_values(os.environ.get(BUILD_SECRETS_VARIABLE, "").splitlines()):
        log.mask(value)
    return options.with_environment().validate()


def _default_config(options: Options) -> Path:
    """`prefect-flow-deploy.yaml` beside the projects root (the repository root)."""
    return options.projects_root.resolve().parent / DEFAULT_CONFIG_FILE


@app.command()
def plan(
    projects_root: ProjectsRoot = Path("projects"),
    registry: Registry = "",
    registry_username: RegistryUser = None,
    registry_password: RegistryPassword = None,
    tenant: Tenant = None,
    repository: Repository = None,
    base_image: BaseImage = DEFAULT_BASE_IMAGE,
    work_pool: WorkPool = DEFAULT_WORK_POOL,
    work_pool_type: WorkPoolType = DEFAULT_WORK_POOL_TYPE,
    platforms: Platforms = "",
    flows: Flows = None,
    max_parallel: MaxParallel = 4,
    prefect_api_url: ApiUrl = None,
    prefect_api_key: ApiKey = None,
    force: Force = False,
    prune: Prune = False,
    keep_images: KeepImages = None,
    build_secret: BuildSecret = None,
    config: Config = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show what would be built, pushed and registered, and why. Changes nothing."""
    log.stdout_is_data = json_output  # before the first mask command
    options = _options(**{k: v for k, v in locals().items() if k != "json_output"})
    from .engine import Engine, report_problems
    from .report import plan_json, print_plan

    if json_output:
        log.quiet = True
    engine = Engine(options)
    result = engine.plan()
    report_problems(result)
    engine.preview_retention(result)
    if json_output:
        print(log.redact(plan_json(result)))
    else:
        print_plan(result, Console())
    if result.failed:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
def deploy(
    projects_root: ProjectsRoot = Path("projects"),
    registry: Registry = "",
    registry_username: RegistryUser = None,
    registry_password: RegistryPassword = None,
    tenant: Tenant = None,
    repository: Repository = None,
    base_image: BaseImage = DEFAULT_BASE_IMAGE,
    work_pool: WorkPool = DEFAULT_WORK_POOL,
    work_pool_type: WorkPoolType = DEFAULT_WORK_POOL_TYPE,
    platforms: Platforms = "",
    flows: Flows = None,
    max_parallel: MaxParallel = 4,
    prefect_api_url: ApiUrl = None,
    prefect_api_key: ApiKey = None,
    force: Force = False,
    prune: Prune = False,
    fail_fast: FailFast = False,
    keep_images: KeepImages = None,
    build_secret: BuildSecret = None,
    config: Config = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Build and push what changed, and register every flow as a Prefect deployment."""
    log.stdout_is_data = json_output  # before the first mask command
    options = _options(**{k: v for k, v in locals().items() if k != "json_output"})
    import json

    from .engine import Engine
    from .report import print_result, result_rows

    live = _live_view(json_output)
    with live or contextlib.nullcontext():
        result = Engine(options, live).deploy()
    if json_output:
        print(log.redact(json.dumps(result_rows(result), indent=2)))
    else:
        print_result(result, Console(stderr=True))
    if result.failed:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
def validate(
    projects_root: ProjectsRoot = Path("projects"),
    flows: Flows = None,
    tenant: Tenant = None,
    config: Config = None,
) -> None:
    """Check every flow folder without Docker, Prefect or a registry (for pre-commit):
    flows, prefect.yaml, requirements.txt, Dockerfiles, name collisions. Exit 1 on errors."""
    options = _options(projects_root=projects_root, flows=flows, tenant=tenant, config=config)
    import time

    from .discovery import report_folder_problems
    from .validation import validate as check

    started = time.monotonic()
    outcome = check(options)
    report_folder_problems(outcome.folders)
    log.info(
        f"validated {len(outcome.folders)} flow folders ({outcome.flows} flows) in "
        f"{time.monotonic() - started:.2f}s: {outcome.errors} errors, {outcome.warnings} warnings"
    )
    if outcome.errors:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
def new(
    project: Annotated[str, typer.Argument(help="Project folder (created when missing).")],
    folder: Annotated[str, typer.Argument(help="The new flow folder's name.")],
    flow: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The flow's name (default: the folder's name)."),
    ] = None,
    schedule: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="A cron schedule, e.g. '0 6 * * *' (written to prefect.yaml, UTC)."),
    ] = None,
    projects_root: ProjectsRoot = Path("projects"),
) -> None:
    """Create a flow folder that deploys as it is: flow.py (a typed parameter, a docstring),
    an empty requirements.txt and, with --schedule, a prefect.yaml."""
    from .scaffold import NewFlow, ScaffoldError, create

    try:
        target = create(NewFlow(project, folder, flow, schedule), Options(projects_root))
    except ScaffoldError as exc:
        raise ConfigurationError(f"cannot create {project}/{folder}: {exc}") from exc
    files = ", ".join(sorted(p.name for p in target.iterdir()))
    log.info(f"created {target} ({files}); `prefect-flow-deploy plan` shows it as a create.")


def _live_view(json_output: bool) -> LiveProgress | None:
    """On a terminal (not on GitHub, not for --json) a live view of each folder's progress;
    elsewhere the plain lines the logger prints."""
    from .logger import running_on_github

    if json_output or running_on_github() or not sys.stderr.isatty():
        return None
    from .progress import LiveProgress

    return LiveProgress(Console(stderr=True))


def main() -> None:
    from .cancellation import install

    install()
    try:
        app()
    except FatalError as exc:
        log.error(str(exc), title=exc.title)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
