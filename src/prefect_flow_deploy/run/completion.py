"""A deployment completed for writing once its image is known: where its code is, the
parameter schema and flow name the image computed, compared with the server again (the pure
`diff`); and its parameters judged against a schema only the image could tell."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import DeploymentPlan, Plan, is_pending_name
from prefect_flow_deploy.core.results import ImageOutcome, WriteOutcome
from prefect_flow_deploy.deployment.diff import diff
from prefect_flow_deploy.rules.pending_names import named
from prefect_flow_deploy.rules.spec_checks import SettingAt, parameter_problems
from prefect_flow_deploy.settings.options import Options


def completed(
    deployment: DeploymentPlan, image: ImageOutcome, plan: Plan, options: Options
) -> DeploymentPlan:
    """Now that the image is checked, the deployment knows where its code is: compare it
    with the server again (the code directory may differ from the plan's guess)."""
    spec = deployment.spec
    assert spec is not None
    reference = next(i.reference for i in plan.images if i.folder.key == spec.folder_key)
    spec = replace(
        spec,
        code_dir=image.code_dir,
        image=reference,
        parameter_schema=spec.parameter_schema
        if spec.parameter_schema is not None
        else image.schemas.get(spec.entrypoint),
    )
    if is_pending_name(spec.flow_name):  # the name the image computed
        computed = image.names.get(spec.entrypoint)
        judged = (
            named(spec, computed.name, plan, options)
            if computed
            else f"the built image gave no name for the flow {spec.entrypoint}"
        )
        if isinstance(judged, str):
            return replace(deployment, spec=spec, action="failed", error=judged)
        spec = judged
        if not spec.description and computed is not None:  # none read, none in the entry
            spec = replace(spec, description=computed.description or "")
    snapshot = plan.snapshot
    existing = snapshot.deployments.get(spec.full_name) if snapshot else None
    refreshed = diff(spec, existing)
    return replace(
        deployment,
        spec=spec,
        full_name=spec.full_name,
        deployment_id=deployment.deployment_id or refreshed.deployment_id,
        action=refreshed.action,
        changed_fields=refreshed.changed_fields,
        changes=refreshed.changes,
        trigger_writes=refreshed.trigger_writes,
    )


def parameters_refused(
    planned: DeploymentPlan, deployment: DeploymentPlan, options: Options, at: SettingAt
) -> WriteOutcome | None:
    """Parameters judged against a schema only the image could tell, as the plan judges
    the others (spec_checks.py): an unknown one would be accepted by the server and fail
    every run. An error keeps the deployment from being written; a warning is said. `at`:
    the config file line of the `parameters:` option (settings.cascade.config_line)."""
    spec = deployment.spec
    if planned.spec is None or planned.spec.parameter_schema is not None or spec is None:
        return None
    refused = None
    for problem in parameter_problems(spec, options, at):
        if problem.severity == "warning":
            log.warning(problem.message, file=problem.file, line=problem.line,
                        title=problem.title)  # fmt: skip
        elif refused is None:
            refused = WriteOutcome(
                deployment, error=problem.message, at=(problem.file, problem.line)
            )
    return refused
