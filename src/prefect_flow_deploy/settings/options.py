"""The options of a run: one typed object, its defaults, and the table of settings.

`Options`' field defaults are the defaults, in this one place; `SETTINGS` names each option
in the config file, the action's inputs, the CLI and the environment. `settings.py` resolves
them in order (defaults → config file → environment → explicit options or inputs) and keeps
where each value came from in `Options.sources`. Secrets (registry password, Prefect API key,
build secrets) come only from options, inputs or the environment, never from the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.naming import is_valid_registry, normalise_registry, registry_host
from prefect_flow_deploy.settings.builder import FORMS, build_plan

DEFAULT_CONFIG_FILE = "prefect-flow-deploy.yaml"
# The default work pool: the only one created when missing unless create-work-pool says.
DEFAULT_WORK_POOL = "docker-pool"
BUILD_SECRETS_VARIABLE = "PFD_BUILD_SECRETS"
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
_TLS_OPTIONS = ("builder_tls_ca", "builder_tls_cert", "builder_tls_key")


@dataclass(frozen=True)
class Options:
    """The run's options; the field defaults are the defaults (the CLI's --help shows them,
    action.yml's descriptions say them)."""

    projects_root: Path = Path("projects")
    registry: str = ""
    registry_username: str | None = None
    registry_password: str | None = None
    tenant: str | None = None
    # owner/name of the repository whose deployments these are (see ownership.py).
    repository: str | None = None
    base_image: str = "prefecthq/prefect:3-python3.12"
    work_pool: str = DEFAULT_WORK_POOL
    work_pool_type: str = "docker"  # of a pool created when missing
    # Create a missing work pool (True), or fail its deployments (False); None: only the
    # default pool is created (a mistyped pool name is an error, not a pool no worker serves).
    create_work_pool: bool | None = None
    # Comma-separated target platforms ("linux/amd64,linux/arm64"); empty: the engine's own.
    platforms: str = ""
    flows: str | None = None
    max_parallel: int = 4
    # After this many minutes no build, push or write starts and no retry waits (http_retry);
    # 0: no deadline. Why 60: README, "Retries and the deadline".
    timeout_minutes: float = 60.0
    prefect_api_url: str | None = None
    prefect_api_key: str | None = None
    force: bool = False
    # Write even over a deployment recorded from a newer commit (commit_order.py).
    force_order: bool = False
    prune: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    keep_images: int | None = None  # None: keep every image
    # Previews (previews.py): with `previews` on, a run for a pull request (`pull_request`,
    # its number) writes that pull request's previews instead of the deployments; once it is
    # closed (`preview_closed`) it only removes them.
    previews: bool = False
    pull_request: int | None = None
    preview_closed: bool = False
    preview_merged: bool = False  # closed by a merge: its images may be production's next
    preview_work_pool: str | None = None  # None: the deployments' own pools
    max_previews: int = 10  # pull requests of a repository with previews at once
    # Set by a tenant block of the config file (see config.py).
    extra_tags: tuple[str, ...] = ()
    schedules_active: bool | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    job_variables: dict[str, Any] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    # Mask every build arg's value, not only those that look like credentials.
    mask_build_args: bool = False
    # id → value, given to BuildKit as secrets (never build args); never from the config file,
    # never in a repr, a log, an image or the tag (only the ids are hashed).
    build_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # Where images are built, checked and pushed (builder_choice.py); None: this runner's
    # engine. Its TLS client certificate: PEM text or a file, secrets (never from the file).
    builder: str | None = None
    builder_tls_ca: str | None = field(default=None, repr=False)
    builder_tls_cert: str | None = field(default=None, repr=False)
    builder_tls_key: str | None = field(default=None, repr=False)
    # Option → where its value came from ("--work-pool", "environment PREFECT_API_URL",
    # "prefect-flow-deploy.yaml:7 (tenant prod)"); an option not in it is at its default.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def creates_pool(self, name: str) -> bool:
        """Whether a work pool of this name, missing on the server, is created."""
        if self.create_work_pool is not None:
            return self.create_work_pool
        return name == DEFAULT_WORK_POOL

    def validate(self) -> Options:
        """Check every value; return the options with the registry in its canonical form."""
        if self.registry != normalise_registry(self.registry):
            return replace(self, registry=normalise_registry(self.registry)).validate()
        if not self.projects_root.is_dir() and self.source("projects_root") != "default":
            # The default may be missing: a repository in Prefect's own layout has none, and
            # finding no flow folder at all is an error that says what is there instead.
            raise ConfigurationError(
                f"the projects root {self.projects_root} is not a folder. Set projects-root "
                "(--projects-root) to the folder that holds <project>/<flow folder>/."
            )
        if self.registry and not is_valid_registry(self.registry):
            raise ConfigurationError(
                f"registry {self.registry!r} is not a valid image prefix: use host[/path], "
                "lower case, e.g. ghcr.io/acme/flows or localhost:5000/flows."
            )
        if bool(self.registry_username) != bool(self.registry_password):
            raise ConfigurationError(
                "give both registry-username and registry-password, or neither."
            )
        if self.prune and not self.repository:
            raise ConfigurationError(
                "--prune needs to know which repository this run deploys, so that it removes "
                "only deployments that repository recorded: give --repository owner/name (the "
                "action has GITHUB_REPOSITORY), or run from a checkout whose git remote origin "
                "names it. Without --prune nothing is removed."
            )
        if self.keep_images is not None and self.keep_images < 0:
            raise ConfigurationError(
                f"keep-images must be 0 or more (images kept besides those in use), not {self.keep_images}"
            )
        if self.platforms != ",".join(self.platform_list):
            return replace(self, platforms=",".join(self.platform_list)).validate()
        bad = [p for p in self.platform_list if not _PLATFORM.match(p)]
        if bad:
            raise ConfigurationError(
                f"platforms: {bad[0]!r} is not a platform; write os/architecture[/variant], "
                "comma-separated, e.g. linux/amd64,linux/arm64."
            )
        if len(self.platform_list) > 1 and not self.registry:
            raise ConfigurationError(
                "platforms names several platforms: their images are joined into one manifest "
                "list in a registry, so set registry (--registry) too."
            )
        if self.max_parallel < 1:
            raise ConfigurationError("max-parallel must be at least 1")
        if self.max_previews < 1:
            raise ConfigurationError(
                f"max-previews must be at least 1 (pull requests with previews at once), not "
                f"{self.max_previews}; to make no previews, leave preview off"
            )
        if self.pull_request is not None and self.pull_request < 1:
            raise ConfigurationError(
                f"--preview takes the pull request's number (1 or more), not {self.pull_request}"
            )
        if self.timeout_minutes < 0:
            raise ConfigurationError(
                f"timeout-minutes must be 0 (no deadline) or more, not {self.timeout_minutes:g}"
            )
        self.build_plan()  # the builder's address and its TLS settings
        if self.flows:
            import re

            try:
                re.compile(self.flows)
            except re.error as exc:
                raise ConfigurationError(
                    f"flows {self.flows!r} is not a valid regular expression: {exc}"
                ) from exc
        return self

    def build_plan(self) -> BuildPlan:
        """Where this run builds and with which cache (builder_choice.py)."""
        return build_plan(
            self.builder,
            self.registry,
            (self.builder_tls_ca, self.builder_tls_cert, self.builder_tls_key),
            tuple(self.source(n) for n in ("builder", *_TLS_OPTIONS)),
        )

    @property
    def preview(self) -> int | None:
        """The pull request whose previews this run writes or removes; None: a normal run."""
        return self.pull_request if self.previews else None

    @property
    def platform_list(self) -> tuple[str, ...]:
        """The platforms, lower-cased, each once, in a stable order."""
        return tuple(sorted({p.strip().lower() for p in self.platforms.split(",") if p.strip()}))

    def credentials(self) -> dict[str, Credentials]:
        if not (self.registry and self.registry_username and self.registry_password):
            return {}
        return {
            registry_host(self.registry + "/x"): Credentials(
                self.registry_username, self.registry_password
            )
        }


