"""Names that two folders or two flows would share: the image of two folders, the deployment
of two flows. Each folder (image) or flow (deployment) involved fails, pointing at its folder,
flow or prefect.yaml entry.
Pure functions over the folders read (used by decide, validate and new): each returns the
problems by folder key; the `check_`/`fail_` forms record them on the folders (validate)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from prefect_flow_deploy.core.model import DUPLICATE_FLOW_NAME, DeploymentSpec, FlowFolder, Problem
from prefect_flow_deploy.core.naming import image_repository
from prefect_flow_deploy.settings.options import Options


def image_collisions(folders: list[FlowFolder], options: Options) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = defaultdict(list)
    by_repo: dict[str, list[FlowFolder]] = defaultdict(list)
    for folder in (f for f in folders if f.flows):  # only these become images
        try:
            by_repo[image_repository(options.registry, folder.project, folder.name)].append(folder)
        except ValueError as exc:
            found[folder.key].append(Problem("error", str(exc), folder.path, title="Image name"))
    for repository, group in by_repo.items():
        if len(group) > 1:
            names = " and ".join(f.key for f in group)
            for folder in group:
                found[folder.key].append(
                    Problem(
                        "error",
                        f"{names} both become the image {repository}; rename one folder.",
                        folder.path,
                        title="Image name collision",
                    )
                )
    return dict(found)


def name_collisions(
    specs: Mapping[str, list[DeploymentSpec]], folders: Mapping[str, FlowFolder]
) -> dict[str, list[Problem]]:
    """Two deployments of one name (the same flow name in two folders of a project, or one
    prefect.yaml name used twice) would overwrite each other on every run: each flow
    involved fails, pointing at its flow or prefect.yaml entry; the folders' other flows go
    ahead (decide takes the failed ones out of the plan)."""
    found: dict[str, list[Problem]] = defaultdict(list)
    by_name: dict[str, list[DeploymentSpec]] = defaultdict(list)
    for group in specs.values():
        for spec in group:
            by_name[spec.full_name].append(spec)
    for name, group in by_name.items():
        if len(group) < 2 or all(_said_in_reading(s, folders[s.folder_key]) for s in group):
            continue  # one folder's flows of one name: said once, at each flow, by reading
        places = " and ".join(sorted({_place(s, folders[s.folder_key]) for s in group}))
        message = (
            f"the deployment {name} is defined twice ({places}); they would overwrite each "
            "other. Give one flow another name= or its prefect.yaml entry another name:."
        )
        for spec in group:
            found[spec.folder_key].append(
                Problem(
                    "error",
                    message,
                    spec.source_file,
                    spec.source_line,
                    "Name collision",
                    flow=spec.entrypoint,
                )
            )
    return dict(found)


def _said_in_reading(spec: DeploymentSpec, folder: FlowFolder) -> bool:
    """The flow failed already for sharing its name with another of the folder (discovery's
    `Duplicate flow name`): a second error at the same lines only doubled the count (ua-snap/
    prefect, trial round 10 b 1: one clash, 4 errors)."""
    return any(
        p.title == DUPLICATE_FLOW_NAME and p.flow == spec.entrypoint for p in folder.problems
    )


def _place(spec: DeploymentSpec, folder: FlowFolder) -> str:
    if spec.source_file is None:
        return folder.key
    try:
        relative = spec.source_file.relative_to(folder.path)
    except ValueError:
        relative = spec.source_file
    return f"{folder.key}/{relative}" + (f":{spec.source_line}" if spec.source_line else "")
