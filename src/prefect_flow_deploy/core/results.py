"""What a run did: per folder its image outcome, per deployment its row. Written by the
executor (execute.py), read by the reports (report.py, action_report.py, the action's
outputs); the rows are a pure function of the plan and the outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from prefect_flow_deploy.core.errors import FolderError
from prefect_flow_deploy.core.exit_status import Tally, exit_code
from prefect_flow_deploy.core.model import DeploymentPlan, ImageDeletion, Plan

Status = Literal["created", "updated", "unchanged", "removed", "orphaned", "failed", "skipped"]
ImageStatus = Literal["built", "exists", "failed", "skipped"]
WRITTEN: dict[str, Status] = {"create": "created", "update": "updated", "remove": "removed"}


@dataclass
class FlowResult:
    """One row of the outcome: a deployment and its image."""

    project: str
    folder: str
    flow: str
    deployment: str
    deployment_id: str | None
    image: str | None
    digest: str | None
    image_status: str  # exists / built / failed / skipped / build (planned)
    status: Status
    changed_fields: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class ComputedFlow:
    """What only loading a flow in the built image tells (pending_names.py): its name, and
    the description Prefect gives it then (a factory's flow: its docstring, or what the
    factory passes)."""

    name: str
    description: str | None = None


@dataclass(frozen=True)
class ImageOutcome:
    """One folder's image after the run. A failed or skipped folder says why in `error`:
    the one place a folder's execution failure is recorded."""

    status: ImageStatus
    digest: str | None = None
    code_dir: str | None = None  # where the image holds the folder's files (checked)
    # Parameter schemas computed in the built image, by entrypoint (image_programs.image_schemas).
    schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    # Flow names computed in the built image, by entrypoint (pending_names.py).
    names: Mapping[str, ComputedFlow] = field(default_factory=dict)
    # Flows that cannot run from the image, where the folder's others can (image_check.py):
    # not written, each failed with why.
    flow_errors: Mapping[str, FolderError] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "skipped")


@dataclass(frozen=True)
class WriteOutcome:
    """One deployment after the run: as completed once its image was checked (the re-diff),
    and what its write gave: the deployment id, the error, or why it was skipped. None of
    them: not written."""

    deployment: DeploymentPlan
    deployment_id: str | None = None
    error: str | None = None
    skipped: str | None = None  # why it was not written after all (a newer commit wrote it)
    at: tuple[Path | None, int | None] = (None, None)  # the error's file and line
    said: bool = False  # the error was said where it was found (the image check)


@dataclass
class Counters:
    built: int = 0
    pushed: int = 0
    deployment_writes: int = 0
    push_refused: int = 0  # for the exit status (exit_status.py)
    write_unavailable: int = 0
    deadline_skipped: int = 0


@dataclass(frozen=True)
class RunResult:
    plan: Plan
    images: Mapping[str, ImageOutcome]  # by folder key
    results: list[FlowResult]
    counters: Counters
    api_url: str | None
    seconds: float
    image_deletions: list[ImageDeletion] = field(default_factory=list)  # keep-images

    @property
    def failed(self) -> bool:
        return (
            any(r.status == "failed" for r in self.results)
            or any(p.severity == "error" for p in self.plan.problems)
            or any(f.failed for f in self.plan.folders)
            or self.counters.deadline_skipped > 0
        )

    @property
    def tally(self) -> Tally:
        c = self.counters
        return Tally(
            c.pushed, c.push_refused, c.deployment_writes, c.write_unavailable,
            c.deadline_skipped, self.failed,
        )  # fmt: skip

    @property
    def exit_code(self) -> int:
        return exit_code(self.tally)


def write_key(deployment: DeploymentPlan) -> tuple[str, str]:
    """A deployment's key in the outcomes (a name is unique per folder)."""
    return (deployment.folder_key, deployment.full_name)


