"""Keys of a prefect.yaml entry left empty where Prefect's model wants a mapping
(yaml_nulls.py), read as `read_prefect_yaml` reads the file, with Prefect's own prefect.yaml
model (`PrefectYamlModel`, what `prefect deploy` validates the file with) as the oracle."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel

from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml
from prefect_flow_deploy.reading.yaml_nulls import NULL_MAPPING

from .test_prefect_yaml import write

# Each key of an entry that may be left empty, as YAML (`key:` with nothing after it).
EMPTY = {
    "parameters": "    parameters:\n",
    "tags": "    tags:\n",
    "description": "    description:\n",
    "version": "    version:\n",
    "schedules": "    schedules:\n",
    "schedules[0].parameters": "    schedules:\n      - cron: '0 6 * * *'\n        parameters:\n",
    "schedule.parameters": "    schedule:\n      cron: '0 6 * * *'\n      parameters:\n",
    "work_pool": "    work_pool:\n",
    "work_pool.job_variables": "    work_pool:\n      name: p\n      job_variables:\n",
    "work_pool.work_queue_name": "    work_pool:\n      name: p\n      work_queue_name:\n",
    "triggers": "    triggers:\n",
    "pull": "    pull:\n",
    "concurrency_limit": "    concurrency_limit:\n",
    "enforce_parameter_schema": "    enforce_parameter_schema:\n",
    "paused": "    paused:\n",
}
HEAD = "deployments:\n  - name: d\n    entrypoint: f.py:f\n"


def _prefect_refuses(text: str) -> bool:
    try:
        PrefectYamlModel.model_validate(yaml.safe_load(text))
    except pydantic.ValidationError:
        return True
    return False


@pytest.mark.parametrize("key", EMPTY)
def test_an_empty_key_is_said_exactly_when_prefect_deploy_refuses_it(
    tmp_path: Path, key: str
) -> None:
    """CBIIT/Prefect_demo (trial round 11 a 2): `parameters:` with nothing under it was read
    as `{}` without a word; `prefect deploy --all` refused the entry ("Invalid fields in
    deployments: … parameters"). A warning at its line, for each key Prefect's model refuses
    empty, and for no other."""
    text = HEAD + EMPTY[key]
    path = write(tmp_path, text)
    configs, problems = read_prefect_yaml(path)
    said = [p for p in problems if p.title == NULL_MAPPING]
    assert bool(said) == _prefect_refuses(text)
    if said:
        [problem] = said
        assert problem.severity == "warning" and configs  # still deployed, as `{}`
        assert problem.line == text.count("\n")  # the empty key's own line
        assert problem.message.startswith(f"`{key}` is empty (null)")


def test_the_keys_said_are_the_ones_prefect_s_model_wants_as_a_mapping() -> None:
    """The oracle itself: the keys above that Prefect refuses empty are exactly the four
    yaml_nulls.py names, so a Prefect that changes its model fails this test."""
    refused = {key for key, text in EMPTY.items() if _prefect_refuses(HEAD + text)}
    assert refused == {
        "parameters", "schedules[0].parameters", "schedule.parameters", "work_pool.job_variables"
    }  # fmt: skip
