"""The optional config file (`prefect-flow-deploy.yaml` at the repository root): settings
per tenant, selected by the `tenant` input.

    defaults:                 # every tenant starts from these
      registry: ghcr.io/acme/flows
    tenants:
      prod:
        prefect-api-url: https://api.prefect.cloud/api/accounts/…/workspaces/…
        work-pool: prod-docker
        tags: [prod]
        schedules-active: true
      dev:
        schedules-active: false
        parameters: {"*": {env: dev}}
        job-variables: {env: {LOG_LEVEL: DEBUG}}

Secrets never come from this file (only from inputs or the environment). A setting from the
file applies where the option was left at its default; an explicit option or input wins.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigurationError
from .logger import log
from .options import SECRET_NAME, Options
from .prefect_yaml import yaml_error

SECRET_KEYS = {"prefect-api-key", "registry-password", "github-token", "registry-username"}
# file key → (Options attribute, expected type, description)
KEYS: dict[str, tuple[str, type | tuple[type, ...], str]] = {
    "prefect-api-url": ("prefect_api_url", str, "a URL"),
    "work-pool": ("work_pool", str, "a work pool name"),
    "work-pool-type": ("work_pool_type", str, "a worker type such as docker or kubernetes"),
    "platforms": ("platforms", str, "comma-separated platforms, e.g. linux/amd64,linux/arm64"),
    "registry": ("registry", str, "an image prefix such as ghcr.io/acme/flows"),
    "base-image": ("base_image", str, "an image reference"),
    "projects-root": ("projects_root", str, "a folder path"),
    "max-parallel": ("max_parallel", int, "a number"),
    "tags": ("extra_tags", list, "a list of tags"),
    "schedules-active": ("schedules_active", bool, "true or false"),
    "parameters": ("parameters", dict, "a mapping of flow name (or '*') to parameters"),
    "job-variables": ("job_variables", dict, "a mapping of job variables"),
    "build-args": ("build_args", dict, "a mapping of build argument names to values"),
}


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _error(path: Path, node: yaml.Node | None, message: str) -> ConfigurationError:
    line = f":{node.start_mark.line + 1}" if node is not None else ""
    return ConfigurationError(f"{path}{line}: {message}")


def _mapping(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value}


def load_tenant(path: Path, tenant: str | None) -> tuple[dict[str, Any], dict[str, int]]:
    """The merged settings for a tenant (defaults, then the tenant's block), and their lines."""
    text = ""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        message, line = yaml_error(exc, text)
        where = f":{line}" if line else ""
        raise ConfigurationError(f"{path}{where}: {message}") from exc
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode):
        raise _error(
            path,
            root,
            "the config file must be a mapping with `tenants:` (and optionally `defaults:`)",
        )
    top = _mapping(root)
    for key, (key_node, _) in top.items():
        if key not in ("defaults", "tenants"):
            raise _error(
                path, key_node, f"unknown section `{key}`: expected `defaults:` or `tenants:`"
            )
    settings: dict[str, Any] = {}
    lines: dict[str, int] = {}
    blocks = [top["defaults"][1]] if "defaults" in top else []
    tenants = _mapping(top["tenants"][1]) if "tenants" in top else {}
    if "tenants" in top and not isinstance(top["tenants"][1], yaml.MappingNode):
        raise _error(path, top["tenants"][1], "`tenants:` must map tenant names to their settings")
    if tenant:
        if tenant not in tenants:
            known = ", ".join(sorted(tenants)) or "none"
            node = top["tenants"][0] if "tenants" in top else root
            raise _error(
                path,
                node,
                f"tenant {tenant!r} is not defined here (tenants: {known}). Add it under `tenants:` or fix the tenant input.",
            )
        blocks.append(tenants[tenant][1])
    for block in blocks:
        if not isinstance(block, yaml.MappingNode):
            raise _error(path, block, "tenant settings must be a mapping")
        for key, (key_node, value_node) in _mapping(block).items():
            if key in SECRET_KEYS:
                raise _error(
                    path,
                    key_node,
                    f"`{key}` is a secret and is never read from this file: pass it as an action input from `secrets.…` or as an environment variable.",
                )
            if key not in KEYS:
                raise _error(
                    path,
                    key_node,
                    f"unknown setting `{key}`; known settings: {', '.join(sorted(KEYS))}",
                )
            value: Any = yaml.safe_load(yaml.serialize(value_node))
            _, kind, expected = KEYS[key]
            if not _is_kind(value, kind):
                raise _error(path, value_node, f"`{key}` must be {expected}")
            previous = settings.get(key)
            if isinstance(previous, list):  # defaults and tenant add up
                value = [*previous, *value]
            elif isinstance(previous, dict):
                value = {**previous, **value}
            settings[key] = value
            lines[key] = key_node.start_mark.line + 1
    return settings, lines


# A URL with a user (and maybe a password) in it: pip's `https://user:token@index/simple`.
_URL_USERINFO = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s]+@")


def secret_looking_build_args(build_args: dict[str, str]) -> dict[str, str]:
    """Build args that look like credentials, with why. Build args are stored in the image's
    history and config, and pushed with it: a credential belongs in a build secret."""
    found = {}
    for name, value in build_args.items():
        if SECRET_NAME.search(name):
            found[name] = "its name says it holds a credential"
        elif _URL_USERINFO.search(value):
            found[name] = "its value is a URL with a login in it"
    return found


def warn_secret_build_args(build_args: dict[str, str], path: Path, line: int | None) -> None:
    """Mask such values before anything prints them, and say what to use instead."""
    for name, why in secret_looking_build_args(build_args).items():
        log.mask(build_args[name])
        log.warning(
            f"build arg `{name}` looks like a secret ({why}): build args are kept in the "
            "image's history and config, pushed with it. Its value is masked in this log; "
            "pass it with `build-secrets` (`--build-secret ID=VALUE`) and read it with "
            "`RUN --mount=type=secret,id=ID` instead (README: Private package indexes and "
            "other build secrets).",
            file=path,
            line=line,
            title="Secret in build-args",
        )


def apply_config(options: Options, path: Path | None, required: bool = False) -> Options:
    """Fill options still at their defaults from the tenant's block of the config file."""
    if path is None:
        return options
    if not path.is_file():
        if required:
            raise ConfigurationError(f"config file {path} does not exist")
        return options
    settings, lines = load_tenant(path, options.tenant)
    defaults = {f.name: f.default for f in fields(Options)}
    updates: dict[str, Any] = {}
    for key, value in settings.items():
        attr = KEYS[key][0]
        current = getattr(options, attr)
        if attr in ("extra_tags",):
            updates[attr] = tuple(dict.fromkeys([*current, *map(str, value)]))
        elif attr in ("parameters", "job_variables", "build_args"):
            updates[attr] = {**value, **current}
        elif attr == "projects_root":
            if current == defaults[attr]:
                updates[attr] = path.parent / value
        elif current in (None, "") or current == defaults.get(attr):
            updates[attr] = value
    if "build_args" in updates:
        updates["build_args"] = {str(k): str(v) for k, v in updates["build_args"].items()}
        warn_secret_build_args(updates["build_args"], path, lines.get("build-args"))
    return replace(options, **updates)