Merge = Literal["replace", "append", "update"]


@dataclass(frozen=True)
class Setting:
    """One option as the outside world names it."""

    key: str  # in the config file, the action's inputs and the CLI (`--key`)
    env: str | None = None  # the environment variable that sets it
    # The YAML types the config file may give, and how its error message says so; () when
    # the file never sets it.
    file: tuple[type, ...] = ()
    expected: str = ""
    secret: bool = False  # masked in every log, `***` in the resolved options' print
    # How a later source combines with an earlier one: "replace"; "append" (tags add up);
    # "update" (a mapping: the later source's keys win, the others stay).
    merge: Merge = "replace"


# Every option, by its `Options` attribute, in the order the verbose print lists them.
SETTINGS: dict[str, Setting] = {
    "projects_root": Setting("projects-root", file=(str,), expected="a folder path"),
    "tenant": Setting("tenant"),
    "registry": Setting(
        "registry", file=(str,), expected="an image prefix such as ghcr.io/acme/flows"
    ),
    "registry_username": Setting("registry-username", env="PFD_REGISTRY_USERNAME"),
    "registry_password": Setting("registry-password", env="PFD_REGISTRY_PASSWORD", secret=True),
    "repository": Setting("repository", env="GITHUB_REPOSITORY"),
    "prefect_api_url": Setting(
        "prefect-api-url", env="PREFECT_API_URL", file=(str,), expected="a URL"
    ),
    "prefect_api_key": Setting("prefect-api-key", env="PREFECT_API_KEY", secret=True),
    "base_image": Setting("base-image", file=(str,), expected="an image reference"),
    "work_pool": Setting("work-pool", file=(str,), expected="a work pool name"),
    "work_pool_type": Setting(
        "work-pool-type", file=(str,), expected="a worker type such as docker or kubernetes"
    ),
    "create_work_pool": Setting("create-work-pool", file=(bool,), expected="true or false"),
    "platforms": Setting(
        "platforms",
        file=(str,),
        expected="comma-separated platforms, e.g. linux/amd64,linux/arm64",
    ),
    "flows": Setting("flows"),
    "max_parallel": Setting("max-parallel", file=(int,), expected="a number"),
    "timeout_minutes": Setting(
        "timeout-minutes", file=(int, float), expected="a number of minutes (0: no deadline)"
    ),
    "force": Setting("force"),
    "force_order": Setting("force-order"),
    "prune": Setting("prune"),
    "fail_fast": Setting("fail-fast"),
    "dry_run": Setting("dry-run"),
    "keep_images": Setting("keep-images"),
    "previews": Setting("preview", file=(bool,), expected="true or false"),
    "pull_request": Setting("pull-request"),
    "preview_closed": Setting("preview-closed"),
    "preview_merged": Setting("preview-merged"),
    "preview_work_pool": Setting("preview-work-pool", file=(str,), expected="a work pool name"),
    "max_previews": Setting(
        "max-previews", file=(int,), expected="a number of pull requests (1 or more)"
    ),
    "extra_tags": Setting("tags", file=(list,), expected="a list of tags", merge="append"),
    "schedules_active": Setting("schedules-active", file=(bool,), expected="true or false"),
    "parameters": Setting(
        "parameters",
        file=(dict,),
        expected="a mapping of flow name (or '*') to parameters",
        merge="update",
    ),
    "job_variables": Setting(
        "job-variables", file=(dict,), expected="a mapping of job variables", merge="update"
    ),
    "build_args": Setting(
        "build-args",
        file=(dict,),
        expected="a mapping of build argument names to values",
        merge="update",
    ),
    "mask_build_args": Setting("mask-build-args", file=(bool,), expected="true or false"),
    "build_secrets": Setting(
        "build-secrets", env=BUILD_SECRETS_VARIABLE, secret=True, merge="update"
    ),
    "builder": Setting("builder", env="PFD_BUILDER", file=(str,), expected=FORMS),
    "builder_tls_ca": Setting("builder-tls-ca", env="PFD_BUILDER_TLS_CA", secret=True),
    "builder_tls_cert": Setting("builder-tls-cert", env="PFD_BUILDER_TLS_CERT", secret=True),
    "builder_tls_key": Setting("builder-tls-key", env="PFD_BUILDER_TLS_KEY", secret=True),
}


