"""Templates in a prefect.yaml entry (yaml_templates.py), read as `read_prefect_yaml` reads
the file: each said at its own line; the worker's own (blocks and variables in job
variables) kept; an environment template in the work pool an error, with the worker's own
merge (BaseJobConfiguration.from_template_and_values) as the oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml

from .test_prefect_yaml import write


def test_templates_are_not_resolved_and_say_so(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    parameters:\n      url: '{{ $API_URL }}'\n",
    )
    [config], [problem] = read_prefect_yaml(path)
    assert problem.severity == "warning" and problem.line == 4  # the value's own line
    assert "the template `{{ $API_URL }}`" in problem.message
    assert config.parameters == {"url": "{{ $API_URL }}"}


def test_each_template_is_said_at_its_own_line(tmp_path: Path) -> None:
    """Brennan-Chesley-FLP/en_banc: of `{{ $TS_AUTHKEY }}` and `{{ flow_run.name }}` in one
    `env:`, only the first was said, at the `work_pool:` line; the second went to the
    deployment as its text without a word (`prefect deploy` warns too, and drops the key).
    The worker's own block reference and the image stay unsaid."""
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    work_pool:\n      name: p\n"
        "      job_variables:\n"
        "        image: '{{ build-image.image }}'\n"
        "        env:\n"
        "          TS_AUTHKEY: '{{ $TS_AUTHKEY }}'\n"
        "          TS_HOSTNAME: '{{ flow_run.name }}'\n"
        "          TOKEN: '{{ prefect.blocks.secret.t }}'\n"
        "        volumes: ['{{ $HOME }}:/data']\n"
        "    tags: [a, '{{ $TEAM }}']\n",
    )
    configs, problems = read_prefect_yaml(path)
    said = [
        (p.line, p.severity, p.message.split("`")[3]) for p in problems if "template" in p.message
    ]
    assert said == [
        (8, "error", "{{ $TS_AUTHKEY }}"), (9, "warning", "{{ flow_run.name }}"),
        (11, "error", "{{ $HOME }}"), (12, "warning", "{{ $TEAM }}"),
    ]  # fmt: skip
    assert configs == []  # an entry with an error is not deployed


def test_block_and_variable_references_in_job_variables_are_left_to_the_worker(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    work_pool:\n      name: p\n"
        "      job_variables:\n        env:\n"
        "          TOKEN: '{{ prefect.blocks.secret.api-token }}'\n"
        "          REGION: '{{ prefect.variables.region }}'\n",
    )
    [config], problems = read_prefect_yaml(path)
    assert problems == []
    assert config.job_variables["env"]["TOKEN"] == "{{ prefect.blocks.secret.api-token }}"


def test_an_environment_template_in_the_work_pool_is_an_error_the_worker_never_fills_it(
    tmp_path: Path,
) -> None:
    """ralacher/prefect-demo (trial round 10 b 6): `networks: ["{{ $PREFECT_DOCKER_NETWORK }}"]`
    was a warning, the deployment was created and every run crashed (`network {{ $… }} not
    found`): the worker fills in only blocks and variables (BaseJobConfiguration
    .from_template_and_values: resolve_block_document_references, resolve_variables)."""
    import asyncio

    from prefect.workers.base import BaseJobConfiguration

    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    work_pool:\n      name: p\n"
        "      job_variables:\n        networks: ['{{ $NET }}']\n",
    )
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and (problem.severity, problem.line) == ("error", 6)
    assert "every run would get the braces" in problem.message
    # The worker's own merge leaves it as written, the variable set or not: the braces reach
    # the infrastructure (no block or variable to resolve: the client is never asked).
    template = {
        "job_configuration": {"env": "{{ env }}", "command": "{{ command }}"},
        "variables": {"properties": {"env": {"type": "object"}, "command": {"type": "string"}}},
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NET", "bridge")
        made = BaseJobConfiguration.from_template_and_values(
            template,
            {"env": {"A": "{{ $NET }}"}},
            client=object(),  # type: ignore[arg-type]
        )
        assert asyncio.run(made).env == {"A": "{{ $NET }}"}


def test_a_variable_reference_outside_job_variables_is_not_resolved_and_says_so(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    work_pool:\n"
        "      name: '{{ prefect.variables.pool }}'\n",
    )
    _, [problem] = read_prefect_yaml(path)
    assert "the template `{{ prefect.variables.pool }}`" in problem.message


def test_a_block_in_parameters_says_prefect_deploy_would_write_its_data_in_clear(
    tmp_path: Path,
) -> None:
    """Trial round 9 a 1 (the part left): `{{ prefect.blocks.secret.x }}` in parameters,
    which `prefect deploy` resolves into the block's data (resolve_block_document_references
    on the whole entry, prefect/cli/deploy/_core.py), is kept as written here: the warning
    says why and what to do instead. In tags it is the plain warning."""
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    parameters:\n"
        "      token: '{{ prefect.blocks.secret.api-token }}'\n"
        "    tags: ['{{ prefect.blocks.string.team }}']\n",
    )
    [config], [in_parameters, in_tags] = read_prefect_yaml(path)
    assert '`Secret.load("<name>").get()`' in in_parameters.message
    assert in_parameters.line == 4
    assert "Secret.load" not in in_tags.message and in_tags.line == 5
    assert config.parameters == {"token": "{{ prefect.blocks.secret.api-token }}"}


def test_what_an_anchor_gives_several_entries_is_said_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "definitions:\n  pool: &pool\n    name: p\n    job_variables: {env: {B: '{{ $BRANCH }}'}}\n"
        "deployments:\n- {name: a, entrypoint: f.py:f, work_pool: *pool}\n"
        "- {name: b, entrypoint: f.py:f, work_pool: *pool}\n",
    )
    configs, problems = read_prefect_yaml(path)
    said = [(p.line, p.severity, "$BRANCH" in p.message) for p in problems]
    assert configs == [] and said == [(4, "error", True)]  # a job variable: an error (below)
