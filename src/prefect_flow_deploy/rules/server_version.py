"""Which Prefect servers this tool can write to: decided while planning, before anything is
built or written, from the version the server reports (`GET /api/admin/version`)."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

# The oldest server the suite proves (tests/integration/test_oldest_server.py runs the first
# deploy, the no-op re-run and an update against it). Older 3.x servers reject what an update
# sends: `PATCH /deployments/{id}` takes `parameter_openapi_schema` and `pull_steps`, and a
# schedule takes `parameters` and `slug`, only from 3.2.0 on (prefect/server/schemas/actions.py).
OLDEST_SUPPORTED = "3.2.0"


def unsupported_server(found: str, url: str) -> str | None:
    """The error for a server older than OLDEST_SUPPORTED, else None. A version that does not
    parse (a custom build) is let through: the writes themselves will tell."""
    try:
        too_old = Version(found) < Version(OLDEST_SUPPORTED)
    except InvalidVersion:
        return None
    if not too_old:
        return None
    return (
        f"the Prefect server at {url} runs Prefect {found}; prefect-flow-deploy supports "
        f"Prefect servers {OLDEST_SUPPORTED} and newer (an older server rejects the deployment "
        "fields it writes). Nothing was built or written. Upgrade the server to Prefect "
        f"{OLDEST_SUPPORTED} or later, or pin a release of this action that supports Prefect {found}."
    )


# Automations carry tags (this tool finds the ones it manages by its tag) from 3.4.7 on: an
# older server refuses `tags` on POST /automations/ (prefect/server/events/schemas/automations.py).
TRIGGERS_SINCE = "3.4.7"


def triggers_unsupported(found: str | None, url: str) -> str | None:
    """The error for a deployment with `triggers:` on a server whose automations have no
    tags, else None (also when the version is unknown: Prefect Cloud, a custom build)."""
    try:
        too_old = found is not None and Version(found) < Version(TRIGGERS_SINCE)
    except InvalidVersion:
        return None
    if not too_old:
        return None
    return (
        f"triggers: the Prefect server at {url} runs Prefect {found}, whose automations have "
        f"no tags (they came in Prefect {TRIGGERS_SINCE}), so the automations of these triggers "
        f"cannot be managed there. Upgrade the server to Prefect {TRIGGERS_SINCE} or later, or "
        "remove `triggers:` from this deployment."
    )


SELF_HOSTED_VERSION_INFO = (
    "a self-hosted Prefect server does not keep it (only Prefect Cloud does), and one before "
    "3.3.6 refuses it; the deployments' version is the image's content tag either way."
)


def version_info_rule(is_cloud: bool) -> tuple[bool, str]:
    """Whether the deployments' version_info (the commit) is sent, and if not why."""
    return (True, "") if is_cloud else (False, SELF_HOSTED_VERSION_INFO)
