"""`validate`: the plan's own decision (`rules.decide.plan`) over the repository, in a world
that is not asked: no Prefect server, no registry, no Docker. Every problem the plan would
report from the repository alone is reported in one pass, so that it can run in pre-commit
in well under a second.

It reads what `gather` reads from the checkout (discovery: flows, prefect.yaml,
requirements.txt; each folder's build recipe: Dockerfile, .dockerignore, files that look like
credentials) and hands it to decide with the rest unknown: no deployment on the server, the
work pools not read (their job variables are not judged), no base image digest and no
registry answer (the content tag is not computed). What only the world can tell (a base
image that does not resolve, another tenant's deployment of the same name, a pool that does
not exist, a failed build) is left to `plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from prefect_flow_deploy.core.model import BuildRecipe, FlowFolder, ImageAnswer, Problem
from prefect_flow_deploy.core.naming import image_repository
from prefect_flow_deploy.core.server_state import ServerState
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.recipes import (
    file_warnings,
    recipe_for,
)
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.rules.collisions import image_collisions
from prefect_flow_deploy.rules.inputs import Inputs
from prefect_flow_deploy.settings.cascade import config_line
from prefect_flow_deploy.settings.options import Options


@dataclass(frozen=True)
class Validation:
    folders: list[FlowFolder]  # as the plan judged them, each with every problem found

    @property
    def errors(self) -> int:
        return sum(1 for f in self.folders for p in f.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.folders for p in f.problems if p.severity == "warning")

    @property
    def flows(self) -> int:
        return sum(len(f.flows) for f in self.folders)


def validate(options: Options) -> Validation:
    """Read every folder as `plan` does and decide, the world unknown."""
    with file_reads.one_read_each():
        folders = discover(options.projects_root, options.flows, options.repository)
        return Validation(judge(folders, options))


def judge(folders: list[FlowFolder], options: Options) -> list[FlowFolder]:
    """The folders with every problem the plan finds in them, in one pass. A folder that
    failed to read (a prefect.yaml entry with a wrong field, a requirements line) would be
    left out of the plan whole; here the rest of it is judged too (its readable flows and
    entries), so that one run says everything, and the reading errors are kept."""
    kept = [replace(f, problems=[p for p in f.problems if not _folder_error(p)]) for f in folders]
    plan = decide.plan(unknown_world(kept, options), options)
    judged = []
    for read, before, after in zip(folders, kept, plan.folders, strict=True):
        found = after.problems[len(before.problems) :]  # decide adds after what was read
        judged.append(replace(after, problems=[*read.problems, *found]))
    return judged


def _folder_error(problem: Problem) -> bool:
    return problem.severity == "error" and problem.flow is None


def unknown_world(folders: list[FlowFolder], options: Options) -> Inputs:
    """What gather would read from the checkout alone (each folder's build recipe, or why
    it cannot be read), and nothing of the world: an empty server whose version is not
    told, no work pool read, images whose content tag and presence are not asked (decide:
    "not checked")."""
    collided = image_collisions(folders, options)
    recipes: dict[str, BuildRecipe] = {}
    errors: dict[str, str] = {}  # folder key → why its build inputs cannot be read
    warnings: dict[str, tuple[Problem, ...]] = {}
    answers: dict[str, ImageAnswer] = {}
    for folder in folders:
        if not folder.flows or folder.failed or folder.key in collided:
            continue
        try:
            recipe = recipe_for(folder, options)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors[folder.key] = str(exc)
            continue
        recipes[folder.key] = recipe
        warnings[folder.key] = file_warnings(folder, recipe)
        repository = image_repository(options.registry, folder.project, folder.name)
        answers[folder.key] = ImageAnswer(repository, None)
    at = config_line(options.source("parameters"), options.projects_root)
    return Inputs(
        tuple(folders), recipes, errors, warnings, answers, ServerState(), {}, {}, None,
        parameters_at=at, variables_asked=False,
    )  # fmt: skip