@dataclass(frozen=True)
class Given:
    """A value one source gives an option, and where: "--work-pool", "environment
    PREFECT_API_URL", "prefect-flow-deploy.yaml:7 (tenant prod)"."""

    value: Any
    source: str


# What one source gives: Options attribute → value; an option it does not set is absent.
Layer = dict[str, Given]


def combine(name: str, before: Given | None, after: Given) -> Given:
    """`after` over `before`, by the option's merge rule (SETTINGS)."""
    merge = SETTINGS[name].merge
    if before is None or merge == "replace":
        return after
    source = f"{before.source} + {after.source}"
    if merge == "append":
        return Given(tuple(dict.fromkeys([*before.value, *after.value])), source)
    return Given({**before.value, **after.value}, source)


# BuildKit reads `--secret id=ID,src=FILE` as comma-separated fields: an id holds no comma.
_SECRET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A name that says its value is a credential: a build arg (warned about and masked), a job
# variable or parameter key (hidden in the plan comment).
SECRET_NAME = re.compile(
    r"(?i)secret|passw|pwd|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth"
)


def secret_values(lines: Iterable[str]) -> list[str]:
    """Every value in `id=value` lines, for masking before the lines are even validated (a
    line without `=` is masked whole: it may be a bare token)."""
    values = []
    for line in lines:
        _, equals, value = line.strip().partition("=")
        values.append(value.strip() if equals else line.strip())
    return [v for v in values if v]


def parse_build_secrets(lines: Iterable[str], source: str, item: str = "line") -> dict[str, str]:
    """`id=value` lines (blank lines and `#` comments skipped) → {id: value}. A mistake names
    the source and the line (`item`: what a line is called there), never the value."""
    secrets: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        secret_id, equals, value = line.partition("=")
        secret_id, value = secret_id.strip(), value.strip()
        where = f"{source}, {item} {number}"
        if not equals or not _SECRET_ID.fullmatch(secret_id):
            raise ConfigurationError(
                f"{where}: expected `id=value`, with an id of letters, digits, `_`, `.` or "
                "`-` (e.g. `pip-index-url=https://user:token@pypi.example.com/simple`)."
            )
        if not value:
            raise ConfigurationError(f"{where}: the build secret `{secret_id}` has no value.")
        if secret_id in secrets:
            raise ConfigurationError(f"{where}: the build secret `{secret_id}` is given twice.")
        secrets[secret_id] = value
    return secrets
