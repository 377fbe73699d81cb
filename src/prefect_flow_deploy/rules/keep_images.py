"""keep-images as the plan decides it (`Plan.retention`): which repositories are trimmed,
which image each deployment holds once the plan is applied, which removed or replaced
images go. Pure: run/keep_images.py lists the registry and deletes by it."""

from __future__ import annotations

from prefect_flow_deploy.core.model import DeploymentPlan, ImagePlan, Retention
from prefect_flow_deploy.core.server_state import ServerState
from prefect_flow_deploy.rules.previews import images_only_previews_used
from prefect_flow_deploy.settings.options import Options


def retention(
    images: list[ImagePlan],
    deployments: list[DeploymentPlan],
    snapshot: ServerState,
    options: Options,
) -> Retention | None:
    """None when keep-images is off (or there is no registry to trim)."""
    if options.keep_images is None or not options.registry:
        return None
    planned: dict[str, str | None] = {}
    for deployment in deployments:
        if deployment.spec is not None:
            planned[deployment.full_name] = deployment.spec.image
        elif deployment.action == "remove":
            planned[deployment.full_name] = None
    known = snapshot.deployments
    removed = {
        name: image
        for name, target in planned.items()
        if target is None and (e := known.get(name)) is not None and (image := e.image)
    }
    dropped: dict[str, str] = {}
    for deployment in deployments:
        found = images_only_previews_used([deployment], snapshot)
        if found:
            dropped[deployment.full_name] = next(iter(found))
    return Retention(
        options.keep_images,
        tuple(sorted({i.repository for i in images})),
        planned,
        {i.repository: i.tag for i in images if i.action == "build"},
        removed,
        dropped,
    )
