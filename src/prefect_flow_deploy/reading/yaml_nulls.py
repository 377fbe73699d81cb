"""Keys of a prefect.yaml entry left empty (`parameters:` with nothing under it, YAML's null)
where Prefect's prefect.yaml model wants a mapping: read here as an empty one, but `prefect
deploy` refuses the entry for it ("Invalid fields in deployments: … parameters"), so the
file deploys with one tool and not the other (CBIIT/Prefect_demo, trial round 11 a 2).

The keys are those of `prefect.cli.deploy._models` typed `Dict[str, Any]` without `Optional`
(DeploymentConfig.parameters, WorkPoolConfig.job_variables, RawScheduleConfig.parameters);
tests/unit/reading/test_yaml_nulls.py holds the list to that model."""

from __future__ import annotations

from pathlib import Path

import yaml

from prefect_flow_deploy.core.model import Problem

NULL_MAPPING = "Empty mapping in prefect.yaml"
_NULL_TAG = "tag:yaml.org,2002:null"


def null_mappings(node: yaml.Node | None, path: Path) -> list[Problem]:
    """A warning at each such key."""
    found = [("parameters", _child(node, "parameters"))]
    found.append(("work_pool.job_variables", _child(_child(node, "work_pool"), "job_variables")))
    found.append(("schedule.parameters", _child(_child(node, "schedule"), "parameters")))
    schedules = _child(node, "schedules")
    items = schedules.value if isinstance(schedules, yaml.SequenceNode) else []
    found += [(f"schedules[{i}].parameters", _child(s, "parameters")) for i, s in enumerate(items)]
    return [
        Problem(
            "warning",
            f"`{key}` is empty (null): read as an empty mapping here, but `prefect deploy` "
            f'refuses this entry for it ("Invalid fields in deployments"). Write '
            f"`{key.rpartition('.')[2]}: {{}}` or remove the key.",
            path,
            value.start_mark.line + 1,
            NULL_MAPPING,
        )
        for key, value in found
        if isinstance(value, yaml.ScalarNode) and value.tag == _NULL_TAG
    ]


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if k.value == key), None)
