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
    DEFAULT_CONFIG_FILE,
    SETTINGS,
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

# Every option defaults to None (unset), so that the settings cascade (settings.py) can tell
# an option given, even one equal to its default, from one left out; `show_default` shows
# the default the cascade falls back to (Options' fields).
_DEFAULTS = Options()
ProjectsRoot = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        help="Folder holding <project>/<flow folder>/.",
        show_default=str(_DEFAULTS.projects_root),
    ),
]
Registry = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Image prefix, e.g. ghcr.io/acme/flows. Empty: build locally, no push."),
]
RegistryUser = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Registry login. Also PFD_REGISTRY_USERNAME."),
]
RegistryPassword = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Registry password or token. Also PFD_REGISTRY_PASSWORD."),
]
Tenant = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Tenant name (a block of the config file; recorded as a tag)."),
]
Repository = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="owner/name recorded on each deployment (prune and take-over leave other "
        "repositories' alone). Default: GITHUB_REPOSITORY, else the git remote origin."
    ),
]
BaseImage = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Base image for folders without a Dockerfile.", show_default=_DEFAULTS.base_image
    ),
]
WorkPool = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Work pool (any type that runs an image); created when missing.",
        show_default=_DEFAULTS.work_pool,
    ),
]
Platforms = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Platforms to build each image for, comma-separated (linux/amd64,linux/arm64): "
        "one manifest list. Empty: the engine's own."
    ),
]
WorkPoolType = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Type of a work pool created when missing (docker, kubernetes, ecs, …), "
        "with that worker's default job template.",
        show_default=_DEFAULTS.work_pool_type,
    ),
]
Flows = Annotated[Optional[str], typer.Option(help="Regular expression on <project>/<folder>.")]  # noqa: UP045
MaxParallel = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        help="Builds and pushes at once (deployment writes: one at a time to a self-hosted server, up to 2x this to Prefect Cloud).",
        show_default=str(_DEFAULTS.max_parallel),
    ),
]
TimeoutMinutes = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        help="Deadline of the run: after this many minutes no build, push or write starts, a "
        "build under way is stopped and retries stop waiting; what was not done is reported "
        "skipped (exit 7). 0: none.",
        show_default=f"{_DEFAULTS.timeout_minutes:g}",
    ),
]
ApiUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Prefect API URL. Also PREFECT_API_URL."),
]
ApiKey = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Prefect API key. Also PREFECT_API_KEY."),
]
Force = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(help="Rebuild every image (fresh base pull, no cache).", show_default="no-force"),
]
Prune = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        help="Delete managed deployments whose folder or flow is gone.", show_default="no-prune"
    ),
]
FailFast = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(help="Stop at the first failing folder.", show_default="no-fail-fast"),
]
KeepImages = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        help="After a successful deploy, delete each folder repository's images beyond the newest N that no deployment on the server uses. Default: keep all."
    ),
]
MaskBuildArgs = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        help="Mask every build arg's value in the output (those named like a credential always are).",
        show_default="no-mask-build-args",
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
Builder = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Where images are built, checked and pushed: tcp://host:2376 (a Docker engine), "
        "ssh://user@host, unix:///path/docker.sock, buildkit://host:1234 (a BuildKit daemon) or "
        "buildx:NAME. Also PFD_BUILDER.",
        show_default="this machine's engine",
    ),
]
BuilderTls = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="PEM text or file of the builder's TLS CA (--builder-tls-ca), client certificate "
        "(--builder-tls-cert) or its key (--builder-tls-key). Also PFD_BUILDER_TLS_CA, _CERT, _KEY.",
        show_default=False,
    ),
]
Config = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        help="Config file with per-tenant settings; given, it must exist.",
        show_default=f"{DEFAULT_CONFIG_FILE} beside the projects root, if there",
    ),
]


def _options(
    projects_root: Path | None,
    config: Path | None,
    build_secret: list[str] | None = None,
    **values: object,
) -> Options:
    """The options given → the resolved Options (settings.py: the action's cascade too)."""
    from .settings import ConfigFile, explicit_layer, resolve_options

    given = list(build_secret or [])
    for value in [*secret_values(given), *_environment_secrets()]:
        log.mask(value)  # before anything is printed, a mistake in the lines included
    values["build_secrets"] = parse_build_secrets(given, "--build-secret", "value")
    explicit = explicit_layer({**values, "projects_root": projects_root}, _option_name)
    # Given, the file must exist; else `prefect-flow-deploy.yaml` beside the projects root
    # (the repository root), if it is there.
    beside = (projects_root or _DEFAULTS.projects_root).resolve().parent / DEFAULT_CONFIG_FILE
    config_file = ConfigFile(config, required=True) if config else ConfigFile(beside)
    return resolve_options(explicit, os.environ, config_file)


def _environment_secrets() -> list[str]:
    variables = [s.env for s in SETTINGS.values() if s.secret and s.env]
    values = [os.environ.get(v, "") for v in variables if v != BUILD_SECRETS_VARIABLE]
    return [*values, *secret_values(os.environ.get(BUILD_SECRETS_VARIABLE, "").splitlines())]


