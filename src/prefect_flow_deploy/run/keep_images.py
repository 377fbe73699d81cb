"""keep-images: which old images of each folder's repository to delete (none that a
deployment on the server uses), previewed by a plan and applied after a successful deploy.
What to trim is the plan's (`Plan.retention`, decided in rules/keep_images.py); the
rules of what goes are retention.py's; this reads the server and the registry for them."""

from __future__ import annotations

from prefect_flow_deploy.clients.prefect_api import ApiSettings
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import ImageDeletion, Retention
from prefect_flow_deploy.settings.options import Options


def keep_images(
    policy: Retention,
    options: Options,
    registry: RegistryClient,
    api: ApiSettings,
    apply: bool = True,
) -> list[ImageDeletion]:
    """keep-images. Read every deployment on the server first: an image any of them uses is
    kept (with the plan's own deployments holding what `policy.planned` says: a dry run).
    `apply=False`: only what would be deleted."""
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
    dropped = frozenset(policy.dropped.values())
    try:
        held = [*policy.removed.values(), *sorted(dropped)]
        deletions = retention.plan(
            set(policy.repositories) | repositories_of_removed(held, options.registry),
            in_use(references_after(server, policy.planned)),
            policy.keep,
            policy.to_build or None,
            options.repository,
            dropped,
        )
        if apply:
            deletions = retention.apply(deletions)
    finally:
        retention.close()
    for warning in retention.warnings:
        log.warning(warning, title="keep-images")
    return deletions
