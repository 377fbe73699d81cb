"""What `gather` read from the world, as plain immutable data: the input of `decide`.

Nothing here talks to anything; a unit test builds these by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.frozen import FrozenMap
from prefect_flow_deploy.core.model import BuildRecipe, FlowFolder, ImageAnswer, Problem
from prefect_flow_deploy.core.server_state import Pool, ServerState
from prefect_flow_deploy.deployment.commit_order import Commit, Relation
from prefect_flow_deploy.rules.previews import PullState


@dataclass(frozen=True)
class Inputs:
    folders: tuple[FlowFolder, ...]  # as discovery read them
    recipes: Mapping[str, BuildRecipe]  # by folder key, for folders that can become images
    recipe_errors: Mapping[str, str]  # folder key → why its build inputs cannot be read
    # Folder key → warnings about its build inputs that reading them told (a large file).
    file_warnings: Mapping[str, tuple[Problem, ...]]
    images: Mapping[str, ImageAnswer]  # by folder key, for every folder with a recipe
    # The server's managed deployments, plus those of a wanted name it did not make (taken
    # over), and its version.
    snapshot: ServerState
    pools: Mapping[str, Pool]  # the work pools the deployments name (or would create)
    # Folders this run did not read (`--flows`, a shard) that hold a deployment of a wanted
    # name: the flow names each still has.
    other_folders: Mapping[str, frozenset[str]]
    api_url: str | None
    api_is_cloud: bool = False  # Prefect Cloud (it keeps version_info; a server does not)
    commit: Commit | None = None  # the checkout's commit (deploy order), when it has one
    # How each commit the server's deployments record relates to ours, by sha
    # (checkout_history.py; None: the history cannot tell).
    relations: Mapping[str, Relation | None] = field(default_factory=dict)
    # What GitHub says of the pull requests whose previews are on the server (the sweep,
    # previews.to_ask): "open", "closed" or "merged"; a pull request not asked is absent.
    pull_states: Mapping[int, PullState] = field(default_factory=dict)
    # The config file and line of the tenant's `parameters:` (settings.cascade.config_line).
    parameters_at: tuple[Path | None, int | None] | None = None
    now: int | None = None  # the run's clock (seconds since the epoch): a record later is untrusted
    # The server's variables the entries' parameters name (server_variables.py), by name.
    variables: Mapping[str, Any] = field(default_factory=dict)
    # False for `validate`, which asks no server: a variable it lacks is not said to be missing
    # (trial round 11 b 13: "the server does not have" a variable it had).
    variables_asked: bool = True

    def __post_init__(self) -> None:
        """Read-only all the way to its mappings: decide cannot change what gather read."""
        object.__setattr__(self, "folders", tuple(self.folders))
        for name in _MAPPINGS:
            object.__setattr__(self, name, FrozenMap(getattr(self, name)))


_MAPPINGS = (
    "recipes", "recipe_errors", "file_warnings", "images", "pools", "other_folders",
    "relations", "pull_states", "variables",
)  # fmt: skip
