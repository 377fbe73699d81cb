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

Secrets never come from this file (only from inputs or the environment). The file is one
layer of the settings cascade (settings.py): over the defaults, under the environment and
explicit options or inputs. A key it does not know gets a "did you mean" at its line.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.urls import plain_http_build_args
from prefect_flow_deploy.core.yaml_limits import (
    YamlTooLarge,
    check_duplicate_keys,
    check_expansion,
    check_file_size,
    yaml_error,
)
from prefect_flow_deploy.settings.options import SECRET_NAME, SETTINGS, Given, Layer, combine

SECRET_KEYS = {
    "prefect-api-key", "registry-password", "registry-username", "github-token", "build-secrets",
    "builder-tls-ca", "builder-tls-cert", "builder-tls-key",
}  # fmt: skip
# file key → Options attribute, for the settings the file may give
FILE_KEYS = {setting.key: name for name, setting in SETTINGS.items() if setting.file}
SECTIONS = ("defaults", "tenants")


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _error(path: Path, node: yaml.Node | None, message: str) -> ConfigurationError:
    line = f":{node.start_mark.line + 1}" if node is not None else ""
    return ConfigurationError(f"{path}{line}: {message}")


def _mapping(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value}


def did_you_mean(word: str, known: list[str]) -> str:
    """` Did you mean `x`?` for the closest known word (difflib, as cibuildwheel does), or ""."""
    match = difflib.get_close_matches(word, known, 1, 0.6)
    return f" Did you mean `{match[0]}`?" if match else ""


def _blocks(
    path: Path,
) -> tuple[yaml.MappingNode | None, dict[str, tuple[yaml.Node, yaml.Node]]]:
    """The file's root mapping (None: an empty file) and its sections, checked."""
    text = ""
    try:
        check_file_size(path)
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        check_expansion(root, text)
        check_duplicate_keys(root)
    except YamlTooLarge as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ConfigurationError(f"{path}{where}: {exc.message}") from exc
    except yaml.MarkedYAMLError as exc:
        message, line = yaml_error(exc, text)
        where = f":{line}" if line else ""
        raise ConfigurationError(f"{path}{where}: {message}") from exc
    if root is None:
        return None, {}
    if not isinstance(root, yaml.MappingNode):
        raise _error(
            path,
            root,
            "the config file must be a mapping with `tenants:` (and optionally `defaults:`)",
        )
    top = _mapping(root)
    for key, (key_node, _) in top.items():
        if key not in SECTIONS:
            raise _error(
                path,
                key_node,
                f"unknown section `{key}`: expected `defaults:` or `tenants:`."
                + did_you_mean(key, list(SECTIONS)),
            )
    if "tenants" in top and not isinstance(top["tenants"][1], yaml.MappingNode):
        raise _error(path, top["tenants"][1], "`tenants:` must map tenant names to their settings")
    return root, top


def _selected(path: Path, tenant: str | None) -> list[tuple[str, yaml.Node]]:
    """The blocks that apply, in order: `defaults:`, then the tenant's."""
    root, top = _blocks(path)
    if root is None:
        return []  # an empty file: the tenant is just a name
    blocks = [("defaults", top["defaults"][1])] if "defaults" in top else []
    tenants = _mapping(top["tenants"][1]) if "tenants" in top else {}
    if tenant:
        if tenant not in tenants:
            known = ", ".join(sorted(tenants)) or "none"
            node = top["tenants"][0] if "tenants" in top else root
            raise _error(
                path,
                node,
                f"tenant {tenant!r} is not defined here (tenants: {known})."
                + did_you_mean(tenant, sorted(tenants))
                + " Add it under `tenants:` or fix the tenant input.",
            )
        blocks.append((f"tenant {tenant}", tenants[tenant][1]))
    return blocks


def _attribute(path: Path, key: str, key_node: yaml.Node) -> str:
    """The Options attribute a key of a block sets; an error at its line otherwise."""
    if key in SECRET_KEYS:
        raise _error(
            path,
            key_node,
            f"`{key}` is a secret and is never read from this file: pass it as an action input from `secrets.…` or as an environment variable.",
        )
    if key in FILE_KEYS:
        return FILE_KEYS[key]
    if any(setting.key == key for setting in SETTINGS.values()):
        raise _error(
            path,
            key_node,
            f"`{key}` is not read from this file: give it as the action input `{key}` or "
            f"the option `--{key}`.",
        )
    raise _error(
        path,
        key_node,
        f"unknown setting `{key}`.{did_you_mean(key, sorted(FILE_KEYS))} "
        f"Known settings: {', '.join(sorted(FILE_KEYS))}",
    )


def _value(path: Path, name: str, node: yaml.Node) -> Any:
    """A block's value in the type its option has."""
    value: Any = yaml.safe_load(yaml.serialize(node))
    setting = SETTINGS[name]
    if not any(_is_kind(value, kind) for kind in setting.file):
        raise _error(path, node, f"`{setting.key}` must be {setting.expected}")
    if name == "projects_root":
        return path.parent / value  # beside the file, not the working directory
    if name == "extra_tags":
        return tuple(dict.fromkeys(map(str, value)))
    if name == "build_args":
        return {str(k): str(v) for k, v in value.items()}
    return value


def config_layer(path: Path, tenant: str | None, required: bool = False) -> Layer:
    """What the file gives the tenant: its `defaults:` block, then the tenant's block (tags
    add up, mappings merge). A file that is absent gives nothing, unless `required`."""
    if not path.is_file():
        if required:
            raise ConfigurationError(f"config file {path} does not exist")
        return {}
    layer: Layer = {}
    build_args_line = None
    for label, block in _selected(path, tenant):
        if not isinstance(block, yaml.MappingNode):
            raise _error(path, block, "tenant settings must be a mapping")
        for key, (key_node, value_node) in _mapping(block).items():
            name = _attribute(path, key, key_node)
            line = key_node.start_mark.line + 1
            given = Given(_value(path, name, value_node), f"{path.name}:{line} ({label})")
            layer[name] = combine(name, layer.get(name), given)
            build_args_line = line if name == "build_args" else build_args_line
    if "build_args" in layer:
        warn_secret_build_args(layer["build_args"].value, path, build_args_line)
        for name, advice in plain_http_build_args(layer["build_args"].value).items():
            log.warning(
                f"build arg `{name}` is a plain-http package index: {advice}",
                file=path,
                line=build_args_line,
                title="Plain-http package index",
            )
    return layer


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
