"""`validate`: every check of the plan that needs neither Docker, nor Prefect's server, nor the
registry, so that it can run in pre-commit in well under a second.

It is the plan's own reading: discovery (flows, prefect.yaml, requirements.txt), the build
recipe (Dockerfile, .dockerignore, files that look like credentials), image and deployment
name collisions, and schedules judged by Prefect's rule. What only the world can tell (a base
image that does not resolve, another tenant's deployment of the same name, a failed build) is
left to `plan`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from prefect_flow_deploy.core.model import DeploymentSpec, FlowFolder, ImagePlan, Problem
from prefect_flow_deploy.core.naming import image_repository
from prefect_flow_deploy.deployment.cron import cron_verdict
from prefect_flow_deploy.deployment.diff import ScheduleError, exact_schedules
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.recipes import recipe_with_problems
from prefect_flow_deploy.rules.collisions import check_image_collisions, fail_name_collisions
from prefect_flow_deploy.rules.spec_checks import check_specs
from prefect_flow_deploy.rules.specs import desired_deployments
from prefect_flow_deploy.settings.cascade import config_line
from prefect_flow_deploy.settings.options import Options


@dataclass(frozen=True)
class Validation:
    folders: list[FlowFolder]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.folders for p in f.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.folders for p in f.problems if p.severity == "warning")

    @property
    def flows(self) -> int:
        return sum(len(f.flows) for f in self.folders)


def validate(options: Options) -> Validation:
    """Read every folder as `plan` does and record each problem on its folder."""
    folders = discover(options.projects_root, options.flows, options.repository)
    check_image_collisions(folders, options)
    images: list[ImagePlan] = []
    for folder in folders:
        if folder.failed or not folder.flows or recipe_with_problems(folder, options) is None:
            continue
        repository = image_repository(options.registry, folder.project, folder.name)
        images.append(ImagePlan(folder, repository, "validate", {}))
    specs = {
        image.folder.key: desired_deployments(image.folder, image, options) for image in images
    }
    fail_name_collisions(images, specs)
    at = config_line(options.source("parameters"), options.projects_root)
    check_specs(images, specs, options, at)  # what the server would refuse
    for image in images:
        _check_schedules(image.folder, specs.get(image.folder.key, []))
    return Validation(folders)


def _check_schedules(folder: FlowFolder, specs: list[DeploymentSpec]) -> None:
    """Prefect's own rule on each schedule, as the plan applies it: plain cron schedules
    without importing Prefect, anything else through Prefect's conversion."""
    for spec in specs:
        reasons = [(c, cron_verdict(c)) for c in spec.schedules or []]
        try:
            for config, reason in reasons:
                if isinstance(reason, str):
                    raise ScheduleError(
                        f"invalid schedule {json.dumps(config, default=str)}: {reason}"
                    )
            exact_schedules([c for c, reason in reasons if reason is False])
        except ScheduleError as exc:
            folder.problems.append(
                Problem(
                    "error",
                    str(exc),
                    spec.source_file,
                    spec.source_lines.get("schedules", spec.source_line),  # as the plan says
                    "prefect.yaml schedule",
                )
            )
