"""The plain data passed along the pipeline: discovery → plan → build → push → register → report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.core.frozen import FrozenMap
from prefect_flow_deploy.core.server_state import Pool, ServerState

MANAGED_TAG = "managed-by:prefect-flow-deploy"
TENANT_TAG_PREFIX = "tenant:"
PROJECT_TAG_PREFIX = "project:"
# The title of reading's error for two flows of one name in a folder (rules skip them).
DUPLICATE_FLOW_NAME = "Duplicate flow name"


@dataclass(frozen=True)
class Problem:
    """Something wrong in the user's repository, pointing at the file (and line) to fix."""

    severity: Literal["error", "warning"]
    message: str
    file: Path | None = None
    line: int | None = None
    title: str = ""
    # The entrypoint of the one flow this fails (a name collision), `<file>:*` for the flows
    # of one file (an import Prefect 3 removed), or the full name of the one deployment (a
    # work pool its entry names): the folder's others still deploy. None: the whole folder.
    flow: str | None = None
    # The finding alone, without the advice (`syntax error …: invalid syntax`): what a later
    # rule that says the problem otherwise (a file no flow loads) starts from.
    cause: str = ""


@dataclass(frozen=True)
class FlowSpec:
    """A `@flow` function found by reading the source."""

    name: str  # the Prefect flow name
    function: str
    file: str  # path relative to the flow folder, POSIX
    line: int
    # None when only the flow's own code can tell (a type from a library): computed in the
    # built image, and `schema_pending` says why.
    parameter_schema: dict[str, Any] | None
    description: str | None = None
    schema_pending: str | None = None
    # Why only running the file tells the flow's name: `name` is then pending_name(...),
    # and the built image computes it (with the schema).
    name_pending: str | None = None
    # A flow made by a factory of the folder: where (the factory's path, first, last line):
    # a `@flow` inside that function is no "flow inside a function" then.
    made: tuple[str, int, int] | None = None

    @property
    def entrypoint(self) -> str:
        return f"{self.file}:{self.function}"


def pending_name(entrypoint: str) -> str:
    """What stands for a flow name only the built image can tell: `<file.py:attribute>`.
    No flow is so named (Prefect refuses `<`, `>` and `/` in names)."""
    return f"<{entrypoint.replace('/', '|')}>"


def is_pending_name(name: str) -> bool:
    return name.startswith("<") and name.endswith(">")


@dataclass(frozen=True)
class ModuleImport:
    """A third-party module a folder's code imports (checked against the built image)."""

    module: str  # top-level name
    file: str  # relative to the folder, POSIX
    line: int
    # `from prefect.<…> import <name>`: the module and the name, checked against the image's
    # own Prefect; `nested`: inside a function (it fails only when that runs), for any module.
    path: str = ""
    name: str = ""
    nested: bool = False
    # After the file changed `sys.path` at its top (`sys.path.insert(0, …)`): where Python
    # finds the module is known only by loading the file, as Prefect does, in the image.
    after_path_change: bool = False
    dotted: str = ""  # the whole name imported (`src.services.logger`), `module` its top


@dataclass(frozen=True)
class DeploymentConfig:
    """One `deployments:` entry of a folder's prefect.yaml: only the fields we honour
    (deployment_fields.FIELDS says how each is read)."""

    entrypoint: str | None = None
    flow_name: str | None = None
    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[dict[str, Any], ...] | None = None
    work_pool: str | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    concurrency_limit: int | None = None
    # Prefect's concurrency_options: collision_strategy (and grace_period_seconds).
    concurrency_options: dict[str, Any] | None = None
    work_queue_name: str | None = None
    enforce_parameter_schema: bool | None = None
    paused: bool | None = None  # None: the server's value (set in the UI) is kept
    triggers: tuple[dict[str, Any], ...] = ()
    line: int | None = None
    # Line of each key of the entry (and of work_pool's keys as `work_pool.<key>`).
    lines: Mapping[str, int] = field(default_factory=dict)
    # Fields of deployment_fields.FIELDS without an attribute here, by API name.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", FrozenMap(self.lines))


