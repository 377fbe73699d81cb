"""`new`: a flow folder that deploys as it is, refused when its names would collide.

The candidate folder is written to a scratch copy first and read with the plan's own rules
(discovery, image and deployment name collisions, Prefect's schedule rule) together with
every folder already there; only a clean candidate is copied into the projects root.
"""

from __future__ import annotations

import keyword
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from prefect_flow_deploy.core.model import FlowFolder, ImagePlan
from prefect_flow_deploy.core.naming import (
    flow_name_from_function,
    image_component,
    image_repository,
)
from prefect_flow_deploy.deployment.schedules import ScheduleError, exact_schedules
from prefect_flow_deploy.reading.discovery import discover, is_flow_dir, read_folder
from prefect_flow_deploy.rules.collisions import check_image_collisions, fail_name_collisions
from prefect_flow_deploy.rules.specs import desired_deployments
from prefect_flow_deploy.settings.options import Options


class ScaffoldError(ValueError):
    """The folder cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class NewFlow:
    project: str
    folder: str
    flow: str | None = None  # the Prefect flow name; default: the folder's name
    schedule: str | None = None  # a cron string

    @property
    def function(self) -> str:
        text = re.sub(r"\W+", "_", self.flow or self.folder).strip("_").lower() or "main"
        if text[0].isdigit() or keyword.iskeyword(text):
            text = f"flow_{text}"
        return text

    @property
    def flow_name(self) -> str:
        """--flow as given; else Prefect's name for the function (`daily_orders` → `daily-orders`)."""
        return self.flow or flow_name_from_function(self.function)


def files_for(new: NewFlow) -> dict[str, str]:
    """The folder's files: a typed parameter (so the deployment gets a parameter schema), a
    docstring (its description), an empty requirements.txt, a prefect.yaml when scheduled."""
    name_arg = (
        "" if flow_name_from_function(new.function) == new.flow_name else f"name={new.flow_name!r}"
    )
    decorator = f"@flow({name_arg})" if name_arg else "@flow"
    files = {
        "flow.py": f'''"""The {new.flow_name} flow of {new.project}."""

from prefect import flow, get_run_logger


{decorator}
def {new.function}(name: str = "world") -> str:
    """Greet `name`: replace with what this flow does.

    Args:
        name: who to greet.
    """
    get_run_logger().info("Hello, %s!", name)
    return f"Hello, {{name}}!"
''',
        "requirements.txt": "",
    }
    if new.schedule:
        entry = {
            "name": new.project,
            "entrypoint": f"flow.py:{new.function}",
            "schedules": [{"cron": new.schedule, "timezone": "UTC"}],
        }
        files["prefect.yaml"] = (
            "# Read by prefect-flow-deploy: deployments: entries are honoured.\n"
            + yaml.safe_dump({"deployments": [entry]}, sort_keys=False)
        )
    return files


def create(new: NewFlow, options: Options) -> Path:
    """Write the folder under the projects root; raise ScaffoldError, writing nothing, when
    it cannot deploy as it is."""
    _check_names(new)
    target = options.projects_root / new.project / new.folder
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another folder name.")
    if new.schedule:
        try:
            exact_schedules([{"cron": new.schedule}])
        except ScheduleError as exc:
            raise ScaffoldError(
                f"{exc}. Give a cron string of five fields, e.g. --schedule '0 6 * * *'."
            ) from exc
    with tempfile.TemporaryDirectory(prefix="pfd-new-") as scratch:
        draft = Path(scratch) / new.project / new.folder
        draft.mkdir(parents=True)
        for name, text in files_for(new).items():
            (draft / name).write_text(text, encoding="utf-8")
        candidate = read_folder(new.project, draft)
        problems = _collisions(candidate, _existing(options), options)
        if problems:
            raise ScaffoldError(
                "; ".join(problems) + " For the new folder: choose another folder name, or "
                "another flow name with --flow."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(draft, target)
    return target


def _check_names(new: NewFlow) -> None:
    for label, name in (("project", new.project), ("folder", new.folder)):
        if not is_flow_dir(name) or "/" in name or not image_component(name):
            raise ScaffoldError(
                f"the {label} name {name!r} would be skipped or cannot name an image: use "
                "letters, digits, '-' or '_', not starting with '.' or '_'."
            )
    if new.flow is not None and not new.flow.strip():
        raise ScaffoldError("--flow is empty: give the flow's name, or leave it out.")


def _existing(options: Options) -> list[FlowFolder]:
    root = options.projects_root
    if not root.is_dir() or not any(p.is_dir() and is_flow_dir(p.name) for p in root.iterdir()):
        return []  # an empty repository: nothing to collide with (and no warning about it)
    return discover(root)


def _collisions(candidate: FlowFolder, existing: list[FlowFolder], options: Options) -> list[str]:
    """The plan's own collision rules, over the repository with the candidate added."""
    folders = [*existing, candidate]
    check_image_collisions(folders, options)
    images = [
        ImagePlan(f, image_repository(options.registry, f.project, f.name), "new", {})
        for f in folders
        if f.flows and not f.failed
    ]
    specs = {i.folder.key: desired_deployments(i.folder, i, options) for i in images}
    fail_name_collisions(images, specs)
    return [p.message for p in candidate.problems if p.severity == "error"]
