"""Every source of configuration resolved into one typed object.

Order, later wins: built-in defaults → the tenant's block of the config file → environment
variables → command-line options or action inputs. Secrets (registry password, Prefect API
key) come only from options, inputs or the environment, never from the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigurationError
from .naming import is_valid_registry, normalise_registry, registry_host
from .registry import Credentials

DEFAULT_BASE_IMAGE = "prefecthq/prefect:3-python3.12"
DEFAULT_WORK_POOL = "docker-pool"
DEFAULT_WORK_POOL_TYPE = "docker"
DEFAULT_CONFIG_FILE = "prefect-flow-deploy.yaml"


@dataclass(frozen=True)
class Options:
    projects_root: Path = Path("projects")
    registry: str = ""
    registry_username: str | None = None
    registry_password: str | None = None
    tenant: str | None = None
    base_image: str = DEFAULT_BASE_IMAGE
    work_pool: str = DEFAULT_WORK_POOL
    work_pool_type: str = DEFAULT_WORK_POOL_TYPE  # of a pool created when missing
    flows: str | None = None
    max_parallel: int = 4
    prefect_api_url: str | None = None
    prefect_api_key: str | None = None
    force: bool = False
    prune: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    keep_images: int | None = None  # None: keep every image
    # Set by a tenant block of the config file (see config.py).
    extra_tags: tuple[str, ...] = ()
    schedules_active: bool | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    job_variables: dict[str, Any] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)

    def validate(self) -> Options:
        """Check every value; return the options with the registry in its canonical form."""
        if self.registry != normalise_registry(self.registry):
            return replace(self, registry=normalise_registry(self.registry)).validate()
        if not self.projects_root.is_dir():
            raise ConfigurationError(
                f"the projects root {self.projects_root} is not a folder. Set projects-root "
                "(--projects-root) to the folder that holds <project>/<flow folder>/."
            )
        if self.registry and not is_valid_registry(self.registry):
            raise ConfigurationError(
                f"registry {self.registry!r} is not a valid image prefix: use host[/path], "
                "lower case, e.g. ghcr.io/acme/flows or localhost:5000/flows."
            )
        if bool(self.registry_username) != bool(self.registry_password):
            raise ConfigurationError(
                "give both registry-username and registry-password, or neither."
            )
        if self.keep_images is not None and self.keep_images < 0:
            raise ConfigurationError(
                f"keep-images must be 0 or more (images kept besides those in use), not {self.keep_images}"
            )
        if self.max_parallel < 1:
            raise ConfigurationError("max-parallel must be at least 1")
        if self.flows:
            import re

            try:
                re.compile(self.flows)
            except re.error as exc:
                raise ConfigurationError(
                    f"flows {self.flows!r} is not a valid regular expression: {exc}"
                ) from exc
        return self

    def credentials(self) -> dict[str, Credentials]:
        if not (self.registry and self.registry_username and self.registry_password):
            return {}
        return {
            registry_host(self.registry + "/x"): Credentials(
                self.registry_username, self.registry_password
            )
        }

    def with_environment(self, env: dict[str, str] | None = None) -> Options:
        """Fill what is unset from PFD_* and PREFECT_* variables."""
        env = dict(os.environ if env is None else env)
        updates: dict[str, Any] = {}
        pairs = {
            "registry_username": "PFD_REGISTRY_USERNAME",
            "registry_password": "PFD_REGISTRY_PASSWORD",
            "prefect_api_url": "PREFECT_API_URL",
            "prefect_api_key": "PREFECT_API_KEY",
        }
        for attr, variable in pairs.items():
            if getattr(self, attr) in (None, "") and env.get(variable):
                updates[attr] = env[variable]
        return replace(self, **updates)