def _option_name(name: str) -> str:
    return "--build-secret" if name == "build_secrets" else f"--{SETTINGS[name].key}"


@app.command()
def plan(
    projects_root: ProjectsRoot = None,
    registry: Registry = None,
    registry_username: RegistryUser = None,
    registry_password: RegistryPassword = None,
    tenant: Tenant = None,
    repository: Repository = None,
    base_image: BaseImage = None,
    work_pool: WorkPool = None,
    work_pool_type: WorkPoolType = None,
    platforms: Platforms = None,
    flows: Flows = None,
    max_parallel: MaxParallel = None,
    timeout_minutes: TimeoutMinutes = None,
    prefect_api_url: ApiUrl = None,
    prefect_api_key: ApiKey = None,
    force: Force = None,
    prune: Prune = None,
    keep_images: KeepImages = None,
    build_secret: BuildSecret = None,
    mask_build_args: MaskBuildArgs = None,
    builder: Builder = None,
    builder_tls_ca: BuilderTls = None,
    builder_tls_cert: BuilderTls = None,
    builder_tls_key: BuilderTls = None,
    config: Config = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Also write the plan to this file, for review; `deploy --plan FILE` applies "
            "exactly it (and refuses if the repository, registry or server moved since)."
        ),
    ] = None,
) -> None:
    """Show what would be built, pushed and registered, and why. Changes nothing."""
    log.stdout_is_data = json_output  # before the first mask command
    options = _options(**{k: v for k, v in locals().items() if k not in ("json_output", "out")})
    from .engine import Engine, report_problems
    from .report import plan_json, print_plan

    if json_output:
        log.quiet = True
    engine = Engine(options)
    result = engine.plan()
    report_problems(result)
    result = engine.preview_retention(result)
    if out is not None:
        from .plan_file import dump

        out.write_text(dump(result, options), encoding="utf-8")
        log.info(f"wrote the plan to {out}: `prefect-flow-deploy deploy --plan {out}` applies it")
    if json_output:
        print(log.redact(plan_json(result)))
    else:
        print_plan(result, Console())
    if result.failed:
        raise typer.Exit(DeployFailedError.exit_code)


@app.command()
def deploy(
    projects_root: ProjectsRoot = None,
    registry: Registry = None,
    registry_username: RegistryUser = None,
    registry_password: RegistryPassword = None,
    tenant: Tenant = None,
    repository: Repository = None,
    base_image: BaseImage = None,
    work_pool: WorkPool = None,
    work_pool_type: WorkPoolType = None,
    platforms: Platforms = None,
    flows: Flows = None,
    max_parallel: MaxParallel = None,
    timeout_minutes: TimeoutMinutes = None,
    prefect_api_url: ApiUrl = None,
    prefect_api_key: ApiKey = None,
    force: Force = None,
    prune: Prune = None,
    fail_fast: FailFast = None,
    keep_images: KeepImages = None,
    build_secret: BuildSecret = None,
    mask_build_args: MaskBuildArgs = None,
    builder: Builder = None,
    builder_tls_ca: BuilderTls = None,
    builder_tls_cert: BuilderTls = None,
    builder_tls_key: BuilderTls = None,
    config: Config = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    plan_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--plan",
            help="Apply exactly this plan (from `plan --out`); refused if the repository, "
            "registry or server moved since it was made.",
        ),
    ] = None,
) -> None:
    """Build and push what changed, and register every flow as a Prefect deployment."""
    log.stdout_is_data = json_output  # before the first mask command
    options = _options(
        **{k: v for k, v in locals().items() if k not in ("json_output", "plan_file")}
    )
    import json

    from .engine import Engine
    from .report import print_result, result_rows

    saved = None
    if plan_file is not None:
        from .plan_file import load

        saved = load(plan_file)
    live = live_view(json_output)
    with live or contextlib.nullcontext():
        engine = Engine(options, live)
        result = engine.apply(saved) if saved else engine.deploy()
    if json_output:
        print(log.redact(json.dumps(result_rows(result), indent=2)))
    else:
        print_result(result, Console(stderr=True))
    if result.failed:
        raise typer.Exit(result.exit_code)


@app.command()
def validate(
    projects_root: ProjectsRoot = None,
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
    projects_root: ProjectsRoot = None,
) -> None:
    """Create a flow folder that deploys as it is: flow.py (a typed parameter, a docstring),
    an empty requirements.txt and, with --schedule, a prefect.yaml."""
    from .scaffold import NewFlow, ScaffoldError, create

    try:
        target = create(
            NewFlow(project, folder, flow, schedule),
            Options(projects_root or _DEFAULTS.projects_root),
        )
    except ScaffoldError as exc:
        raise ConfigurationError(f"cannot create {project}/{folder}: {exc}") from exc
    files = ", ".join(sorted(p.name for p in target.iterdir()))
    log.info(f"created {target} ({files}); `prefect-flow-deploy plan` shows it as a create.")


def live_view(json_output: bool) -> LiveProgress | None:
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
    finally:  # on GitHub (a `run:` step), say when its annotations outnumber what it shows
        log.say_annotations_not_shown()


if __name__ == "__main__":
    main()
