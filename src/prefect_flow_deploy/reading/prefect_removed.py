"""Names Prefect 2 code imports that Prefect 3 removed: a module importing one fails at import,
so every run of its flows crashes before the flow starts (`ImportError`, or Prefect's own
`PrefectImportError` with advice). Said at the import's line, before anything is built.

Two sources, both checked against the installed Prefect by tests/unit/reading/test_prefect_removed.py:
Prefect's own table of what it removed with a stub that explains
(`prefect._internal.compatibility.migration.REMOVED_IN_V3`, Prefect 3.9.1), copied here as it
says (the engine does not import Prefect to read source); and names Prefect 3 dropped without
a stub (an `ImportError: cannot import name …`), with what replaces them.
"""

from __future__ import annotations

_WORKERS = (
    "Use workers instead: "
    "https://www.prefect.io/docs/v3/how-to-guides/migrate/upgrade-agents-to-workers."
)  # Prefect's own link

# prefect._internal.compatibility.migration.REMOVED_IN_V3, as Prefect 3.9.1 has it.
REMOVED_WITH_A_STUB: dict[str, str] = {
    "prefect.client.schemas.objects:MinimalDeploymentSchedule": (
        "Use `prefect.client.schemas.actions.DeploymentScheduleCreate` instead."
    ),
    "prefect.context:PrefectObjectRegistry": _WORKERS,
    "prefect.deployments.deployments:Deployment": (
        "Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead."
    ),
    "prefect.deployments:Deployment": (
        "Use `flow.serve()`, `flow.deploy()`, or `prefect deploy` instead."
    ),
    "prefect.filesystems:GCS": "Use `prefect_gcp.GcsBucket` instead.",
    "prefect.filesystems:Azure": "Use `prefect_azure.AzureBlobStorageContainer` instead.",
    "prefect.filesystems:S3": "Use `prefect_aws.S3Bucket` instead.",
    "prefect.filesystems:GitHub": "Use `prefect_github.GitHubRepository` instead.",
    "prefect.engine:_out_of_process_pause": "Use `prefect.flow_runs.pause_flow_run` instead.",
    "prefect.engine:_in_process_pause": "Use `prefect.flow_runs.pause_flow_run` instead.",
    "prefect.agent:PrefectAgent": _WORKERS,
    "prefect.infrastructure:KubernetesJob": _WORKERS,
    "prefect.infrastructure.base:Infrastructure": (
        "Use the `BaseWorker` class to create custom infrastructure integrations instead."
    ),
    "prefect.workers.block:BlockWorkerJobConfiguration": _WORKERS,
    "prefect.workers.cloud:BlockWorker": _WORKERS,
}

_VARIABLES = "Use `prefect.variables.Variable` instead (Prefect 3 removed this block)."

# Removed in Prefect 3 without a stub (the test finds each gone from the installed Prefect).
REMOVED_WITHOUT_A_STUB: dict[str, str] = {
    "prefect.blocks.system:String": _VARIABLES,
    "prefect.blocks.system:DateTime": _VARIABLES,
    "prefect.blocks.system:JSON": _VARIABLES,
    "prefect.task_runners:SequentialTaskRunner": (
        "Remove it: Prefect 3 runs a flow's tasks one after another unless they are submitted "
        "(`ThreadPoolTaskRunner` is the default)."
    ),
    "prefect.infrastructure:Process": _WORKERS,
    "prefect.infrastructure:DockerContainer": _WORKERS,
    "prefect.filesystems:GitLab": "Use `prefect_gitlab.GitLabRepository` instead.",
    # Prefect 2.10's image for `.deploy()`; Stjefan/prefect-flows imported it (2026-12-05)
    "prefect.deployments:DeploymentImage": "Use `prefect.docker.DockerImage` instead.",
}

REMOVED_IN_PREFECT_3 = {**REMOVED_WITH_A_STUB, **REMOVED_WITHOUT_A_STUB}

# Whole modules of Prefect 2 that Prefect 3 does not have (each checked gone from the
# installed Prefect); code written for Prefect 2.0-2.7 imports `prefect.orion` often (seen in
# public repositories, 2026-12-05). A name imported from one of them, or a module under it.
REMOVED_MODULES: dict[str, str] = {
    "prefect.orion": (
        "Prefect 3 has no `prefect.orion` (Prefect 2's early name for `prefect.server`): "
        "import schemas from `prefect.client.schemas` (`filters`, `objects`, `schedules`) and "
        "states from `prefect.states`."
    ),
    "prefect.projects": (
        "Prefect 3 has no `prefect.projects`: Prefect 2's projects became prefect.yaml "
        "deployments, whose steps are `prefect.deployments.steps`."
    ),
    "prefect.packaging": "Prefect 3 has no packagers: the deployment runs from a built image.",
    "prefect.infrastructure.kubernetes": _WORKERS,
    # Prefect 2's infrastructure blocks (DockerContainer, Process, the image pull policy):
    # dinobronx/dataengzoomcamp (trial round 10 a 8) was told after the build to install
    # "the Prefect the code was written for", Prefect 2.
    "prefect.infrastructure.docker": _WORKERS,
    "prefect.infrastructure.container": _WORKERS,
    "prefect.infrastructure.process": _WORKERS,
}


def removed_in_prefect_3(module: str, name: str) -> str | None:
    """What to use instead of `from <module> import <name>`, if Prefect 3 removed it."""
    found = REMOVED_IN_PREFECT_3.get(f"{module}:{name}")
    if found is not None:
        return found
    return next(
        (instead for gone, instead in REMOVED_MODULES.items()
         if module == gone or module.startswith(gone + ".")),
        None,
    )  # fmt: skip


def import_fails(nested: bool) -> str:
    """When a `from … import …` that cannot be satisfied fails: at module level, before any
    flow of its file starts (every run); inside a function, when that runs."""
    when = "when the function runs" if nested else "before any flow of the file starts"
    return f"this import fails {when} (ImportError)"