def outcome_rows(
    plan: Plan,
    images: Mapping[str, ImageOutcome],
    writes: Mapping[tuple[str, str], WriteOutcome],
    fail_fast: bool,
) -> list[FlowResult]:
    """Per planned deployment its row, then one row per folder that could not be planned."""
    references = {i.folder.key: i.reference for i in plan.images}
    not_built = {i.folder.key for i in plan.images if i.action == "skipped"}  # decide.py
    unbuilt = {f.key for f in plan.folders if f.failed}  # failed before any image
    # --fail-fast: after a folder failed while executing, nothing more was written.
    planned_failed = {i.folder.key for i in plan.images if i.action == "failed"}
    stopped = fail_fast and any(o.failed for key, o in images.items() if key not in planned_failed)
    rows = []
    for planned in plan.deployments:
        written = writes.get(write_key(planned))
        deployment = written.deployment if written else planned
        image = images.get(planned.folder_key)
        project, _, folder = planned.folder_key.partition("/")
        flow, _, name = deployment.full_name.partition("/")  # a name the image computed too
        row = FlowResult(
            project, folder, flow, name, deployment.deployment_id,
            references.get(planned.folder_key), image.digest if image else None,
            image.status if image else _no_image(planned.folder_key, not_built, unbuilt),
            "unchanged", list(deployment.changed_fields),
        )  # fmt: skip
        if deployment.action in ("failed", "skipped"):  # skipped: the deploy order
            row.status, row.error = deployment.action, deployment.error
        elif image is not None and image.failed and deployment.action not in ("remove", "orphan"):
            own = image.flow_errors.get(planned.spec.entrypoint if planned.spec else "")
            row.status = image.status  # type: ignore[assignment]
            row.error = own.message if own is not None else image.error
        elif written is not None and written.skipped is not None:
            row.status, row.error = "skipped", written.skipped
        elif written is not None and written.error is not None:
            row.status, row.error = "failed", written.error
        elif written is not None and written.deployment_id is not None:
            row.deployment_id, row.status = written.deployment_id, WRITTEN[deployment.action]
        elif deployment.action == "orphan":  # its folder or flow is gone; kept
            row.status = "orphaned"
        elif stopped:
            row.status = "skipped"
        rows.append(row)
    return rows + failed_folder_rows(plan)


def _no_image(key: str, not_built: set[str], unbuilt: set[str]) -> str:
    """The image column of a deployment whose folder has no image outcome."""
    return "skipped" if key in not_built else "failed" if key in unbuilt else "-"


def listed(action: str) -> str:
    """A planned action as a dry run lists it: a kept orphan under `remove`, as the
    README's outputs table has it (the terminal and the PR comment tell the two apart)."""
    return "remove" if action == "orphan" else action


def planned_rows(plan: Plan) -> list[FlowResult]:
    """Rows for a dry run: the status is what a deploy would do."""
    images = {i.folder.key: i for i in plan.images}
    unbuilt = {f.key for f in plan.folders if f.failed}
    rows = []
    for deployment in plan.deployments:
        image = images.get(deployment.folder_key)
        project, _, folder = deployment.folder_key.partition("/")
        flow, _, name = deployment.full_name.partition("/")
        rows.append(
            FlowResult(
                project, folder, flow, name, deployment.deployment_id,
                image.reference if image else None, image.digest if image else None,
                image.action if image else _no_image(deployment.folder_key, set(), unbuilt),
                listed(deployment.action),  # type: ignore[arg-type]
                list(deployment.changed_fields), deployment.error,
            )
        )  # fmt: skip
    return rows + failed_folder_rows(plan)


def failed_folder_rows(plan: Plan) -> list[FlowResult]:
    """Folders that could not even be planned (syntax error, bad prefect.yaml, …): one row
    each, so that outputs and summaries show them."""
    planned = {d.folder_key for d in plan.deployments} | {
        i.folder.key for i in plan.images if i.action != "failed"
    }
    rows = []
    for folder in plan.folders:
        if folder.failed and folder.key not in planned:
            errors = "; ".join(p.message for p in folder.problems if p.severity == "error")
            rows.append(
                FlowResult(
                    folder.project, folder.name, "-", folder.project, None, None, None,
                    "failed", "failed", [], errors,
                )
            )  # fmt: skip
    return rows
