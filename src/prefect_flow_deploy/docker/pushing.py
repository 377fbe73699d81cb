"""A push as the executor makes it: through the engine (push_pull.push), saying every 10 s
what it waits on (heartbeat.py), and then asking the registry whether it serves what was
pushed under the tag (one HEAD; image_check.served_mismatch judges)."""

from __future__ import annotations

from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core import heartbeat
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import image_check, push_pull


def push(reference: str, login: Credentials | None) -> str:
    """push_pull.push, saying every 10 s what it waits on (the last state the engine told)."""
    last = ["waiting for the registry"]

    def say(seconds: float) -> None:
        log.info(f"pushing {reference}: {seconds:.0f} s so far, {last[0]}")

    with heartbeat.while_waiting(say):
        return push_pull.push(reference, login, lambda status: last.__setitem__(0, status))


def check_served(registry: RegistryClient, reference: str, pushed: str) -> None:
    """The registry serves what was pushed under the tag, else FolderError."""
    problem = image_check.served_mismatch(reference, pushed, registry.manifest_digest(reference))
    if problem:
        raise FolderError(problem)