def config_matches(config: DeploymentConfig, flow: FlowSpec) -> bool:
    """Whether a `deployments:` entry names this flow: by its entrypoint, relative to the
    folder or to the repository root (as `prefect deploy` run from the root writes it), or
    by the flow's name."""
    if config.entrypoint:
        entrypoint = config.entrypoint.removeprefix("./")
        return entrypoint == flow.entrypoint or entrypoint.endswith("/" + flow.entrypoint)
    return config.flow_name == flow.name


@dataclass(frozen=True)
class FlowFolder:
    """One flow folder as reading it found it: read-only (a changed folder is a new value,
    `dataclasses.replace`)."""

    project: str
    name: str
    path: Path
    flows: Sequence[FlowSpec] = ()
    dockerfile: Path | None = None
    requirements: Path | None = None
    prefect_yaml: Path | None = None
    deployment_configs: Sequence[DeploymentConfig] = ()
    problems: Sequence[Problem] = ()
    imports: Sequence[ModuleImport] = ()
    # requirements.txt names files of the folder (`-r base.txt`, `./mylib`): pip needs them.
    requirements_name_files: bool = False

    def __post_init__(self) -> None:
        """Tuples, whatever sequence it was given."""
        for name in ("flows", "deployment_configs", "problems", "imports"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" and p.flow is None for p in self.problems)

    def flow_error(self, entrypoint: str) -> str | None:
        """Why this one flow cannot deploy (the folder's others can), else None."""
        own = (entrypoint, entrypoint.rpartition(":")[0] + ":*")
        return next(
            (p.message for p in self.problems if p.severity == "error" and p.flow in own),
            None,
        )


@dataclass(frozen=True)
class BuildRecipe:
    """How a folder's image is built; the planner hashes it, the builder runs it."""

    dockerfile_text: str | None  # our recipe; None when the folder has its own Dockerfile
    dockerignore_text: str | None
    build_args: Mapping[str, str]
    bases: Sequence[tuple[str, int]]  # (reference, line in the Dockerfile)
    files: Mapping[str, str]  # relative path → sha256 (without the +x marker)
    expected_code_dir: str | None
    secret_ids: frozenset[str] = frozenset()  # build secrets offered (values: Options only)
    # Links whose target (a file of the repository outside the folder) the build receives in
    # their place (linked_files.py), relative paths.
    linked: tuple[str, ...] = ()
    executable: frozenset[str] = frozenset()  # files whose owner may run them (the tag's +x)

    def __post_init__(self) -> None:
        """Read-only collections (tuples, FrozenMap), whatever it was given."""
        object.__setattr__(self, "build_args", FrozenMap(self.build_args))
        object.__setattr__(self, "bases", tuple(self.bases))
        object.__setattr__(self, "files", FrozenMap(self.files))


ImageAction = Literal["exists", "build", "failed", "skipped"]


@dataclass(frozen=True)
class ImageAnswer:
    """One folder's image as the registry sees it: its content-tagged name, and whether an
    image of that content is there already."""

    repository: str
    tag: str | None  # None: a base image could not be resolved (`base_error` says which)
    inputs: Mapping[str, str] = field(default_factory=dict)  # input → digest (the tag's hash)
    digest: str | None = None  # the image is there (registry, or the local engine without one)
    base_error: tuple[str, int] | None = None  # (message, Dockerfile line of that FROM)
    registry_error: str | None = None  # the registry could not be asked about it
    # The inputs label of the image the folder's deployments run now, when it would be
    # rebuilt (it says what changed); None when there is no such image to compare with.
    previous_inputs: Mapping[str, str] | None = None
    # Its build-seconds label (shards by cost), read with the same labels; None: unknown.
    previous_build_seconds: float | None = None


@dataclass(frozen=True)
class ImagePlan:
    """What to do about one folder's image."""

    folder: FlowFolder
    repository: str
    tag: str
    inputs: dict[str, str]  # input name → digest: what the tag is a hash of
    action: ImageAction = "build"
    reason: str = ""
    code_dir: str | None = None  # where the image holds the folder's files, when known
    digest: str | None = None  # registry digest once pushed or found
    # An image that exists and is pulled and checked all the same: where it holds its code
    # is not known, or a deployment to write waits for a schema or name only it can tell.
    check: bool = False
    # The image the folder's deployments run now: the build's cache source (None: none).
    cache_from: str | None = None
    # How long the folder's last build took (its deployed image's label: build_seconds.py),
    # when a build is planned and it is known: the fan-out's cost (shards.py).
    last_build_seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", FrozenMap(self.inputs))

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


# remove: deleted by this run (--prune, or a preview the plan retires); orphan: its folder or
# flow is gone, and it is kept (--prune is off).
DeploymentAction = Literal["create", "update", "unchanged", "remove", "orphan", "failed", "skipped"]


@dataclass(frozen=True)
class DeploymentSpec:
    """The deployment we want the server to hold (deployment_fields.FIELDS says how each
    field is made, compared and written)."""

    flow_name: str
    name: str
    folder_key: str
    project: str
    entrypoint: str
    work_pool: str
    image: str  # reference; the image plan may fill in the final one after the build
    code_dir: str | None
    version: str
    tags: Sequence[str]
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    # None until the built image computes it (a signature the source alone cannot tell).
    parameter_schema: dict[str, Any] | None = field(default_factory=dict)
    enforce_parameter_schema: bool = True
    # None: not managed (the server's schedules stay); []: none (prefect.yaml `schedules: []`).
    # A schedule without `active` keeps the server's value for it (a UI switch stays).
    schedules: Sequence[dict[str, Any]] | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    concurrency_limit: int | None = None
    concurrency_options: dict[str, Any] | None = None
    work_queue_name: str | None = None  # None: the server's queue is kept
    paused: bool | None = None  # None: the server's value is kept (False on create)
    triggers: Sequence[dict[str, Any]] = ()
    source_file: Path | None = None
    source_line: int | None = None
    # prefect.yaml line of each key of the entry (`work_pool.job_variables`, …)
    source_lines: Mapping[str, int] = field(default_factory=dict)
    # Fields of deployment_fields.FIELDS without an attribute here, by API name.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Read-only collections (tuples, FrozenMap), whatever it was given."""
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.schedules is not None:
            object.__setattr__(self, "schedules", tuple(self.schedules))
        object.__setattr__(self, "triggers", tuple(self.triggers))
        object.__setattr__(self, "source_lines", FrozenMap(self.source_lines))

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


@dataclass(frozen=True)
class DeploymentPlan:
    spec: DeploymentSpec | None  # None for a removal
    full_name: str
    folder_key: str
    action: DeploymentAction
    changed_fields: Sequence[str] = ()
    deployment_id: str | None = None
    error: str | None = None
    # field → (old, new) as the API's JSON, for every changed field
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Trigger writes: ("create" | "update" | "remove", automation name, its id on the server)
    trigger_writes: Sequence[tuple[str, str, str | None]] = ()
    # Whose the deployment is: the repository recorded on the server (for a create, the one
    # this run records); None when none is recorded.
    owner: str | None = None
    # A preview (previews.py): the pull request it belongs to. A preview's removal is
    # carried out without --prune: the plan decided it (the pull request closed, …).
    preview: int | None = None
    reason: str | None = None  # why a removal (or an orphan) is planned

    def __post_init__(self) -> None:
        """Read-only collections (tuples, FrozenMap), whatever it was given."""
        object.__setattr__(self, "changed_fields", tuple(self.changed_fields))
        object.__setattr__(self, "trigger_writes", tuple(self.trigger_writes))
        object.__setattr__(self, "changes", FrozenMap(self.changes))


ProgressState = Literal[
    "reading", "queued", "building", "pulling", "checking", "pushing", "registering",
    "done", "failed", "skipped",
]  # fmt: skip


@dataclass(frozen=True)
class Progress:
    """What the engine is doing for one folder now: the live view's input (report side)."""

    folder: str  # project/folder
    state: ProgressState
    detail: str = ""  # the Dockerfile step being built, or the one-line reason of a failure


@dataclass(frozen=True)
class ImageDeletion:
    """keep-images: an image (every tag of one digest) deleted, or to be deleted."""

    repository: str
    digest: str
    tags: tuple[str, ...]
    created: str
    freed: int | None  # bytes no kept image shares; None when the registry tells no sizes
    outcome: str = "planned"  # planned / deleted / refused: <why>
    version_id: int | None = None  # GHCR: the package version to delete


@dataclass(frozen=True)
class Retention:
    """keep-images, as the plan decides it: which repositories are trimmed and what stays.
    What the registry and the server hold is read when it is applied (run/keep_images.py)."""

    keep: int  # images kept besides those in use
    repositories: tuple[str, ...]  # the folders' repositories (of images this plan names)
    # Each deployment this plan writes or removes, and the image it holds after the plan
    # (None: removed); every other deployment on the server keeps its own.
    planned: dict[str, str | None] = field(default_factory=dict)
    to_build: dict[str, str] = field(default_factory=dict)  # repository → the tag built
    # Deployments this plan removes → the image each held: those repositories are trimmed too.
    removed: dict[str, str] = field(default_factory=dict)
    # Deployments whose old image only previews used (a closed pull request's, one replaced)
    # → that image: deleted even among the newest, unless in use.
    dropped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("planned", "to_build", "removed", "dropped"):
            object.__setattr__(self, name, FrozenMap(getattr(self, name)))

    def after(self, written: set[str]) -> Retention:
        """After the run: only what the deployments actually written removed or dropped."""
        return replace(
            self,
            planned={},
            to_build={},
            removed={n: i for n, i in self.removed.items() if n in written},
            dropped={n: i for n, i in self.dropped.items() if n in written},
        )


@dataclass(frozen=True)
class Plan:
    """Every decision of a run, and what it was made from: the executor needs nothing else
    (besides the options' secrets) to build, push and register it."""

    folders: Sequence[FlowFolder]
    images: Sequence[ImagePlan]
    deployments: Sequence[DeploymentPlan]
    problems: Sequence[Problem] = ()  # the plan's own (not a folder's)
    image_deletions: Sequence[ImageDeletion] = ()  # keep-images, planned
    recipes: Mapping[str, BuildRecipe] = field(default_factory=dict)  # by folder key
    snapshot: ServerState | None = None  # the server's deployments the plan was made from
    pools: Mapping[str, Pool] = field(default_factory=dict)  # the work pools it names
    api_url: str | None = None  # the Prefect API it was planned against
    build: BuildPlan = field(default_factory=BuildPlan)  # where it builds, which cache
    # The work pools this plan creates: missing, and used by a deployment it keeps.
    pools_to_create: Sequence[Pool] = ()
    # Whether the deployments' version_info (the commit) is sent; else why not.
    version_info: bool = True
    version_info_reason: str = ""
    retention: Retention | None = None  # keep-images; None: every image is kept

    def __post_init__(self) -> None:
        """Read-only collections (tuples, FrozenMap), whatever it was given."""
        for name in ("folders", "images", "deployments", "problems", "image_deletions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "pools_to_create", tuple(self.pools_to_create))
        object.__setattr__(self, "recipes", FrozenMap(self.recipes))
        object.__setattr__(self, "pools", FrozenMap(self.pools))

    @property
    def failed(self) -> bool:
        return any(f.failed for f in self.folders) or any(
            d.action == "failed" for d in self.deployments
        )
