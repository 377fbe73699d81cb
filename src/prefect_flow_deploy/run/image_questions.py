"""Each folder's image, asked of the registry as soon as the folder is read.

Making a folder's recipe and content tag is CPU work in this process (hashing its build
context, in the calling thread: each file is read once, file_reads.py); asking whether its
image exists is waiting on the registry. gather hands each folder here as discovery reads
it (`read`); its question is sent from this same thread (clients/pumped_heads.py) and
answered while the next folders are read, the answers taken in between folders (`poll`).
A folder whose base image is not resolved yet waits in a backlog until it is (the base
lookups run in a pool of threads). What the pump cannot answer (a registry behind a proxy
or that wants a login, a retried status), and what a missing image leaves to ask (the
deployed image's labels), goes to the pool once the reading is done.

Not from the pool's threads while the folders are read: measured 2026-12-04 (1,000 deployed
folders, median of 5), that made the plan slower (5.27 s against 3.91 s wall, 4.75 against
3.64 CPU s): each answer that wakes a thread takes the interpreter's lock from the reading,
which is CPU work all along; again 2026-12-05 over http.client (direct_heads.py): 2.66 s
against 2.59 s. Nor in a second process reading folders from the end of the list (branch
experiment/two-readers): 2.61 against 2.58 s at 1,000, 11.50 against 11.35 s at 5,000. From
the reading thread, pipelined (2026-12-05 16:00, held states, alternated rounds): 1,000
deployed folders 2.46 against 2.66 s, 5,000 10.79 against 11.89 s (bench/README).

A failed folder, or one without a flow, is not asked about; one whose image name collides
with another's is known only once every folder is read: its answer is dropped (`answers`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from prefect_flow_deploy.clients import build_seconds
from prefect_flow_deploy.clients.image_names import parse_reference
from prefect_flow_deploy.clients.registry import ASK, Ask, RegistryClient, image_labels
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
T = TypeVar("T")
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
        # Asked from this thread as each folder is read, answered while the next are read
        # (pumped_heads.py); the others, and what an answer leaves open, by the pool.
        self._pump = registry.head_pump() if options.registry else None
        self._pumped: dict[str, ImageAnswer] = {}

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
        self.poll()

    def poll(self) -> None:
        """Ask about the folders whose base images are known by now, take in the answers
        that have come (between folders: it never waits)."""
        if self._backlog:
            self._ask_ready(wait=False)
        if self._pump is not None:
            self._pump.poll()

    def answers(self, keys: set[str] | None = None) -> Answers:
        """Every question answered (of the folders `keys` names, if given: the others were
        read but make no image). A registry that answers none of them is unusable: its
        error is raised (one clear message)."""
        self._ask_ready(wait=True)
        self._settle_pumped()
        asked = {key: future.result() for key, future in self._asked.items()}
        errors = [error for _, error in asked.values() if error is not None]
        if asked and len(errors) == len(asked):
            raise errors[0]
        answers = {key: asked[key][0] if key in asked else answer
                   for key, answer in self._answers.items()}  # fmt: skip
        return Answers(
            _only(self._recipes, keys),
            _only(self._recipe_errors, keys),
            _only(answers, keys),
            dict(self._bases.warnings),
        )

    def _settle_pumped(self) -> None:
        """The pumped questions' answers: a found image is done; the rest go to the pool
        (a missing image's previous one, or a question the pump could not answer)."""
        if self._pump is None or not self._pumped:
            return
        responses = self._pump.finish()
        self._pump.close()
        for key, answer in self._pumped.items():
            reference = f"{answer.repository}:{answer.tag}"
            digest = self.registry.pumped_digest(reference, responses.get(key))
            if isinstance(digest, str):
                done: Future[Asked] = Future()
                done.set_result((replace(answer, digest=digest), None))
                self._asked[key] = done
            else:
                self._asked[key] = self.pool.submit(self._ask, key, answer, self._catalog, digest)

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
                asked = len(self._asked) + len(self._pumped)
                if self._catalog is None and asked >= CATALOG_THRESHOLD:
                    registry = self.options.registry
                    # Beside the pool: its questions wait for the catalog.
                    self._catalog = (
                        in_own_thread("pfd-catalog", partial(self.registry.repositories, registry))
                        if registry
                        else None
                    )
                if not self._pumps(folder.key, answer):
                    self._asked[folder.key] = self.pool.submit(
                        self._ask, folder.key, answer, self._catalog
                    )
        self._backlog = waiting

    def _pumps(self, key: str, answer: ImageAnswer) -> bool:
        """Whether the question went to the pump (not when the catalog, already in, says
        the repository does not exist, nor where the registry client must ask itself)."""
        if self._pump is None:
            return False
        catalog = self._catalog
        reference = f"{answer.repository}:{answer.tag}"
        if catalog is not None and catalog.done() and _not_listed(catalog.result(), reference):
            return False
        request = self.registry.pumped_head(reference)
        if request is None:
            return False
        self._pump.ask(key, *request)
        self._pumped[key] = answer
        return True

    # -- the pool's threads ----------------------------------------------------------------
    def _ask(
        self, key: str, answer: ImageAnswer, catalog: Catalog | None, known: str | Ask | None = ASK
    ) -> Asked:
        """Whether the image exists (unless `known`), and for one to build what the deployed
        one was made of (its inputs label: what changed) and how long it took (its
        build-seconds label)."""
        try:
            reference = f"{answer.repository}:{answer.tag}"
            digest = self._existing_digest(reference, catalog) if known is ASK else known
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
            if catalog is not None and _not_listed(catalog.result(), reference):
                return None
            return self.registry.manifest_digest(reference)
        from prefect_flow_deploy.docker.engine_session import (
            local_image_id,  # the Docker SDK: only without a registry
        )

        return local_image_id(reference)


def _not_listed(catalog: set[str] | None, reference: str) -> bool:
    """The catalog (None: the registry keeps none) lists no repository of the reference's."""
    return catalog is not None and parse_reference(reference).repository not in catalog


def _only(by_key: dict[str, T], keys: set[str] | None) -> dict[str, T]:
    return by_key if keys is None else {k: v for k, v in by_key.items() if k in keys}
