"""One deployment name written by one run at a time, held on the Prefect server itself.

Before a write, registration reads the deployment again (still ours? written meanwhile from a
newer commit?). Prefect has no conditional write: `POST /deployments/` replaces a deployment
of the same flow and name. Two runs that both read before either writes would both succeed:
two repositories would each think they own the deployment, or an older commit would put its
image back. So the read and the write happen under a lock that every run of every repository
shares: a Prefect global concurrency limit of one slot, taken with a lease (the lease API of
PrefectHQ/prefect#18512, July 2025; Prefect Cloud has it too), so that a run killed while
holding it delays the next one by about a minute (the server's repossessor frees it), never
for good. A server without leases answers 404 or 405: the run says so once and writes unlocked.

Names hash onto LOCKS limits (`prefect-flow-deploy-lock-00` ...) rather than one limit per
deployment, so the workspace's concurrency page shows a fixed handful.

Prefect's own `prefect.concurrency.asyncio.concurrency()` does this for flow code, but with a
client of its own built from the process-wide settings. A run talks to its server through one
explicit client (`registration.make_client`: its URL, key, headers, TLS, retry policy and
deadline), so the same four calls (create, acquire, renew, release) are made on that client.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectAlreadyExists

from prefect_flow_deploy.clients.http_retry import check_deadline
from prefect_flow_deploy.core.logger import Level

LOCKS = 16
LOCK_PREFIX = "prefect-flow-deploy-lock-"
LEASE_SECONDS = 60.0  # the server's minimum: what a killed run costs the next one
RENEW_EVERY = LEASE_SECONDS / 3  # a slow write keeps its lease
POLL_SECONDS = (0.05, 2.0)  # backoff while another run holds it (a write holds it for ms)
# A live holder renews; a lease older than this was left by a killed run on a server whose
# repossessor service does not run (`prefect server start --no-services`).
STUCK_AFTER = 3 * LEASE_SECONDS + 30
SAY_EVERY = 10.0  # while waiting for a lock, say so this often (what it waits on, how long)
# 3.1/3.2 servers answer 405: they route POST .../increment-with-lease as a limit's name.
NO_LOCK_STATUSES = (401, 403, 404, 405)


def lock_name(full_name: str) -> str:
    """The limit that guards this deployment name ("flow/deployment"): the same in every run."""
    bucket = hashlib.sha256(full_name.encode()).digest()[0] % LOCKS
    return f"{LOCK_PREFIX}{bucket:02d}"


def backoff(attempt: int, retry_after: str | None) -> float:
    """The wait before asking again: the server's Retry-After (its estimate from past holds)
    or our exponential step, whichever is shorter, with jitter so waiters do not align."""
    low, high = POLL_SECONDS
    step = min(high, low * 2.0**attempt)
    if retry_after:
        with suppress(ValueError):
            step = min(step, float(retry_after))
    return step * random.uniform(0.5, 1.0)


class WriteLocks:
    """The locks of one run, over its client. `held(full_name)` guards one read-and-write."""

    def __init__(
        self,
        client: PrefectClient,
        say: Callable[[Level, str], None],
        waiting: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._client = client
        self._say = say  # from the registrar's thread: `say` must be thread-safe
        self._waiting = waiting  # a plain line every SAY_EVERY seconds of a wait
        self._unlocked_why: str | None = None  # set once the server cannot lock at all
        self._stuck: set[str] = set()  # locks held past STUCK_AFTER: not waited for again

    @asynccontextmanager
    async def held(self, full_name: str) -> AsyncIterator[bool]:
        """Hold the lock of `full_name` for the block; yields whether it is held (False on a
        server without leases, said once)."""
        lease = await self._acquire(lock_name(full_name), full_name)
        if lease is None:
            yield False
            return
        renewing = asyncio.create_task(self._keep(lease))
        try:
            yield True
        finally:
            renewing.cancel()
            await self._release(lease)

    async def _acquire(self, name: str, full_name: str) -> UUID | None:
        started, attempt, said = time.monotonic(), 0, 0
        while self._unlocked_why is None:
            check_deadline(f"waiting for the write lock of {full_name}")
            try:
                response = await self._client.increment_concurrency_slots_with_lease(
                    names=[name], slots=1, mode="concurrency", lease_duration=LEASE_SECONDS
                )
            except httpx.HTTPStatusError as exc:
                status = exc.response.status_code
                if status != 423:  # 423 Locked: another run writes a name of this lock
                    if not self._unlocked(status, name):
                        raise
                    continue
                waited = time.monotonic() - started
                if name in self._stuck or waited > STUCK_AFTER:
                    if name not in self._stuck:
                        self._stuck.add(name)
                        self._say("warning", stuck_message(name, full_name))
                    return None
                if waited >= (said + 1) * SAY_EVERY:
                    said = int(waited // SAY_EVERY)
                    self._waiting(waiting_message(name, full_name, waited))
                await asyncio.sleep(backoff(attempt, exc.response.headers.get("Retry-After")))
                attempt += 1
                continue
            body = response.json()
            if body.get("limits"):
                return UUID(body["lease_id"])
            # No such limit: the server grants an empty lease. Make the limit and ask again.
            await self._release(UUID(body["lease_id"]))
            await self._create(name)
        return None

    async def _create(self, name: str) -> None:
        try:
            await self._client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )
        except ObjectAlreadyExists:
            pass  # another run made it first
        except httpx.HTTPStatusError as exc:
            if not self._unlocked(exc.response.status_code, name):
                raise

    def _unlocked(self, status: int, name: str) -> bool:
        """A server without leases (404, or 405 from one that routes the path as a limit's
        name) or a key that may make no limits (401, 403) means writing unlocked, said once.
        False: any other answer, an error of the write."""
        if status not in NO_LOCK_STATUSES:
            return False
        if self._unlocked_why is None:  # concurrent writes (Prefect Cloud) may both find out
            self._unlocked_why = unlocked_message(status, name)
            self._say("notice", self._unlocked_why)
        return True

    async def _keep(self, lease: UUID) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self._client.renew_concurrency_lease(lease, LEASE_SECONDS)
            except Exception:  # the write goes on: a lapsed lease only reopens the race
                return

    async def _release(self, lease: UUID) -> None:
        # Best effort: a lease not released lapses after LEASE_SECONDS.
        with suppress(Exception):
            await self._client.release_concurrency_slots_with_lease(lease)


def unlocked_message(status: int, name: str) -> str:
    if status in (404, 405):
        why = (
            "this Prefect server has no concurrency leases (servers from July 2025 on, "
            "PrefectHQ/prefect#18512, have them)"
        )
    else:
        why = f"this API key may not create or take the global concurrency limit {name} (HTTP {status})"
    return (
        f"Deployments are written without the write lock: {why}. A deployment is still read "
        "just before it is written, but two runs creating the same deployment at the same "
        "moment are not kept apart."
    )


def waiting_message(name: str, full_name: str, waited: float) -> str:
    return (
        f"waiting {waited:.0f} s for the write lock {name} to write {full_name}: another run "
        "holds it (a run killed while holding it frees it within about a minute; past "
        f"{STUCK_AFTER:.0f} s it is passed with a warning)"
    )


def stuck_message(name: str, full_name: str) -> str:
    return (
        f"The write lock {name} (a Prefect global concurrency limit) has been held for over "
        f"{STUCK_AFTER:.0f} s. A run killed while holding it frees it within a minute where "
        "the server's repossessor service runs, so this server's may be off. "
        f"{full_name} is written without it, as is every later write of this run it guards. "
        f"To free it: prefect gcl update {name} --active-slots 0"
    )
