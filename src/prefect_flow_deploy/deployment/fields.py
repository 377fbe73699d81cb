"""The deployment fields, one entry each in FIELDS: the API's name, where prefect.yaml says
it (and how that is checked, with the line for errors), its value when the file is silent,
how it compares with the server's value (and whether a value set by hand on the server wins
when the file does not say), how it is written in the create body and the PATCH body, and
the key the plan shows it under.

Reading (prefect_yaml), the wanted deployment (rules/specs), the comparison (diff) and the
bodies (registration) loop over FIELDS (field_loops.py); a field is a field_types.DeploymentField,
its prefect.yaml reader in field_readers.py. Adding a field is one entry here, plus, for a
typed value, an attribute of DeploymentConfig / DeploymentSpec (without one it is carried in
their `extra`). Nothing here imports Prefect or the Docker SDK; a field's own functions may,
when they run.

Writing, for the oldest server supported (server_version.OLDEST_SUPPORTED, 3.2.0): a field
newer than that server is left out of the create body when it holds nothing (even a null
is refused there), and a PATCH sends only the fields that changed, with the ones the server
needs alongside (`write_with`).
"""

from __future__ import annotations

from typing import Any

from prefect_flow_deploy.core.model import DeploymentSpec
from prefect_flow_deploy.core.server_state import ExistingDeployment
from prefect_flow_deploy.deployment import schedules as deployment_schedules
from prefect_flow_deploy.deployment.commit_order import without_commit_tags
from prefect_flow_deploy.deployment.field_readers import (
    concurrency,
    lax_bool,
    pool_string,
    read_job_variables,
    read_schedules,
    read_tags,
    read_triggers,
    typed,
    wanted_parameters,
    wanted_schedules,
    wanted_tags,
)
from prefect_flow_deploy.deployment.field_types import (
    KEEP,
    OMIT,
    SET_WORKDIR_STEP,
    DeploymentField,
    Resolver,
    Value,
)

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


def _schema_compared(schema: Any) -> Any:
    """A parameter schema as compared: with `definitions`, empty when it has none. Prefect's
    model_dump_for_openapi writes the empty key; a deployment `prefect deploy` made holds
    none, nor does one this tool made (_schema_sent). Taking one over is no schema change (tig0826/prefect-workflow: every
    taken-over flow was listed as changed)."""
    if isinstance(schema, dict) and "definitions" not in schema:
        return {**schema, "definitions": {}}
    return schema


def _schema_sent(schema: Any) -> Any:
    """A parameter schema as `prefect deploy` registers it: without `definitions` when it
    has none (RunnerDeployment sends the schema model's `model_dump(exclude_unset=True)`,
    Prefect 3.9.1's deployments/runner.py), so a deployment reads the same either way."""
    if isinstance(schema, dict) and schema.get("definitions") == {}:
        return {k: v for k, v in schema.items() if k != "definitions"}
    return schema


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
        resolve=lambda s: s.config.description or s.flow.description or "",
        held=lambda d: d.get("description") or "",
        # Prefect turns a None description into the string "None" on create.
        wanted=lambda spec: spec.description or "", create=lambda spec: spec.description or "",
        update=lambda spec: spec.description or "", shown="description",
        note="default: the flow's docstring or `@flow(description=)`",
    ),
    DeploymentField(
        "tags", "tags", yaml="tags", read=read_tags, resolve=wanted_tags,
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
        resolve=wanted_parameters, held=lambda d: d.get("parameters") or {}, shown="parameters",
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
        shown="concurrency_options",
        note="collision_strategy and grace_period_seconds; newer than 3.2.0's create body",
    ),
    DeploymentField(
        "enforce_parameter_schema", "enforce_parameter_schema", yaml="enforce_parameter_schema",
        read=lax_bool("enforce_parameter_schema"),
        resolve=lambda s: True if s.config.enforce_parameter_schema is None else (
            s.config.enforce_parameter_schema
        ),
        shown="enforce_parameter_schema", note="default: true",
    ),
    DeploymentField(
        "paused", "paused", yaml="paused", read=lax_bool("paused"),
        resolve=_config("paused"), wanted=_keep_if_none("paused"),
        create=lambda spec: bool(spec.paused), shown="paused",
        note="not in the file: the server's (paused in the UI) stays; created unpaused",
    ),
    DeploymentField(
        "work_pool_name", "work_pool", yaml="work_pool.name", read=pool_string("name"),
        resolve=lambda s: s.config.work_pool or s.options.work_pool,
        # The server finds a queue in the pool only when both are given (else it moves the
        # deployment to the pool's default queue, or looks for a queue outside any pool).
        write_with=lambda spec: () if spec.work_queue_name is None else ("work_queue_name",),
        shown="work_pool", note="default: the `work-pool` input",
    ),
    DeploymentField(
        "work_queue_name", "work_queue_name", yaml="work_pool.work_queue_name",
        read=pool_string("work_queue_name"), resolve=_config("work_queue_name"),
        wanted=_keep_if_none("work_queue_name"),
        create=_newer(lambda spec: spec.work_queue_name),
        write_with=lambda spec: ("work_pool_name",), shown="work_queue_name",
        note="not in the file: the server's queue stays; newer than 3.2.0's create body",
    ),
    DeploymentField(
        "job_variables", "job_variables", yaml="work_pool.job_variables", read=read_job_variables,
        resolve=lambda s: {
            **s.config.job_variables, **s.options.job_variables, "image": s.image.reference,
        },
        held=lambda d: d.get("job_variables") or {}, shown="job_variables",
        note="the tenant's win over the file's; `image` is the built image",
    ),
    DeploymentField(
        "schedules", "schedules", yaml="schedules", aliases=("schedule",), read=read_schedules,
        resolve=wanted_schedules,
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
        "triggers", "triggers", yaml="triggers", read=read_triggers,
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
        held=lambda d: _schema_compared(d.get("parameter_openapi_schema")),
        wanted=lambda spec: _schema_compared(spec.parameter_schema),
        create=lambda spec: _schema_sent(spec.parameter_schema),
        update=lambda spec: _schema_sent(spec.parameter_schema),
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


# FIELDS by api name, made again when FIELDS is another table (a test adds a field): asked
# for each compared field of each deployment (66,000 times at 5,000 deployments).
_index: tuple[tuple[DeploymentField, ...], dict[str, DeploymentField]] = ((), {})


def by_api(name: str) -> DeploymentField | None:
    global _index
    if _index[0] is not FIELDS:
        _index = (FIELDS, {f.api: f for f in FIELDS})
    return _index[1].get(name)
