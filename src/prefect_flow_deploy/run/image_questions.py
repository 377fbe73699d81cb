"""Each folder's image, asked of the registry as soon as its recipe is made.

Making a folder's recipe and content tag is CPU work in this process (hashing its build
context, in the calling thread: each file is read once, file_reads.py); asking whether its
image exists is waiting on the registry. So each question goes to a pool of threads as soon
as its tag is known, while the next folders' recipes are made, instead of after the last.
A folder whose base image is not resolved yet waits in a backlog until it is (the base
lookups run in the same pool).

Not while the folders themselves are read: measured 2026-12-04 (1,000 deployed folders,
median of 5), questions asked during discovery made the plan slower (5.27 s against 3.91 s
wall, 4.75 against 3.64 CPU s): each answer that wakes a thread takes the interpreter's lock
from the reading, which is CPU work all along. Again 2026-12-05 with the HEADs over
http.client (direct_heads.py), 5 alternated rounds: 2.66 s against 2.59 s wall, 2.25 against
2.07 CPU s. Nor in a second process reading folders from the end of the list (branch
experiment/two-readers): 2.61 against 2.58 s at 1,000, 11.50 against 11.35 s at 5,000, the
second core being the Prefect server's and the registry's meanwhile.

Which folders become images (not a failed one, not one whose image name collides) is
decided before, by the same pure functions decide uses: only those are asked about.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial

from prefect_flow_deploy.clients import build_seconds
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels, parse_reference
from prefect_flow_deploy.core.background import in_own_thread
from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.core.model import BuildRecipe, FlowFolder, ImageAnswer
from prefect_flow_deploy.core.server_state import ServerState
from prefect_flow_deploy.docker.base_images import BaseDigests
from prefect_flow_deploy.reading.recipes import image_answer, recipe_for
from prefect_flow_deploy.rules.specs import previous_images, previous_inputs
from prefect_flow_deploy.settings.options import Options

CATALOG_THRESHOLD = 20  # folders; below it, one HEAD each is as cheap as the catalog
Asked = tuple[ImageAnswer, RegistryError | None]
Catalog = Future[set[str] | None]  # the registry's repositories; None: it keeps no catalog


@dataclass(frozen=True)
class Answers:
    """What the questions found, by folder key in the order the folders were read."""

    recipes: dict[str, BuildRecipe]
    recipe_errors: dict[str, str]
    answers: dict[str, ImageAnswer]
    base_warnings: dict[str, str]


class ImageQuestions:
    """Made per plan; `read(folder)` for each folder that becomes an image, then `answers()`
    once."""

    def __init__(
        self,
        options: Options,
        registry: RegistryClient,
        state: Callable[[], ServerState],
        pool: ThreadPoolExecutor,
    ) -> None:
        self.options, self.registry, self.pool = options, registry, pool
        self._state = state
        self._previous: dict[str, str] | None = None
        self._previous_lock = threading.Lock()
        self._bases = BaseDigests(registry)
        self._base_lookups: dict[str, Future[None]] = {}
        self._backlog: list[tuple[FlowFolder, BuildRecipe]] = []
        self._recipes: dict[str, BuildRecipe] = {}
        self._recipe_errors: dict[str, str] = {}
        self._answers: dict[str, ImageAnswer] = {}
        self._asked: dict[str, Future[Asked]] = {}
        self._catalog: Catalog | None = None

    # -- the calling thread ----------------------------------------------------------------
    def read(self, folder: FlowFolder) -> None:
        """A folder's recipe now, its question as soon as its base images are known."""
        try:
            recipe = recipe_for(folder, self.options)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self._recipe_errors[folder.key] = str(exc)
            return
        self._recipes[folder.key] = recipe
        for reference, _line in recipe.bases:
            if reference not in self._base_lookups:
                self._base_lookups[reference] = self.pool.submit(self._bases.resolve, reference)
        self._backlog.append((folder, recipe))
        self._ask_ready(wait=False)

    def answers(self) -> Answers:
        """Every question answered. A registry that answers none of them is unusable: its
        error is raised (one clear message)."""
        self._ask_ready(wait=True)
        asked = {key: future.result() for key, future in self._asked.items()}
        errors = [error for _, error in asked.values() if error is not None]
        if asked and len(errors) == len(asked):
            raise errors[0]
        answers = {key: asked[key][0] if key in asked else answer
                   for key, answer in self._answers.items()}  # fmt: skip
        return Answers(self._recipes, self._recipe_errors, answers, dict(self._bases.warnings))

    def _ask_ready(self, wait: bool) -> None:
        """Answer (and ask about) the backlog's folders whose base images are resolved."""
        waiting = []
        for folder, recipe in self._backlog:
            lookups = [self._base_lookups[reference] for reference, _ in recipe.bases]
            if not wait and not all(lookup.done() for lookup in lookups):
                waiting.append((folder, recipe))
                continue
            for lookup in lookups:
                lookup.result()
            answer = image_answer(
                folder, recipe, self._bases.digests, self._bases.problems, self.options
            )
            self._answers[folder.key] = answer
            if answer.tag:
                # Past a few folders, the catalog (a page per 1,000 repositories) tells which
                # repositories do not exist yet: their images need no question.
                if self._catalog is None and len(self._asked) >= CATALOG_THRESHOLD:
                    registry = self.options.registry
                    # Beside the pool: its questions wait for the catalog.
                    self._catalog = (
                        in_own_thread("pfd-catalog", partial(self.registry.repositories, registry))
                        if registry
                        else None
                    )
                self._asked[folder.key] = self.pool.submit(
                    self._ask, folder.key, answer, self._catalog
                )
        self._backlog = waiting

    # -- the pool's threads ----------------------------------------------------------------
    def _ask(self, key: str, answer: ImageAnswer, catalog: Catalog | None) -> Asked:
        """Whether the image exists, and for one to build what the deployed one was made of
        (its inputs label: what changed) and how long it took (its build-seconds label)."""
        try:
            digest = self._existing_digest(f"{answer.repository}:{answer.tag}", catalog)
            old, before, seconds = None, None, None
            if not digest and not self.options.force:
                old = self._previous_images().get(key)
            if old and "/" in old and old.startswith(answer.repository + ":"):
                labels = image_labels(self.registry, old)
                before, seconds = previous_inputs(labels), build_seconds.read(labels)
            found = replace(
                answer, digest=digest, previous_inputs=before, previous_build_seconds=seconds
            )
            return found, None
        except RegistryError as exc:
            return replace(answer, registry_error=str(exc)), exc

    def _previous_images(self) -> dict[str, str]:
        with self._previous_lock:
            if self._previous is None:
                self._previous = dict(previous_images(self._state(), self.options))
            return self._previous

    def _existing_digest(self, reference: str, catalog: Catalog | None) -> str | None:
        """The image's digest if it is already there: in the registry, or locally without
        one. A repository the registry's catalog does not list holds no tag: not asked."""
        if self.options.registry:
            known = catalog.result() if catalog is not None else None
            if known is not None and parse_reference(reference).repository not in known:
                return None
            return self.registry.manifest_digest(reference)
        from prefect_flow_deploy.docker.engine_session import (
            local_image_id,  # the Docker SDK: only without a registry
        )

        return local_image_id(reference)
