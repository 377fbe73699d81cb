"""The YAML loader of prefect.yaml and the config file: the safe one (libyaml's when the wheel
has it, about 10x faster), with an unquoted date or time (`day: 2024-01-01`, `anchor_date:
2024-01-01T07:00:00`) read as the text Prefect sends for it: pydantic's JSON form, as `prefect
deploy` writes a parameter (`2024-01-01T07:00:00`, `...Z` in UTC), which its schedules read
as they read the quoted text. As a date object it failed the schedule and crashed the plan's
JSON (2026-12-05, found comparing real prefect.yaml files with `prefect deploy`)."""

from __future__ import annotations

from typing import Any

import yaml

_SAFE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_SAFE):  # type: ignore[valid-type, misc]
    """yaml.load(text, Loader=Loader), or Loader(text) for the node tree."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    from pydantic_core import to_jsonable_python  # Prefect's pydantic: only for a timestamp

    return to_jsonable_python(loader.construct_yaml_timestamp(node))


Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load(text: str) -> Any:
    return yaml.load(text, Loader=Loader)  # the safe loader, one constructor more
