"""keep-images: which old images of each folder's repository to delete (none that a
deployment on the server uses), previewed by a plan and applied after a successful deploy.
The rules are retention.py's; this reads the server and the registry for them."""

from __future__ import annotations

from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import ImageDeletion, Plan
from prefect_flow_deploy.rules.previews import images_only_previews_used
from prefect_flow_deploy.settings.options import Options


def keep_images(
    plan: Plan,
    options: Options,
    registry: RegistryClient,
    api: ApiSettings,
    planned: dict[str, str | None],
    apply: bool = True,
    to_build: dict[str, str] | None = None,
    removed: list[str] | None = None,
    dropped: set[str] | None = None,
) -> list[ImageDeletion]:
    """keep-images. Read every deployment on the server first: an image any of them uses is
    kept. `removed`: deployments this run removes (--prune, previews), whose repositories
    are trimmed too. `dropped`: images only previews used, deleted even among the newest
    (unless in use). `apply=False`: only what would be deleted."""
    from prefect_flow_deploy.clients.prefect_api import read_all
    from prefect_flow_deploy.run.retention import (
        Retention,
        in_use,
        references_after,
        repositories_of_removed,
    )

    if not options.repository:
        log.warning(
            "keep-images: this run acts as no repository (no --repository, GITHUB_REPOSITORY "
            "or git remote origin), so it cannot tell its images from another repository's: "
            "nothing is deleted.",
            title="keep-images",
        )
        return []

    server = {
        f"{d['flow_name']}/{d['name']}": (d.get("job_variables") or {}).get("image")
        for d in read_all(api)
    }
    retention = Retention(registry, options.registry_password)
    known = plan.snapshot.deployments if plan.snapshot else {}
    try:
        held = [e.image for n in removed or [] if (e := known.get(n))]
        held += sorted(dropped or ())
        deletions = retention.plan(
            {i.repository for i in plan.images} | repositories_of_removed(held, options.registry),
            in_use(references_after(server, planned)),
            options.keep_images or 0,
            to_build,
            options.repository,
            frozenset(dropped or ()),
        )
        if apply:
            deletions = retention.apply(deletions)
    finally:
        retention.close()
    for warning in retention.warnings:
        log.warning(warning, title="keep-images")
    return deletions


def preview_keep_images(
    plan: Plan, options: Options, registry: RegistryClient, api: ApiSettings
) -> list[ImageDeletion]:
    """plan / dry run: what keep-images would delete once this plan is applied (each
    planned deployment holding its new image; a removal only with --prune)."""
    if options.keep_images is None or not options.registry:
        return []
    planned: dict[str, str | None] = {}
    for deployment in plan.deployments:
        if deployment.spec is not None:
            planned[deployment.full_name] = deployment.spec.image
        elif deployment.action == "remove" and (options.prune or deployment.preview):
            planned[deployment.full_name] = None
    to_build = {i.repository: i.tag for i in plan.images if i.action == "build"}
    removed = [name for name, image in planned.items() if image is None]
    dropped = images_only_previews_used(plan.deployments, plan.snapshot)
    return keep_images(
        plan, options, registry, api, planned, apply=False, to_build=to_build, removed=removed,
        dropped=dropped,
    )  # fmt: skip
