"""Push an image to its registry and pull one to check it, through the engine, again after a
transient failure (the run's backoff, clients/http_retry.py); a refused one is a PushError."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import TypeVar

from docker.errors import DockerException

from prefect_flow_deploy.clients import http_retry
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker.engine_session import docker_client


class PushError(FolderError):
    """The registry (or the way to it) refused a push: counted for exit 5 when every push
    of a run ends so."""


# The engine relays the registry's answer as text (distribution's `errcode` names, or the
# HTTP status of an unexpected answer; Go's network errors when the connection failed).
_PUSH_REFUSED = re.compile(r"(?i)unauthorized|denied|authenticat|forbidden|\b40[13]\b")
_PUSH_TRANSIENT = re.compile(
    r"(?i)\b(?:429|500|502|503|504)\b|toomanyrequests|unavailable|connection reset|"
    r"connection refused|broken pipe|i/o timeout|timeout|\bEOF\b|unexpected HTTP status: 5"
)


def push_is_transient(message: str) -> bool:
    """Worth pushing again: rate limited, a 5xx or a broken connection. Never a refused login."""
    return not _PUSH_REFUSED.search(message) and bool(_PUSH_TRANSIENT.search(message))


def push(
    reference: str,
    credentials: Credentials | None,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """Push, again after a transient failure (the engine skips the layers the registry
    already has, so a retry resends only what was missing); return the registry digest.
    `on_status` hears each layer's state as the engine reports it (`3f2a…: Pushing`)."""
    return again_if_transient(
        f"push of {reference}", lambda: _push_once(reference, credentials, on_status)
    )


T = TypeVar("T")


def again_if_transient(what: str, action: Callable[[], T]) -> T:
    """`action`, again with the run's backoff (http_retry) while it fails with a registry
    error worth retrying, until the attempts or the deadline run out."""
    attempt = 0
    while True:
        try:
            return action()
        except PushError as exc:
            if not push_is_transient(exc.message):
                raise
            wait = http_retry.next_wait(
                http_retry.POLICY, attempt, None, http_retry.run_deadline().remaining(),
                random.random(),
            )  # fmt: skip
            if wait is None:
                raise
            log.info(f"{what} failed ({exc.message}); trying again in {wait:.1f}s")
            time.sleep(wait)
            attempt += 1


def _push_once(
    reference: str, credentials: Credentials | None, on_status: Callable[[str], None] | None = None
) -> str:
    client = docker_client()
    repository, tag = reference.rsplit(":", 1)
    auth = (
        {"username": credentials.username, "password": credentials.password}
        if credentials
        else None
    )
    digest = ""
    try:
        for chunk in client.images.push(
            repository, tag, auth_config=auth, stream=True, decode=True
        ):
            if "error" in chunk:
                raise PushError(f"push of {reference} failed: {chunk['error']}")
            if on_status and chunk.get("status"):
                layer = f"layer {chunk['id']}: " if chunk.get("id") else ""
                on_status(f"{layer}{chunk['status']}")
            aux = chunk.get("aux") or {}
            digest = aux.get("Digest", digest)
    except DockerException as exc:
        raise FolderError(f"push of {reference} failed: {exc}") from exc
    return digest


def pull(reference: str, credentials: Credentials | None) -> None:
    """Fetch an image that exists in the registry but not here (to check it), again after a
    transient failure as a push."""
    repository, tag = reference.rsplit(":", 1)
    auth = (
        {"username": credentials.username, "password": credentials.password}
        if credentials
        else None
    )

    def pull_once() -> None:
        try:
            docker_client().images.pull(repository, tag=tag, auth_config=auth)
        except DockerException as exc:
            raise PushError(f"cannot pull {reference} to check it: {exc}") from exc

    again_if_transient(f"pull of {reference}", pull_once)
