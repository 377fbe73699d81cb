"""The exit status of a deploy run, from what happened to its pushes and writes: the cause
when there is one (README, "Exit codes"), else 1 for "some flows failed"."""

from __future__ import annotations

from dataclasses import dataclass

from prefect_flow_deploy.core.errors import (
    DEADLINE,
    DeadlineError,
    DeployFailedError,
    PrefectUnavailableError,
    RegistryError,
)


@dataclass(frozen=True)
class Tally:
    pushed: int = 0  # pushes that succeeded
    push_refused: int = 0  # pushes the registry refused or never answered (after retries)
    written: int = 0  # deployment writes that succeeded
    write_unavailable: int = 0  # writes the Prefect API could not take (unreachable, 5xx, 429)
    deadline_skipped: int = 0  # rows not done because the deadline passed
    failed: bool = False  # anything failed at all


def exit_code(tally: Tally) -> int:
    """0 when nothing failed; 5 when every push tried was refused; 6 when every write tried
    met an unusable Prefect API; 7 when the deadline left work undone; else 1."""
    if not tally.failed:
        return 0
    if tally.push_refused and not tally.pushed:
        return RegistryError.exit_code
    if tally.write_unavailable and not tally.written:
        return PrefectUnavailableError.exit_code
    if tally.deadline_skipped:
        return DeadlineError.exit_code
    return DeployFailedError.exit_code


def explain(tally: Tally, api_url: str | None, deadline_minutes: float) -> tuple[str, str] | None:
    """(title, message) saying what stopped the run, for the exit status it gets."""
    code = exit_code(tally)
    if code == RegistryError.exit_code:
        return "Registry error", (
            f"the registry refused every push of this run ({tally.push_refused}, after retries "
            "of what was worth retrying): no deployment was written for them. See each error "
            "above: a login or permission (registry-username, registry-password), or a registry "
            "that is down; run again when it answers (only what changed is redone)."
        )
    if code == PrefectUnavailableError.exit_code:
        return "Prefect API error", (
            f"the Prefect API at {api_url} could not take any of this run's deployment writes "
            f"({tally.write_unavailable}: unreachable, or 429/5xx after retries): none was "
            "written. Run again when it answers (only what changed is redone)."
        )
    if tally.deadline_skipped:
        return "Deadline reached", deadline_message(tally.deadline_skipped, deadline_minutes)
    return None


def deadline_message(skipped: int, minutes: float) -> str:
    return (
        f"the run's deadline (timeout-minutes: {minutes:g}) passed: {skipped} deployment"
        f"{'s were' if skipped != 1 else ' was'} not built, pushed or written (rows "
        f"'skipped: {DEADLINE}'). Nothing was half-written: a deployment is written only after "
        "its image is pushed. Run again to finish (only what changed is redone), or raise "
        "timeout-minutes if the run is slow rather than stuck."
    )
