"""The command line: `prefect-flow-deploy plan|deploy|validate|new|adopt` (the action calls
the same engine).

Every setting is declared once (`SHARED`), grouped into the help's panels, and a command
names the ones it takes (`takes`): typer reads the command's signature, so `takes` builds it
from the shared declarations and the command's own parameters.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console

from prefect_flow_deploy.core.errors import ConfigurationError, DeployFailedError, FatalError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.settings.options import (
    BUILD_SECRETS_VARIABLE,
    DEFAULT_CONFIG_FILE,
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

# Every setting defaults to None (unset), so that the settings cascade (settings.py) can tell
# an option given, even one equal to its default, from one left out; `show_default` shows
# the default the cascade falls back to (Options' fields). Help texts hold no long unbroken
# word: the help is read at 80 columns, where rich would cut one with an ellipsis.
_DEFAULTS = Options()
REPOSITORY, REGISTRY, PREFECT, RUN = "Repository", "Registry and build", "Prefect", "Run"
PREVIEWS = "Pull request previews"
_Text = Optional[str]  # noqa: UP045 (typer reads the annotation at run time)


def _option(help: str, panel: str, *names: str, **more: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel, **more)


SHARED: dict[str, Any] = {
    "projects_root": Annotated[
        Optional[Path],  # noqa: UP045
        _option(
            "Folder holding <project>/<flow folder>/ (or the root of a repository laid out "
            "as Prefect's docs do: prefect.yaml there).",
            REPOSITORY,
            show_default=str(_DEFAULTS.projects_root),
        ),
    ],
    "flows": Annotated[_Text, _option("Regular expression on <project>/<folder>.", REPOSITORY)],
    "tenant": Annotated[
        _Text, _option("Tenant: a block of the config file; recorded as a tag.", REPOSITORY)
    ],
    "repository": Annotated[
        _Text,
        _option(
            "owner/name recorded on each deployment (prune and take-over leave other "
            "repositories' alone). Default: GITHUB_REPOSITORY, else the git remote origin.",
            REPOSITORY,
        ),
    ],
    "config": Annotated[
        Optional[Path],  # noqa: UP045
        _option(
            "Config file with per-tenant settings; given, it must exist.",
            REPOSITORY,
            show_default=f"{DEFAULT_CONFIG_FILE} at the repository root, if there",
        ),
    ],
    "registry": Annotated[
        _Text,
        _option(
            "Image prefix, e.g. ghcr.io/acme/flows. Empty: build locally, push nothing.",
            REGISTRY,
        ),
    ],
    "registry_username": Annotated[
        _Text, _option("Registry login. Also PFD_REGISTRY_USERNAME.", REGISTRY)
    ],
    "registry_password": Annotated[
        _Text, _option("Registry password or token. Also PFD_REGISTRY_PASSWORD.", REGISTRY)
    ],
    "base_image": Annotated[
        _Text,
        _option(
            "Base image for folders without a Dockerfile.",
            REGISTRY,
            show_default=_DEFAULTS.base_image,
        ),
    ],
    "platforms": Annotated[
        _Text,
        _option(
            "Platforms to build each image for, comma-separated, e.g. linux/amd64,linux/arm64 "
            "(one manifest list). Empty: the engine's own.",
            REGISTRY,
        ),
    ],
    "build_secret": Annotated[
        Optional[list[str]],  # noqa: UP045
        _option(
            "A build secret for BuildKit (RUN --mount=type=secret,id=ID); repeat for more. "
            "Also PFD_BUILD_SECRETS (lines of id=value). Values never reach the tag.",
            REGISTRY,
            "--build-secret",
            metavar="ID=VALUE",
            show_default=False,
        ),
    ],
    "mask_build_args": Annotated[
        Optional[bool],  # noqa: UP045
        _option(
            "Mask every build arg's value in the output (those named like a credential "
            "always are).",
            REGISTRY,
            "--mask-build-args",
        ),
    ],
    "builder": Annotated[
        _Text,
        _option(
            "Where images are built, checked and pushed: tcp://host:2376 (a Docker engine), "
            "ssh://user@host, unix:///path/docker.sock, buildkit://host:1234 (a BuildKit "
            "daemon) or buildx:NAME. Also PFD_BUILDER.",
            REGISTRY,
            show_default="this machine's engine",
        ),
    ],
    "builder_tls_ca": Annotated[
        _Text,
        _option("PEM text or file: the builder's TLS CA. Also PFD_BUILDER_TLS_CA.", REGISTRY),
    ],
    "builder_tls_cert": Annotated[
        _Text,
        _option(
            "PEM text or file: the client certificate for the builder. Also PFD_BUILDER_TLS_CERT.",
            REGISTRY,
        ),
    ],
    "builder_tls_key": Annotated[
        _Text,
        _option(
            "PEM text or file: the key of that certificate (a secret). Also PFD_BUILDER_TLS_KEY.",
            REGISTRY,
        ),
    ],
    "force": Annotated[
        Optional[bool],  # noqa: UP045
        _option("Rebuild every image (fresh base pull, no cache).", REGISTRY, "--force"),
    ],
    "prefect_api_url": Annotated[_Text, _option("Prefect API URL. Also PREFECT_API_URL.", PREFECT)],
    "prefect_api_key": Annotated[_Text, _option("Prefect API key. Also PREFECT_API_KEY.", PREFECT)],
    "work_pool": Annotated[
        _Text,
        _option(
            "Work pool, of any type that runs an image.",
            PREFECT,
            show_default=_DEFAULTS.work_pool,
        ),
    ],
    "work_pool_type": Annotated[
        _Text,
        _option(
            "Type of a work pool created (docker, kubernetes, ecs and others), with that "
            "worker's default job template.",
            PREFECT,
            show_default=_DEFAULTS.work_pool_type,
        ),
    ],
    "create_work_pool": Annotated[
        Optional[bool],  # noqa: UP045
        _option(
            "Create a work pool that does not exist (no worker serves it yet). Default: "
            f"only the pool named {_DEFAULTS.work_pool}; another missing pool is an error.",
            PREFECT,
            "--create-work-pool/--no-create-work-pool",
            show_default=False,
        ),
    ],
    "max_parallel": Annotated[
        Optional[int],  # noqa: UP045
        _option(
            "Builds and pushes at once (deployment writes: one at a time to a self-hosted "
            "server, up to twice this to Prefect Cloud).",
            RUN,
            show_default=str(_DEFAULTS.max_parallel),
        ),
    ],
    "timeout_minutes": Annotated[
        Optional[float],  # noqa: UP045
        _option(
            "Deadline of the run: after this many minutes no build, push or write starts, a "
            "build under way is stopped and retries stop waiting; what was not done is "
            "reported skipped (exit 7). 0: none.",
            RUN,
            show_default=f"{_DEFAULTS.timeout_minutes:g}",
        ),
    ],
    "prune": Annotated[
        Optional[bool],  # noqa: UP045
        _option("Delete managed deployments whose folder or flow is gone.", RUN, "--prune"),
    ],
    "force_order": Annotated[
        Optional[bool],  # noqa: UP045
        _option(
            "Deploy this commit even over deployments recorded from a newer commit (the "
            "deploy order skips those otherwise).",
            RUN,
            "--force-order",
        ),
    ],
    "fail_fast": Annotated[
        Optional[bool],  # noqa: UP045
        _option("Stop at the first failing folder.", RUN, "--fail-fast"),
    ],
    "keep_images": Annotated[
        Optional[int],  # noqa: UP045
        _option(
            "After a successful deploy, delete each folder repository's images beyond the "
            "newest N that no deployment on the server uses. Default: keep all.",
            RUN,
            metavar="N",
        ),
    ],
    "preview": Annotated[
        Optional[int],  # noqa: UP045
        _option(
            "Write pull request PR's previews (paused, named <deployment>-pr-PR) of the "
            "folders that differ from what production runs, instead of the deployments.",
            PREVIEWS,
            "--preview",
            metavar="PR",
            show_default=False,
        ),
    ],
    "preview_closed": Annotated[
        Optional[bool],  # noqa: UP045
        _option(
            "With --preview PR: the pull request is closed; remove its previews.",
            PREVIEWS,
            "--preview-closed",
        ),
    ],
    "preview_work_pool": Annotated[
        _Text, _option("Work pool of the previews. Default: each deployment's own.", PREVIEWS)
    ],
    "max_previews": Annotated[
        Optional[int],  # noqa: UP045
        _option(
            "Pull requests with previews at once; beyond it the least recently updated "
            "ones' are removed.",
            PREVIEWS,
            show_default=str(_DEFAULTS.max_previews),
        ),
    ],
}
# The settings `plan` and `deploy` take (deploy also --fail-fast).
RUN_SETTINGS = tuple(name for name in SHARED if name != "fail_fast")
READ_SETTINGS = ("projects_root", "flows", "tenant", "config")


def takes(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The command with the shared options `names` added to its signature (before its own
    parameters); it receives them as one mapping, `given`."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name != "given"
        ]
        shared = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=SHARED[n])
            for n in names
        ]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            command(given={n: values.pop(n) for n in names}, **values)

        params = [*shared, *own]  # panels in the order they first appear
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate


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
    log.stdout_is_data = json_output  # before the first mask command
    _require_deploy_extra("plan")
    options = _options(given)
    from prefect_flow_deploy.reports.terminal import plan_json, print_plan
    from prefect_flow_deploy.run.engine import Engine, report_problems

    if json_output:
        log.quiet = True
    engine = Engine(options)
    result = engine.plan()
    report_problems(result)
    result = engine.preview_retention(result)
    if out is not None:
        from prefect_flow_deploy.run.plan_file import dump

        out.write_text(dump(result, options), encoding="utf-8")
        log.info(f"wrote the plan to {out}: `prefect-flow-deploy deploy --plan {out}` applies it")
        from prefect_flow_deploy.run.plan_file import hash_of

        log.info(f"plan sha256:{hash_of(result, options)} (the plan comment shows the same)")
    if json_output:
        print(log.redact(plan_json(result)))
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
    import json

    from prefect_flow_deploy.reports.terminal import print_result, result_rows
    from prefect_flow_deploy.run.engine import Engine

    saved = None
    if plan_file is not None:
        from prefect_flow_deploy.run.plan_file import load

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
@takes(*READ_SETTINGS)
def validate(given: dict[str, Any]) -> None:
    """Check every flow folder without Docker, Prefect or a registry (for pre-commit).

    Flows, prefect.yaml, requirements.txt, Dockerfiles, name collisions. Exit 1 on errors."""
    options = _options(given)
    import time

    from prefect_flow_deploy.commands.validate import validate as check
    from prefect_flow_deploy.reading.discovery import report_folder_problems

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


if __name__ == "__main__":
    main()
