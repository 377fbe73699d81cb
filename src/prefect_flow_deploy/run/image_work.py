"""One folder's image, for the executor: build (one platform, or each and a manifest
list), or pull an existing one; check it (where its code is, schemas, names computed in the
image); push it. What to do is the plan's (ImagePlan: build or check, the cache source);
this is the Docker and registry work. The executor runs one of these per folder, in threads."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone

from prefect_flow_deploy.clients import build_seconds, http_retry
from prefect_flow_deploy.clients.checkout_history import CheckoutHistory
from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.clients.stored_images import REPOSITORY_LABEL
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.model import DeploymentPlan, FlowFolder, ImagePlan, Plan, Progress
from prefect_flow_deploy.core.naming import FOLDER_LABEL, INPUTS_LABEL, registry_host
from prefect_flow_deploy.core.results import Counters, ImageOutcome
from prefect_flow_deploy.docker import (
    build_site,
    builder,
    engine_session,
    image_check,
    push_pull,
    pushing,
)
from prefect_flow_deploy.rules.pools import installs_at_start, run_environment
from prefect_flow_deploy.rules.specs import compact_inputs
from prefect_flow_deploy.run.provenance import image_labels
from prefect_flow_deploy.settings.builder import cache_flags
from prefect_flow_deploy.settings.options import Options

OnProgress = Callable[[Progress], None]


class ImageWork:
    """Builds, pulls, checks and pushes the plan's images on the plan's builder."""

    def __init__(
        self,
        plan: Plan,
        options: Options,
        logins: Logins,
        registry: RegistryClient,
        history: CheckoutHistory | None,
        on_progress: OnProgress,
        counters: Counters,
    ) -> None:
        self.plan, self.options, self.logins = plan, options, logins
        self.registry, self.history, self.on_progress = registry, history, on_progress
        self.counters = counters
        self._lock = threading.Lock()

    @contextmanager
    def site(self, building: bool) -> Iterator[str | None]:
        """The builder, answering (else a clear error) before anything is built; its
        Docker config directory."""
        with build_site.opened(self.plan.build, self.options, self.logins, building) as site:
            yield site.config_dir

    def _provenance(self) -> dict[str, str]:
        """The image's OCI labels (provenance.image_labels): given to the build, never part
        of the content tag, so a new commit of the same content rebuilds nothing."""
        commit = self.history.commit.sha if self.history and self.history.commit else None
        return image_labels(os.environ, self.options.repository, commit, datetime.now(timezone.utc))

    @functools.cached_property
    def _deployments_by_folder(self) -> dict[str, list[DeploymentPlan]]:
        """The plan's deployments by folder key, grouped once (each image asked twice, each
        time scanning every deployment of the plan)."""
        grouped: dict[str, list[DeploymentPlan]] = defaultdict(list)
        for deployment in self.plan.deployments:
            grouped[deployment.folder_key].append(deployment)
        return grouped

    def _installs(self, folder: FlowFolder) -> bool:
        """Whether its runs may install a package as they start (rules.pools.installs_at_start)."""
        text = folder.dockerfile.read_text(errors="replace") if folder.dockerfile else None
        mine = self._deployments_by_folder.get(folder.key, [])
        return installs_at_start(mine, self.plan.pools, text)

    def _run_env(self, folder: FlowFolder) -> dict[str, str]:
        """The env its runs get (rules.pools.run_environment), over its entries' own."""
        mine = self._deployments_by_folder.get(folder.key, [])
        return {**image_check.run_env(folder), **run_environment(mine, self.plan.pools)}

    def _count(self, built: int = 0, pushed: int = 0) -> None:
        with self._lock:
            self.counters.built += built
            self.counters.pushed += pushed

    def one(self, image: ImagePlan, config_dir: str | None) -> ImageOutcome:
        folder, recipe = image.folder, self.plan.recipes[image.folder.key]
        started = time.monotonic()
        phases: dict[str, float] = {}
        login = self.logins.get(registry_host(image.repository))
        if image.action == "build":
            sources, targets = cache_flags(self.plan.build, image.repository, image.cache_from)
            request = builder.BuildRequest(
                reference=image.reference,
                context=folder.path,
                dockerfile_text=recipe.dockerfile_text,
                dockerignore_text=recipe.dockerignore_text,
                build_args=recipe.build_args,
                labels={
                    **self._provenance(),
                    FOLDER_LABEL: folder.key,
                    INPUTS_LABEL: compact_inputs(image.inputs),
                    **(
                        {REPOSITORY_LABEL: self.options.repository}
                        if self.options.repository
                        else {}
                    ),
                },
                cache_from=sources,
                fresh=self.options.force,
                secrets=self.options.build_secrets,
                linked=recipe.linked,
                cache_to=targets,
            )
            http_retry.check_deadline(f"building {folder.key}")
            log.info(f"building {folder.key} ({image.reason})")
            self.on_progress(Progress(folder.key, "building"))
            if len(self.options.platform_list) > 1:
                return self._multi_platform(image, request, config_dir)
            request.platform = next(iter(self.options.platform_list), None)
            output = builder.build(
                request,
                config_dir,
                lambda step: self.on_progress(Progress(folder.key, "building", step)),
            )
            phases["build"] = time.monotonic() - started
            log.block(f"build {folder.key} → {image.reference}", output)
        else:
            self.on_progress(Progress(folder.key, "pulling", image.reference))
            push_pull.pull(image.reference, login)
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "checking"))
        code_dir, schemas, names, failing = image_check.check(
            folder, recipe, image.reference, self.options.projects_root, self._installs(folder),
            self._run_env(folder),
        )  # fmt: skip
        phases["check"] = time.monotonic() - mark
        # Counted once the check passed: a build it refuses is `failed` in the images output
        # (trial round 11 b 10: `built` counted it, `images` did not)
        self._count(built=int(image.action == "build"))
        digest = image.digest
        if self.options.registry and image.action == "build":
            http_retry.check_deadline(f"pushing {image.reference}")
            mark = time.monotonic()
            self.on_progress(Progress(folder.key, "pushing", image.reference))
            digest = pushing.push(image.reference, login)
            digest = self._stamp(image.reference, digest, phases["build"])
            phases["push"] = time.monotonic() - mark
            self._count(pushed=1)
            pushing.check_served(self.registry, image.reference, digest)
        elif not self.options.registry:
            digest = engine_session.local_image_id(image.reference)
        verb = (
            "built and pushed"
            if self.options.registry and image.action == "build"
            else ("built" if image.action == "build" else "checked")
        )
        detail = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
        log.info(f"{verb} {image.reference} ({time.monotonic() - started:.1f}s: {detail})")
        return ImageOutcome(
            "built" if image.action == "build" else "exists", digest, code_dir, schemas,
            names=names, flow_errors=failing,
        )  # fmt: skip

    def _multi_platform(
        self, image: ImagePlan, request: builder.BuildRequest, config_dir: str | None
    ) -> ImageOutcome:
        """One build per platform (the engine's own builder makes one platform at a time),
        each pushed under `<tag>-<os>-<arch>`, then one manifest list under the content tag.
        The image is checked on the engine's own platform (else the first, under emulation)."""
        started = time.monotonic()
        phases: dict[str, float] = {}
        folder, login = image.folder, self.logins.get(registry_host(image.repository))
        platforms = self.options.platform_list
        references = {p: f"{image.reference}-{p.replace('/', '-')}" for p in platforms}
        previous = image.cache_from
        for platform, reference in references.items():
            sources, targets = cache_flags(self.plan.build, image.repository, previous, platform)
            output = builder.build(
                replace(
                    request, reference=reference, platform=platform, cache_from=sources,
                    cache_to=targets,
                ),
                config_dir,
                lambda step: self.on_progress(Progress(folder.key, "building", step)),
            )  # fmt: skip
            log.block(f"build {folder.key} → {reference}", output)
        phases["build"] = time.monotonic() - started
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "checking"))
        native = engine_session.native_platform()
        code_dir, schemas, names, failing = image_check.check(
            folder,
            self.plan.recipes[folder.key],
            references.get(native, references[platforms[0]]),
            self.options.projects_root,
            self._installs(folder),
            self._run_env(folder),
        )
        phases["check"] = time.monotonic() - mark
        self._count(built=1)  # once the check passed, as above
        mark = time.monotonic()
        self.on_progress(Progress(folder.key, "pushing", image.reference))
        built = phases["build"]  # each platform's image says how long the folder took
        pushed = [(p, self._stamp(r, pushing.push(r, login), built)) for p, r in references.items()]
        digest = self.registry.put_manifest_list(image.reference, pushed)
        phases["push"] = time.monotonic() - mark
        self._count(pushed=1)
        pushing.check_served(self.registry, image.reference, digest)
        detail = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
        log.info(
            f"built and pushed {image.reference} for {', '.join(platforms)} "
            f"({time.monotonic() - started:.1f}s: {detail})"
        )
        return ImageOutcome("built", digest, code_dir, schemas, names=names, flow_errors=failing)

    def _stamp(self, reference: str, digest: str, seconds: float) -> str:
        return build_seconds.recorded(self.registry, reference, digest, seconds)
