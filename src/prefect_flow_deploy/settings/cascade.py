"""One settings cascade: every source of configuration resolved into one `Options`, in one
order, keeping where each value came from (the model: cibuildwheel's options.py).

Later wins: the defaults (`Options`' fields) → the config file (its `defaults:` block, then
the tenant's) → the environment (PFD_*, PREFECT_API_URL/KEY, GITHUB_REPOSITORY) → explicit
command-line options or action inputs. Unset is None, or empty (an action input left empty,
an empty variable): an explicit value equal to a default still wins over the file. The CLI
and the action both resolve through `resolve_options`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.urls import mask_credentials
from prefect_flow_deploy.settings.config_file import config_layer, secret_looking_build_args
from prefect_flow_deploy.settings.options import (
    DEFAULT_CONFIG_FILE,
    SECRET_NAME,
    SETTINGS,
    Given,
    Layer,
    Options,
    combine,
    parse_build_secrets,
)
from prefect_flow_deploy.settings.repository import normalise_repository, origin_repository


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    required: bool = False  # named explicitly: it must exist


def repository_root(start: Path) -> Path:
    """The repository a command runs in: the nearest folder from `start` up that holds
    `.git` (git's top level; no git needed, the action's image has none), else `start`."""
    resolved = start.resolve()
    return next((p for p in (resolved, *resolved.parents) if (p / ".git").exists()), resolved)


def config_line(source: str, projects_root: Path) -> tuple[Path | None, int | None]:
    """The config file and line a setting came from, from its source as the cascade records
    it (`prefect-flow-deploy.yaml:7 (tenant prod)`): the file named so at the repository
    root (where the CLI, the action and the hook look for it: config_file), beside the
    projects root or in the working directory. Read by gather (rules get the answer)."""
    match = re.match(r"^(?P<name>[^:]+):(?P<line>\d+) \(", source)
    if not match:
        return None, None
    for folder in (repository_root(Path.cwd()), projects_root.parent, Path.cwd()):
        if (folder / match["name"]).is_file():
            return folder / match["name"], int(match["line"])
    return None, int(match["line"])


def config_file(given: Path | None, start: Path) -> ConfigFile:
    """The one config lookup of the CLI, the action and the pre-commit hook: the file given
    (`--config`, the `config` input), which must exist; else `prefect-flow-deploy.yaml` at
    the repository root (`repository_root(start)`: `start` is the working directory, or the
    action's workspace), if it is there."""
    if given is not None:
        return ConfigFile(given, required=True)
    return ConfigFile(repository_root(start) / DEFAULT_CONFIG_FILE)


def unset(value: object) -> bool:
    """None, or empty: "", blanks, an empty mapping or list."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, dict | list | tuple) and not value)


def explicit_layer(values: Mapping[str, object], label: Callable[[str], str]) -> Layer:
    """Options or inputs the user gave (`label` names where: "--work-pool", "input work-pool")."""
    return {name: Given(value, label(name)) for name, value in values.items() if not unset(value)}


def environment_layer(env: Mapping[str, str]) -> Layer:
    """The variables that set an option (SETTINGS' `env`); an empty one sets nothing."""
    layer: Layer = {}
    for name, setting in SETTINGS.items():
        value = env.get(setting.env) if setting.env else None
        if value is None or unset(value):
            continue
        if name == "build_secrets":
            layer[name] = Given(
                parse_build_secrets(value.splitlines(), setting.env or name),
                f"environment {setting.env}",
            )
        else:
            layer[name] = Given(value, f"environment {setting.env}")
    return layer


def resolve_options(
    explicit: Layer,
    env: Mapping[str, str] | None = None,
    config: ConfigFile | None = None,
    root: Path = Path(),
    finish: Callable[[Options], Options] | None = None,
) -> Options:
    """The cascade, checked. `root`: what a relative projects root (default or explicit) is
    relative to; one from the config file is relative to the file. `finish`: the caller's
    last word before the check (the action's ghcr.io login and required inputs)."""
    env = os.environ if env is None else env
    tenant = explicit["tenant"].value if "tenant" in explicit else None
    if "projects_root" in explicit:
        given = explicit["projects_root"]
        explicit = {**explicit, "projects_root": Given(root / given.value, given.source)}
    layers = [
        config_layer(config.path, tenant, config.required) if config else {},
        environment_layer(env),
        explicit,
    ]
    resolved: Layer = {}
    for layer in layers:
        for name, given in layer.items():
            resolved[name] = combine(name, resolved.get(name), given)
    values = {name: given.value for name, given in resolved.items()}
    values.setdefault("projects_root", root / Options.projects_root)
    sources = {name: given.source for name, given in resolved.items()}
    options = _with_repository(Options(**values, sources=sources))
    mask_credentials(options.prefect_api_url)  # a login in the URL (url_credentials.py)
    for name, setting in SETTINGS.items():
        if setting.secret:
            _mask(getattr(options, name))
    if options.mask_build_args:
        _mask(options.build_args)  # all of them, by choice (the credential-like ones already)
    options = (finish(options) if finish else options).validate()
    log.debug(describe(options))
    return options


def with_given(options: Options, **given: Given) -> Options:
    """`options` with some values replaced, and where they came from."""
    return replace(
        options,
        **{name: g.value for name, g in given.items()},
        sources={**options.sources, **{name: g.source for name, g in given.items()}},
    )


def _with_repository(options: Options) -> Options:
    """Given (--repository, GITHUB_REPOSITORY), or else the checkout's git remote."""
    if options.repository:
        return replace(options, repository=normalise_repository(options.repository))
    root = options.projects_root
    found = origin_repository(root if root.is_dir() else root.parent)  # may be missing
    return with_given(options, repository=Given(found, "git remote origin")) if found else options


def _mask(value: object) -> None:
    for secret in value.values() if isinstance(value, dict) else [value]:
        log.mask(secret if isinstance(secret, str) else None)


# -- the verbose print ----------------------------------------------------------------------


def describe(options: Options) -> str:
    """The resolved options and where each came from, one a line; a secret's value is never
    shown (`***`), nor a build arg, parameter or job variable whose name says it is one."""
    width = max(len(setting.key) for setting in SETTINGS.values())
    lines = ["options (later wins: default < config file < environment < option or input):"]
    for name, setting in SETTINGS.items():
        value = getattr(options, name)
        masked = setting.secret or (name == "build_args" and options.mask_build_args)
        shown = _hidden(value) if masked else _visible(name, value)
        lines.append(f"  {setting.key:<{width}}  {shown}  [{options.source(name)}]")
    return "\n".join(lines)


def _hidden(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(dict.fromkeys(value, "***"))
    return "-" if unset(value) else "***"


def _visible(name: str, value: object) -> str:
    if name == "build_args" and isinstance(value, dict):
        secret = secret_looking_build_args(value)
        value = {k: "***" if k in secret else v for k, v in value.items()}
    if value is None:
        return "-"
    if isinstance(value, dict | tuple):
        return json.dumps(_masked_keys(value), default=str)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if str(value) else '""'


def _masked_keys(value: Any) -> Any:
    """Values under a key named like a credential (SECRET_NAME), at any depth, as `***`."""
    if isinstance(value, dict):
        return {
            k: "***" if SECRET_NAME.search(str(k)) else _masked_keys(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_masked_keys(v) for v in value]
    return value
