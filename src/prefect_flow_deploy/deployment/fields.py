"""The deployment fields, one entry each in FIELDS: the API's name, where prefect.yaml says
it (and how that is checked, with the line for errors), its value when the file is silent,
how it compares with the server's value (and whether a value set by hand on the server wins
when the file does not say), how it is written in the create body and the PATCH body, and
the key the plan shows it under.

Reading (prefect_yaml), the wanted deployment (planner), the comparison (deployments) and
the bodies (registration) loop over FIELDS: adding a field is one entry here, plus, for a
typed value, an attribute of DeploymentConfig / DeploymentSpec (without one it is carried in
their `extra`). Nothing here imports Prefect or the Docker SDK; a field's own functions may,
when they run.

Writing, for the oldest server supported (server_version.OLDEST_SUPPORTED, 3.2.0): a field
newer than that server is left out of the create body when it holds nothing (even a null
is refused there), and a PATCH sends only the fields that changed, with the ones the server
needs alongside (`write_with`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect_flow_deploy.core.model import (
    MANAGED_TAG,
    PROJECT_TAG_PREFIX,
    TENANT_TAG_PREFIX,
    DeploymentConfig,
    DeploymentSpec,
    FlowFolder,
    FlowSpec,
    ImagePlan,
    Problem,
)
from prefect_flow_deploy.deployment import schedules as deployment_schedules
from prefect_flow_deploy.deployment.commit_order import without_commit_tags
from prefect_flow_deploy.deployment.ownership import repository_tag

if TYPE_CHECKING:
    from prefect_flow_deploy.deployment.diff import ExistingDeployment
    from prefect_flow_deploy.settings.options import Options

FOLDER_TAG_PREFIX = "folder:"
SET_WORKDIR_STEP = "prefect.deployments.steps.set_working_directory"


class Marker(enum.Enum):
    # The file does not say: the server's value (set by hand) stays; neither compared nor
    # written on an update.
    KEEP = "keep"
    # Not sent in the body: the server applies its default.
    OMIT = "omit"


KEEP = Marker.KEEP
OMIT = Marker.OMIT


@dataclass
class Entry:
    """One `deployments:` entry of a prefect.yaml being read: its data, where it is, and the
    problems found so far (each at its key's line)."""

    data: dict[str, Any]
    path: Path
    line: int | None
    lines: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    def at(self, key: str) -> int | None:
        return self.lines.get(key, self.line)

    def error(self, message: str, key: str, title: str = "prefect.yaml") -> None:
        problem = Problem("error", message, self.path, self.at(key), title)
        if problem not in self.problems:  # fields read from one key report its shape once
            self.problems.append(problem)

    def bad(self, key: str, expected: str) -> None:
        self.error(f"`{key}` must be {expected}", key)

    def typed(self, key: str, kind: type | tuple[type, ...], expected: str) -> Any:
        value = self.data.get(key)
        if value is not None and not isinstance(value, kind):
            self.bad(key, expected)
            return None
        return value


@dataclass(frozen=True)
class Source:
    """What a wanted deployment is made from: one flow of a folder, the prefect.yaml entry
    naming it (or an empty one), the folder's image and the run's options."""

    folder: FlowFolder
    flow: FlowSpec
    config: DeploymentConfig
    image: ImagePlan
    options: Options


Reader = Callable[[Entry], Any]
Resolver = Callable[[Source], Any]
Value = Callable[[DeploymentSpec], Any]


@dataclass(frozen=True)
class DeploymentField:
    """One deployment field. Every function is optional; without it the plain default
    applies (noted per attribute)."""

    api: str  # its name in the API's JSON: the comparison's key, the bodies' key
    # Attribute of DeploymentConfig / DeploymentSpec carrying it; None: their `extra[api]`.
    attr: str | None = None
    # Where prefect.yaml says it (`work_pool.name`; a refused write points there); None: nowhere.
    yaml: str | None = None
    aliases: tuple[str, ...] = ()  # other top-level keys of an entry it accepts
    read: Reader | None = None  # prefect.yaml entry → DeploymentConfig value; None: not read
    # → DeploymentSpec value; default: the value read from prefect.yaml. None when `carried`
    # is False.
    resolve: Resolver | None = None
    carried: bool = True  # False: a constant, nothing to carry on the spec
    compared: bool = True  # False: never compared (identity, or written another way)
    held: Callable[[dict[str, Any]], Any] | None = None  # server JSON → compared; data[api]
    wanted: Value | None = None  # spec → compared, or KEEP; default: the carried value
    pending: bool = False  # a None wanted value is not known until the image is built
    # Whether the wanted value differs from the server's (default: !=).
    differs: Callable[[DeploymentSpec, Any, ExistingDeployment], bool] | None = None
    # The spec with the server's hand-set state kept where prefect.yaml is silent.
    hand_set: Callable[[DeploymentSpec, ExistingDeployment], DeploymentSpec] | None = None
    check: Value | None = None  # raises for a value the server would refuse (on a create)
    created: bool = True  # in the create body
    create: Value | None = None  # its value there, or OMIT; default: the carried value
    updated: bool = True  # in the PATCH body when changed
    update: Value | None = None  # its value there; default: the carried value
    # Fields the server needs in the same PATCH when this one is written.
    write_with: Callable[[DeploymentSpec], tuple[str, ...]] | None = None
    shown: str | None = None  # its key in the plan's `desired`; None: not shown there
    note: str = ""  # why it is as it is (the README's table of fields)

    def top_keys(self) -> tuple[str, ...]:
        """The top-level keys of a prefect.yaml entry this field owns."""
        return ((self.yaml.split(".")[0],) if self.yaml else ()) + self.aliases

    def carried_value(self, carrier: DeploymentConfig | DeploymentSpec) -> Any:
        return getattr(carrier, self.attr) if self.attr else carrier.extra.get(self.api)

    def server_value(self, data: dict[str, Any]) -> Any:
        return self.held(data) if self.held else data.get(self.api)

    def wanted_value(self, spec: DeploymentSpec) -> Any:
        return self.wanted(spec) if self.wanted else self.carried_value(spec)

    def create_value(self, spec: DeploymentSpec) -> Any:
        return self.create(spec) if self.create else self.carried_value(spec)

    def update_value(self, spec: DeploymentSpec) -> Any:
        return self.update(spec) if self.update else self.carried_value(spec)


# -- reading prefect.yaml ---------------------------------------------------------------------


def typed(
    key: str, kind: type | tuple[type, ...], expected: str, empty: Callable[[], Any] | None = None
) -> Reader:
    """A value of one type at a top-level key; `empty()` when absent (or wrong)."""

    def read(entry: Entry) -> Any:
        value = entry.typed(key, kind, expected)
        return (empty() if empty else None) if value is None else value

    return read


def _tags(entry: Entry) -> tuple[str, ...]:
    return tuple(str(t) for t in entry.typed("tags", list, "a list of strings") or [])


def _work_pool(entry: Entry) -> dict[str, Any]:
    pool = entry.data.get("work_pool") or {}
    if not isinstance(pool, dict):
        entry.bad("work_pool", "a mapping with `name` and `job_variables`")
        return {}
    return pool


def _pool_string(key: str) -> Reader:
    def read(entry: Entry) -> str | None:
        value = _work_pool(entry).get(key)
        if value is not None and not isinstance(value, str):
            entry.bad("work_pool", f"a mapping whose `{key}` is a string")
            return None
        return value

    return read


def _job_variables(entry: Entry) -> dict[str, Any]:
    variables = _work_pool(entry).get("job_variables") or {}
    if not isinstance(variables, dict):
        entry.bad("work_pool", "a mapping whose `job_variables` is a mapping")
        return {}
    return variables


# Prefect's ConcurrencyLimitStrategy and ConcurrencyOptions.grace_period_seconds bounds.
COLLISION_STRATEGIES = ("ENQUEUE", "CANCEL_NEW")
GRACE_PERIOD = (60, 86400)


def concurrency(entry: Entry) -> tuple[int | None, dict[str, Any] | None]:
    """`concurrency_limit: N`, or Prefect's `{limit: N, collision_strategy: ENQUEUE |
    CANCEL_NEW, grace_period_seconds: S}` (prefect/cli/deploy/_core.py reads it so)."""
    value = entry.data.get("concurrency_limit")
    options = None
    if isinstance(value, dict):
        strategy = value.get("collision_strategy")
        grace = value.get("grace_period_seconds")
        if strategy is not None and strategy not in COLLISION_STRATEGIES:
            entry.bad(
                "concurrency_limit", "a mapping whose `collision_strategy` is ENQUEUE or CANCEL_NEW"
            )
            return None, None
        if grace is not None and (
            not isinstance(grace, int) or not GRACE_PERIOD[0] <= grace <= GRACE_PERIOD[1]
        ):
            entry.bad("concurrency_limit", "a mapping whose `grace_period_seconds` is 60 to 86400")
            return None, None
        if strategy is not None:
            options = {"collision_strategy": strategy, "grace_period_seconds": grace}
        value = value.get("limit")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        entry.bad(
            "concurrency_limit", "an integer, or a mapping with `limit` and `collision_strategy`"
        )
        return None, None
    return value, options


def _schedules(entry: Entry) -> tuple[dict[str, Any], ...] | None:
    """Check the shape of each schedule and keep the raw mappings. Their values (a cron
    string, a time zone) are judged by Prefect's own rules when the deployment is compared
    with the server, which imports Prefect only when needed."""
    raw, legacy = entry.data.get("schedules"), entry.data.get("schedule")
    if legacy and "schedules" in entry.data:  # prefect deploy's own refusal
        entry.error(
            "both `schedule` and `schedules` are set, which Prefect refuses: keep `schedules` "
            "(a list) and remove `schedule`",
            "schedule",
            "prefect.yaml schedule",
        )
        return None
    if isinstance(legacy, list):  # prefect deploy drops it without a word
        entry.error(
            "`schedule` (Prefect's older key) takes one schedule, a mapping: `prefect deploy` "
            "ignores a list there, so the flow would run on no schedule. Rename the key to "
            "`schedules`",
            "schedule",
            "prefect.yaml schedule",
        )
        return None
    if raw is None and legacy is not None:
        raw = [legacy]
    if raw is None:
        return None
    key = "schedules" if "schedules" in entry.lines else "schedule"
    if not isinstance(raw, list):
        entry.error("`schedules` must be a list", key)
        return None
    for schedule in raw:
        if not isinstance(schedule, dict) or not any(
            schedule.get(kind) for kind in ("cron", "interval", "rrule")
        ):
            entry.error(
                f"invalid schedule {schedule!r}: each schedule is a mapping with `cron`, "
                "`interval` or `rrule` (and optionally timezone, active, parameters, slug)",
                key,
                "prefect.yaml schedule",
            )
            return None
    return tuple(raw)


def _triggers(entry: Entry) -> tuple[dict[str, Any], ...]:
    triggers = entry.typed("triggers", list, "a list of triggers (Prefect's automation format)")
    if any(not isinstance(t, dict) for t in triggers or []):
        entry.bad("triggers", "a list of mappings (Prefect's automation format)")
        return ()
    return tuple(triggers or ())


# -- the wanted value -------------------------------------------------------------------------


def _tags_of(source: Source) -> list[str]:
    """Ours (managed-by, project, folder, tenant, repository), then prefect.yaml's and the
    tenant's extra tags."""
    folder, options = source.folder, source.options
    tags = [
        MANAGED_TAG,
        folder.project,
        f"{PROJECT_TAG_PREFIX}{folder.project}",
        f"{FOLDER_TAG_PREFIX}{folder.key}",
    ]
    if options.tenant:
        tags.append(f"{TENANT_TAG_PREFIX}{options.tenant}")
    if options.repository:
        tags.append(repository_tag(options.repository))
    return list(dict.fromkeys([*tags, *source.config.tags, *options.extra_tags]))


def _schedules_of(source: Source) -> list[dict[str, Any]] | None:
    # Absent from prefect.yaml: the server's schedules stay; `schedules: []` removes them.
    schedules = source.config.schedules
    if schedules is None:
        return None
    active = source.options.schedules_active
    return [dict(s) if active is None else {**s, "active": active} for s in schedules]


def _parameters_of(source: Source) -> dict[str, Any]:
    parameters = source.options.parameters
    return {
        **source.config.parameters,
        **parameters.get("*", {}),
        **parameters.get(source.flow.name, {}),
    }


# -- compared and written ---------------------------------------------------------------------


def pull_steps(code_dir: str) -> list[dict[str, Any]]:
    return [{SET_WORKDIR_STEP: {"directory": code_dir}}]


def code_dir_of(data: dict[str, Any]) -> str | None:
    """Where the server's deployment runs its code from (its pull step)."""
    return next(
        (
            step[SET_WORKDIR_STEP].get("directory")
            for step in data.get("pull_steps") or []
            if SET_WORKDIR_STEP in step
        ),
        None,
    )


def _concurrency_limit_held(data: dict[str, Any]) -> int | None:
    # `concurrency_limit` is deprecated in favour of the global limit object.
    limit = data.get("global_concurrency_limit")
    return limit.get("limit") if isinstance(limit, dict) else None


def _options_compared(options: dict[str, Any] | None) -> dict[str, Any] | None:
    return deployment_schedules.without_none(options or {}) or None


def _concurrency_options(spec: DeploymentSpec) -> Any:
    from prefect.client.schemas.objects import ConcurrencyOptions

    options = spec.concurrency_options
    return ConcurrencyOptions(**options) if options else None


def _schedules_differ(spec: DeploymentSpec, value: Any, existing: ExistingDeployment) -> bool:
    return deployment_schedules.differ(
        spec.schedules or [], value, existing.comparable["schedules"], existing.schedules
    )


def _schedules_hand_set(spec: DeploymentSpec, existing: ExistingDeployment) -> DeploymentSpec:
    if not spec.schedules:
        return spec
    kept = deployment_schedules.with_server_active(
        spec.schedules, existing.comparable["schedules"], existing.schedules
    )
    return spec if kept is spec.schedules else _replace(spec, schedules=kept)


def _triggers_hand_set(spec: DeploymentSpec, existing: ExistingDeployment) -> DeploymentSpec:
    if not spec.triggers:
        return spec
    from prefect_flow_deploy.deployment.triggers import with_server_enabled

    enabled = with_server_enabled(spec.triggers, spec.name, existing.automations)
    return _replace(spec, triggers=enabled)


def _replace(spec: DeploymentSpec, **changes: Any) -> DeploymentSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _newer(value: Value) -> Value:
    """A field newer than the oldest server: left out of the create body when None."""
    return lambda spec: OMIT if (found := value(spec)) is None else found


def _keep_if_none(attr: str) -> Value:
    """Compared only when prefect.yaml says it: else the server's (hand-set) value stays."""
    return lambda spec: KEEP if (found := getattr(spec, attr)) is None else found


def _config(attr: str) -> Resolver:
    return lambda source: getattr(source.config, attr)


FIELDS: tuple[DeploymentField, ...] = (
    DeploymentField(
        "name", "name", yaml="name", read=typed("name", str, "a string"),
        resolve=lambda s: s.config.name or s.folder.project,
        compared=False, updated=False, shown="name",
        note="with the flow's name, the deployment's identity; default: the project",
    ),
    DeploymentField(
        "entrypoint", "entrypoint", yaml="entrypoint",
        read=typed("entrypoint", str, "a string like `flow.py:my_flow`"),
        resolve=lambda s: s.flow.entrypoint, shown="entrypoint",
        note="in prefect.yaml it picks the flow; the deployment gets the flow's own",
    ),
    DeploymentField(
        "flow_name", "flow_name", yaml="flow_name", read=typed("flow_name", str, "a string"),
        resolve=lambda s: s.flow.name, compared=False, created=False, updated=False,
        shown="flow", note="picks the flow (without entrypoint); created as its flow_id",
    ),
    DeploymentField(
        "description", "description", yaml="description",
        read=typed("description", str, "a string"),
        resolve=lambda s: s.config.description or s.flow.description,
        held=lambda d: d.get("description") or "",
        # Prefect turns a None description into the string "None" on create.
        wanted=lambda spec: spec.description or "", create=lambda spec: spec.description or "",
        update=lambda spec: spec.description or "", shown="description",
        note="default: the flow's docstring or `@flow(description=)`",
    ),
    DeploymentField(
        "tags", "tags", yaml="tags", read=_tags, resolve=_tags_of,
        # The commit record (commit_order.py) is never compared: a new commit alone
        # changes nothing.
        held=lambda d: sorted(without_commit_tags(d.get("tags") or [])),
        wanted=lambda spec: sorted(without_commit_tags(spec.tags)), shown="tags",
        note="ours (managed-by, project, folder, tenant, repo; the commit, never compared), "
        "then the file's",
    ),
    DeploymentField(
        "parameters", "parameters", yaml="parameters",
        read=typed("parameters", dict, "a mapping of parameter names to values", dict),
        resolve=_parameters_of, held=lambda d: d.get("parameters") or {}, shown="parameters",
        note="the tenant's `parameters` (per flow, or `*`) win over the file's",
    ),
    DeploymentField(
        "concurrency_limit", "concurrency_limit", yaml="concurrency_limit",
        read=lambda entry: concurrency(entry)[0], resolve=_config("concurrency_limit"),
        held=_concurrency_limit_held, shown="concurrency_limit",
        note="an integer, or the `limit` of a mapping",
    ),
    DeploymentField(
        "concurrency_options", "concurrency_options", yaml="concurrency_limit",
        read=lambda entry: concurrency(entry)[1], resolve=_config("concurrency_options"),
        held=lambda d: _options_compared(d.get("concurrency_options")),
        wanted=lambda spec: _options_compared(spec.concurrency_options),
        create=_newer(_concurrency_options), update=_concurrency_options,
        note="collision_strategy and grace_period_seconds; newer than 3.2.0's create body",
    ),
    DeploymentField(
        "enforce_parameter_schema", "enforce_parameter_schema", yaml="enforce_parameter_schema",
        read=typed("enforce_parameter_schema", bool, "true or false"),
        resolve=lambda s: True if s.config.enforce_parameter_schema is None else (
            s.config.enforce_parameter_schema
        ),
        shown="enforce_parameter_schema", note="default: true",
    ),
    DeploymentField(
        "paused", "paused", yaml="paused", read=typed("paused", bool, "true or false"),
        resolve=_config("paused"), wanted=_keep_if_none("paused"),
        create=lambda spec: bool(spec.paused), shown="paused",
        note="not in the file: the server's (paused in the UI) stays; created unpaused",
    ),
    DeploymentField(
        "work_pool_name", "work_pool", yaml="work_pool.name", read=_pool_string("name"),
        resolve=lambda s: s.config.work_pool or s.options.work_pool,
        # The server finds a queue in the pool only when both are given (else it moves the
        # deployment to the pool's default queue, or looks for a queue outside any pool).
        write_with=lambda spec: () if spec.work_queue_name is None else ("work_queue_name",),
        shown="work_pool", note="default: the `work-pool` input",
    ),
    DeploymentField(
        "work_queue_name", "work_queue_name", yaml="work_pool.work_queue_name",
        read=_pool_string("work_queue_name"), resolve=_config("work_queue_name"),
        wanted=_keep_if_none("work_queue_name"),
        create=_newer(lambda spec: spec.work_queue_name),
        write_with=lambda spec: ("work_pool_name",),
        note="not in the file: the server's queue stays; newer than 3.2.0's create body",
    ),
    DeploymentField(
        "job_variables", "job_variables", yaml="work_pool.job_variables", read=_job_variables,
        resolve=lambda s: {
            **s.config.job_variables, **s.options.job_variables, "image": s.image.reference,
        },
        held=lambda d: d.get("job_variables") or {}, shown="job_variables",
        note="the tenant's win over the file's; `image` is the built image",
    ),
    DeploymentField(
        "schedules", "schedules", yaml="schedules", aliases=("schedule",), read=_schedules,
        resolve=_schedules_of,
        held=lambda d: deployment_schedules.held(d.get("schedules") or []),
        wanted=lambda spec: KEEP
        if spec.schedules is None
        else deployment_schedules.wanted(spec.schedules),
        differs=_schedules_differ, hand_set=_schedules_hand_set,
        check=lambda spec: deployment_schedules.check_schedules(spec.schedules or []),
        create=deployment_schedules.creates, update=deployment_schedules.updates,
        shown="schedules",
        note="no key: the server's stay; `[]`: none; a schedule without `active:` keeps "
        "the server's switch; the tenant's `schedules-active` overrides",
    ),
    DeploymentField(
        "triggers", "triggers", yaml="triggers", read=_triggers,
        resolve=lambda s: [dict(t) for t in s.config.triggers],
        compared=False, hand_set=_triggers_hand_set, created=False, updated=False,
        note="automations, reconciled by name (triggers.trigger_writes); a trigger without "
        "`enabled:` keeps the server's switch",
    ),
    DeploymentField(
        "version", "version", aliases=("version",), resolve=lambda s: s.image.tag,
        shown="version",
        note="the image's content tag; prefect.yaml's `version:` is accepted and not used",
    ),
    DeploymentField(
        "parameter_openapi_schema", "parameter_schema",
        resolve=lambda s: s.flow.parameter_schema, pending=True,
        shown="parameter_schema", note="read from the flow's signature, else the built image",
    ),
    DeploymentField(
        "path", carried=False, wanted=lambda spec: None, created=False,
        update=lambda spec: None, note="always none: the image's working directory",
    ),
    DeploymentField(
        "pull_steps", "code_dir", resolve=lambda s: s.image.code_dir,
        wanted=lambda spec: pull_steps(spec.code_dir) if spec.code_dir else None,
        pending=True, create=lambda spec: pull_steps(_code_dir(spec)),
        update=lambda spec: pull_steps(_code_dir(spec)),
        note="set_working_directory to where the image holds the folder",
    ),
)  # fmt: skip


def _code_dir(spec: DeploymentSpec) -> str:
    assert spec.code_dir is not None, "known once the image is checked"
    return spec.code_dir


def by_api(name: str) -> DeploymentField | None:
    return next((f for f in FIELDS if f.api == name), None)


# -- the loops --------------------------------------------------------------------------------


def prefect_yaml_keys() -> set[str]:
    """The keys of a prefect.yaml entry that mean something here."""
    return {key for f in FIELDS for key in f.top_keys()}


def read_entry(entry: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every field of one prefect.yaml entry: (DeploymentConfig attributes, its `extra`);
    problems go to `entry.problems`."""
    attrs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for f in FIELDS:
        if f.read is not None:
            value = f.read(entry)
            if f.attr:
                attrs[f.attr] = value
            else:
                extra[f.api] = value
    return attrs, extra


def spec_values(source: Source) -> dict[str, Any]:
    """The DeploymentSpec attributes (and `extra`) of the fields, from their source."""
    attrs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for f in FIELDS:
        if not f.carried:
            continue
        value = f.resolve(source) if f.resolve else f.carried_value(source.config)
        if f.attr:
            attrs[f.attr] = value
        else:
            extra[f.api] = value
    return {**attrs, "extra": extra}


def held(data: dict[str, Any]) -> dict[str, Any]:
    """The server's deployment (the API's JSON) as compared, field by field."""
    return {f.api: f.server_value(data) for f in FIELDS if f.compared}


def wanted(spec: DeploymentSpec) -> dict[str, Any]:
    """The wanted deployment as compared; a field the file leaves to the server is absent."""
    values = {f.api: f.wanted_value(spec) for f in FIELDS if f.compared}
    return {k: v for k, v in values.items() if v is not KEEP}


def with_hand_set(spec: DeploymentSpec, existing: ExistingDeployment) -> DeploymentSpec:
    for f in FIELDS:
        if f.hand_set is not None:
            spec = f.hand_set(spec, existing)
    return spec


def check(spec: DeploymentSpec) -> None:
    """Raise for a value the server would refuse (before anything is built)."""
    for f in FIELDS:
        if f.check is not None:
            f.check(spec)


def changed(
    spec: DeploymentSpec, desired: dict[str, Any], existing: ExistingDeployment
) -> list[str]:
    """The fields whose wanted value differs from the server's, in `desired`'s order."""
    found = []
    for name, value in desired.items():
        f = by_api(name)
        if f is None or (f.pending and value is None):
            continue  # pending: not known until the image is built and checked
        differs = (
            f.differs(spec, value, existing)
            if f.differs
            else existing.comparable.get(name) != value
        )
        if differs:
            found.append(name)
    return found


def create_values(spec: DeploymentSpec) -> dict[str, Any]:
    """The create body's fields (Prefect's DeploymentCreate arguments, flow_id aside)."""
    values = {f.api: f.create_value(spec) for f in FIELDS if f.created}
    return {k: v for k, v in values.items() if v is not OMIT}


def update_values(spec: DeploymentSpec, changed_fields: Iterable[str]) -> dict[str, Any]:
    """The PATCH body's fields (DeploymentUpdate arguments) for these changed fields, with
    the ones the server needs alongside them."""
    names = [n for n in changed_fields if (f := by_api(n)) is not None and f.updated]
    for name in names:  # grows while it goes: what a field needs may need more
        f = by_api(name)
        needed = f.write_with(spec) if f is not None and f.write_with else ()
        names += [n for n in needed if n not in names]
    return {n: f.update_value(spec) for n in names if (f := by_api(n)) is not None}


PENDING = "computed after build"


def shown(spec: DeploymentSpec) -> dict[str, Any]:
    """The fields the plan shows, under their plan keys (a pending value: PENDING)."""
    values = {f.shown: (f, f.carried_value(spec)) for f in FIELDS if f.shown}
    return {k: PENDING if f.pending and v is None else v for k, (f, v) in values.items()}
