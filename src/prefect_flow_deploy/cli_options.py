"""The command line's settings, declared once (`SHARED`) and grouped into the help's panels;
a command names the ones it takes (`takes`): typer reads the command's signature, so `takes`
builds it from the shared declarations and the command's own parameters (cli.py)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from prefect_flow_deploy.settings.options import DEFAULT_CONFIG_FILE, Options

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
