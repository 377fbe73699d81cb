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
explicit options or inputs. The file is one typed model (`config_model`, pydantic): every
mistake is reported at once, each at its line (a key it does not know with a "did you
mean"); its JSON Schema is `prefect-flow-deploy.schema.json` at the repository's root
(`scripts/config-schema.py` writes it), for editors:

    # yaml-language-server: $schema=https://raw.githubusercontent.com/acme/prefect-flow-deploy/v1/prefect-flow-deploy.schema.json
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from prefect_flow_deploy.core import yaml_loader
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


SCHEMA_URL = (
    "https://raw.githubusercontent.com/acme/prefect-flow-deploy/v1/prefect-flow-deploy.schema.json"
)


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


# -- the model: one typed description of the file, its JSON Schema published -----------------


@functools.cache
def config_model() -> type[Any]:
    """The file as a pydantic model (built from SETTINGS: a key per setting the file may
    give, typed as its option). Built on first use: a run without a config file does not
    import pydantic for it."""
    from pydantic import (
        ConfigDict,
        Field,
        StrictBool,
        StrictFloat,
        StrictInt,
        StrictStr,
        create_model,
    )

    kinds: dict[type, Any] = {
        str: StrictStr, bool: StrictBool, int: StrictInt, float: StrictFloat,
        list: list[Any], dict: dict[Any, Any],
    }  # fmt: skip
    fields: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        if not setting.file:
            continue
        members = [kinds[kind] for kind in setting.file]
        kind = members[0] if len(members) == 1 else functools.reduce(lambda a, b: a | b, members)
        description = f"{setting.expected}." if setting.expected else None
        fields[name] = (kind, Field(None, alias=setting.key, description=description))
    strict = ConfigDict(extra="forbid", populate_by_name=False)
    block = create_model(
        "Settings", __config__=strict, __doc__="A tenant's settings (or `defaults:`).", **fields
    )
    return create_model(
        "PrefectFlowDeployConfig",
        __config__=strict,
        __doc__="prefect-flow-deploy's config file: `defaults:` for every tenant, then each "
        "tenant's block, selected by the `tenant` input. Secrets are never read from it.",
        defaults=(block, Field(None, description="Settings every tenant starts from.")),
        tenants=(
            dict[str, block],  # type: ignore[valid-type]
            Field(default_factory=dict, description="Each tenant's settings, by its name."),
        ),
    )


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the file (`prefect-flow-deploy.schema.json`, for editors)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        **config_model().model_json_schema(by_alias=True),
    }
    schema["title"] = "prefect-flow-deploy.yaml"
    cleaned: dict[str, Any] = _without_null_defaults(schema)
    return cleaned


def _without_null_defaults(value: Any) -> Any:
    """The schema without `"default": null` (an absent key is unset; null is no value) and
    without `"additionalProperties": true` (JSON Schema's default, which pydantic 2.11 and
    later write and 2.10 does not: the published file is the same whichever one runs)."""
    if isinstance(value, dict):
        return {
            k: _without_null_defaults(v)
            for k, v in value.items()
            if not (k == "default" and v is None)
            and not (k == "additionalProperties" and v is True)
        }
    return value


def _problems(path: Path, root: yaml.MappingNode, data: dict[str, Any]) -> list[str]:
    """Every error of the file, each at its line, from one validation of the model."""
    from pydantic import ValidationError

    try:
        config_model().model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    else:
        return []
    found: dict[tuple[Any, ...], tuple[int, str]] = {}  # by the key it is about: one each
    for error in errors:
        loc = tuple(error["loc"])
        at = loc[:2] if loc[0] == "defaults" else loc[:3]
        if at in found:
            continue
        found[at] = _problem(path, root, at, error["type"])
    return [message for _, message in sorted(found.values())]


def _problem(
    path: Path, root: yaml.MappingNode, loc: tuple[Any, ...], kind: str
) -> tuple[int, str]:
    """The line and message of one error of the model at `loc` (section, [tenant], key)."""
    key_node, value_node = _node(root, loc)
    extra = kind == "extra_forbidden"
    where = key_node if extra else value_node
    number = where.start_mark.line + 1 if where is not None else 0
    line = f":{number}" if number else ""
    if len(loc) == 1:  # a section
        if extra:
            message = f"unknown section `{loc[0]}`: expected `defaults:` or `tenants:`." + (
                did_you_mean(str(loc[0]), list(SECTIONS))
            )
        elif loc[0] == "tenants":
            message = "`tenants:` must map tenant names to their settings"
        else:
            message = "tenant settings must be a mapping"
    elif loc[0] == "tenants" and len(loc) == 2:
        message = "tenant settings must be a mapping"
    elif extra:
        message = _unknown_key(str(loc[-1]))
    else:
        key = str(loc[-1])
        message = f"`{key}` must be {SETTINGS[FILE_KEYS[key]].expected}"
    return number, f"{path}{line}: {message}"


def _node(root: yaml.MappingNode, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node]:
    """The key and value nodes of the YAML at `loc` (the model's error location)."""
    key: yaml.Node | None = None
    node: yaml.Node = root
    for part in loc:
        pairs = _mapping(node)
        if str(part) not in pairs:
            break
        key, node = pairs[str(part)]
    return key, node


def _unknown_key(key: str) -> str:
    if key in SECRET_KEYS:
        return (
            f"`{key}` is a secret and is never read from this file: pass it as an action "
            "input from `secrets.…` or as an environment variable."
        )
    if any(setting.key == key for setting in SETTINGS.values()):
        return (
            f"`{key}` is not read from this file: give it as the action input `{key}` or "
            f"the option `--{key}`."
        )
    return (
        f"unknown setting `{key}`.{did_you_mean(key, sorted(FILE_KEYS))} "
        f"Known settings: {', '.join(sorted(FILE_KEYS))}"
    )


# -- reading ----------------------------------------------------------------------------------


def _blocks(
    path: Path,
) -> tuple[yaml.MappingNode | None, dict[str, tuple[yaml.Node, yaml.Node]]]:
    """The file's root mapping (None: an empty file) and its sections, checked: every
    mistake of the file is said at once, each at its line."""
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
    data = yaml_loader.load(yaml.serialize(root))
    if isinstance(data.get("tenants"), dict):  # a tenant is named by text (`1:` too)
        data["tenants"] = {str(name): block for name, block in data["tenants"].items()}
    problems = _problems(path, root, data)
    if problems:
        raise ConfigurationError("\n".join(problems))
    return root, _mapping(root)


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


def _value(path: Path, name: str, node: yaml.Node) -> Any:
    """A block's value (the model checked its type) as its option takes it."""
    value: Any = yaml_loader.load(yaml.serialize(node))
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
        for key, (key_node, value_node) in _mapping(block).items():
            name = FILE_KEYS[key]
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
