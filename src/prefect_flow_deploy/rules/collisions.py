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
        places = _places(group)
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
                    # the deployments of that name only: the flow's others go ahead (a/prod
                    # failed with two `daily` entries of flow a: trial round 11 a 11)
                    flow=spec.full_name,
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


def _places(group: list[DeploymentSpec]) -> str:
    """Where each is written: `lines 8 and 12 of prefect.yaml` for one file, else each
    `file:line in <project>/<folder>` (a folder key is no path: `dupe/flows/prefect.yaml:12`
    named a file that does not exist, trial round 11 a 11)."""
    files = {s.source_file for s in group}
    lines = sorted({s.source_line for s in group if s.source_line})
    if len(files) == 1 and None not in files and len(lines) == len(group):
        [file] = files
        return f"lines {' and '.join(map(str, lines))} of {file.name}"  # type: ignore[union-attr]
    return " and ".join(sorted({_place(s) for s in group}))


def _place(spec: DeploymentSpec) -> str:
    if spec.source_file is None:
        return spec.folder_key
    line = f":{spec.source_line}" if spec.source_line else ""
    return f"{spec.source_file.name}{line} in {spec.folder_key}"
