import uuid
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prefect.yaml"
    path.write_text(text)
    return path


def test_reads_deployment_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
deployments:
  - name: nightly
    entrypoint: flow.py:etl
    description: nightly load
    tags: [a, b]
    parameters: {day: mon}
    schedules:
      - cron: "0 6 * * *"
        timezone: Europe/Berlin
    work_pool:
      name: other-pool
      job_variables: {env: {X: "1"}}
    concurrency_limit: 2
    enforce_parameter_schema: false
    paused: true
""",
    )
    [config], problems = read_prefect_yaml(path)
    assert problems == []
    assert config.name == "nightly" and config.entrypoint == "flow.py:etl"
    assert config.tags == ("a", "b") and config.parameters == {"day": "mon"}
    assert config.schedules == ({"cron": "0 6 * * *", "timezone": "Europe/Berlin"},)
    assert config.work_pool == "other-pool" and config.job_variables == {"env": {"X": "1"}}
    assert (
        config.concurrency_limit == 2 and config.enforce_parameter_schema is False and config.paused
    )
    assert config.line == 3


def test_build_push_pull_sections_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "build:\n  - step: x\npull:\n  - step: y\ndeployments: []\n")
    configs, problems = read_prefect_yaml(path)
    assert configs == []
    assert [(p.severity, p.line) for p in problems] == [
        ("warning", 1), ("warning", 3), ("warning", 5)  # the last: it lists no deployment
    ]  # fmt: skip
    assert "ignored" in problems[0].message and "lists none" in problems[2].message


def test_a_deployment_s_own_build_push_pull_are_ignored_with_a_warning(tmp_path: Path) -> None:
    """`prefect deploy` runs an entry's own `build:`/`push:`/`pull:` instead of the file's
    (Prefect 3.9 prefect/cli/deploy/_models.py, DeploymentConfig: "per-deployment actions
    (optional overrides)"); this tool makes all three, so each is a warning at its key, as
    the file's are (CLDC-OU/ExampleMessagerFlow, lexyurk/prefect-modal-docker: a git_clone
    and pip install per deployment; before: dropped without a word)."""
    text = (
        "deployments:\n- name: hello\n  entrypoint: flow.py:hello\n  pull:\n"
        "  - prefect.deployments.steps.git_clone:\n      repository: https://x/y.git\n"
        "  build: []\n  push:\n  - step: x\n"
    )
    [config], problems = read_prefect_yaml(write(tmp_path, text))
    assert config.name == "hello"
    assert [(p.severity, p.line) for p in problems] == [("warning", 4), ("warning", 8)]
    assert problems[0].message.startswith("this deployment's `pull:` section is ignored")
    assert "`push:`" in problems[1].message  # an empty `build: []` runs nothing: no warning


def test_keys_read_elsewhere_or_not_here_say_what_to_do(tmp_path: Path) -> None:
    """`job_variables:` and `work_queue_name:` at an entry's top are read by neither tool
    (Prefect 3.9's DeploymentConfig has them under `work_pool:` only, extra keys ignored):
    said with where they belong (Artoss/labour_market_AU, EWECORP/PREFECT_DIARCO); a
    `version:` Prefect would register is said not to be used here, and why (9unn/dsi321_2025;
    before: dropped without a word)."""
    text = (
        "deployments:\n- name: hello\n  entrypoint: flow.py:hello\n  version: '1.0'\n"
        "  job_variables: {env: {A: '1'}}\n  work_queue_name: fast\n"
    )
    [config], problems = read_prefect_yaml(write(tmp_path, text))
    assert config.job_variables == {} and config.work_queue_name is None
    said = {p.line: p.message for p in problems}
    assert set(said) == {4, 5, 6} and all(p.severity == "warning" for p in problems)
    assert "version is its image's content tag" in said[4]
    assert all("move it under `work_pool:`" in said[line] for line in (5, 6))


def test_a_null_version_sets_nothing_and_is_not_warned(tmp_path: Path) -> None:
    """`version: null` is how `prefect deploy` saves an entry it wrote: it registers no
    version, so there is nothing to remove (CBIIT's 57 entries gave 57 warnings)."""
    text = (
        "deployments:\n- name: hello\n  entrypoint: flow.py:hello\n  version: null\n"
        "  job_variables:\n  work_queue_name: null\n"
    )
    [config], problems = read_prefect_yaml(write(tmp_path, text))
    assert problems == [] and config.name == "hello"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deployments:\n  - name: x\n    entrypoint: [unclosed\n")
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and problem.severity == "error"
    assert problem.file == path and problem.line == 4
    assert "invalid YAML" in problem.message


def test_wrong_types_name_the_key_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "deployments:\n  - name: x\n    entrypoint: f.py:f\n    parameters: [1, 2]\n"
    )
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and problem.line == 4 and "parameters" in problem.message


def test_bad_schedule_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "deployments:\n  - entrypoint: f.py:f\n    schedules:\n      - every: often\n"
    )
    configs, [problem] = read_prefect_yaml(path)
    assert configs == [] and problem.line == 3 and "schedule" in problem.message


def test_the_older_schedule_key_is_read_as_prefect_deploy_reads_it(tmp_path: Path) -> None:
    """prefect.cli.deploy._config._handle_deprecated_schedule_fields (Prefect 3.9.1): one
    mapping under `schedule` is a schedule; with `schedules` too it refuses both; a list under
    `schedule` it would drop, but PrefectYamlModel refuses it first (trial round 11 a 6):
    both errors at the `schedule:` line, before anything is built."""
    import yaml

    from prefect_flow_deploy.deployment.prefect_compat import handle_deprecated_schedule_fields

    _handle_deprecated_schedule_fields = handle_deprecated_schedule_fields()

    # Prefect's answer for the two entries refused below: the list is dropped, both refused.
    dropped = _handle_deprecated_schedule_fields({"schedule": [{"cron": "0 6 * * *"}]})
    assert "schedules" not in dropped
    with pytest.raises(ValueError, match="Please use only use `schedules`"):
        _handle_deprecated_schedule_fields(
            yaml.safe_load("{schedule: {cron: 0 5 * * *}, schedules: [{cron: 0 6 * * *}]}")
        )

    head = "deployments:\n  - entrypoint: f.py:f\n"
    [config], problems = read_prefect_yaml(
        write(tmp_path, head + "    schedule:\n      cron: 0 6 * * *\n")
    )
    assert config.schedules == ({"cron": "0 6 * * *"},) and problems == []
    for text, says in (
        ("    schedule:\n      - cron: 0 6 * * *\n", "Rename the key to `schedules`"),
        (
            "    schedule: {cron: 0 5 * * *}\n    schedules:\n      - cron: 0 6 * * *\n",
            "keep `schedules` (a list) and remove `schedule`",
        ),
    ):
        configs, [problem] = read_prefect_yaml(write(tmp_path, head + text))
        assert configs == [] and (problem.severity, problem.line) == ("error", 3)
        assert says in problem.message


def test_entry_without_entrypoint_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deployments:\n  - name: lonely\n")
    _, [problem] = read_prefect_yaml(path)
    assert "entrypoint" in problem.message and problem.line == 2


def test_an_image_job_variable_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deployments:\n  - entrypoint: f.py:f\n    work_pool:\n      name: p\n"
        "      job_variables: {image: '{{ build-image.image }}'}\n",
    )
    _, [problem] = read_prefect_yaml(path)
    assert problem.severity == "warning" and problem.line == 3
    assert "`job_variables.image` is ignored" in problem.message


def test_a_tab_in_the_indentation_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "deployments:\n\t- name: x\n")
    _, [problem] = read_prefect_yaml(path)
    assert problem.line == 2
    assert problem.message.startswith("invalid YAML: found ")
    assert problem.message.endswith("; YAML indents with spaces, and this line has a tab")


UNQUOTED = """
deployments:
  - name: nightly
    entrypoint: flow.py:etl
    parameters: {day: 2024-01-01, start: 2024-01-01T10:00:00, utc: 2024-01-01 10:00:00Z,
                 nested: {when: 2024-02-02}, text: "2024-03-03"}
    schedules:
      - interval: 3600
        anchor_date: 2024-01-01T07:00:00
        timezone: America/Sao_Paulo
"""


def test_unquoted_dates_are_read_as_the_text_prefect_sends(tmp_path: Path) -> None:
    """YAML makes `2024-01-01` a date. `prefect deploy` sends parameters as pydantic's JSON
    (the oracle: Prefect's own DeploymentCreate), and reads an unquoted anchor_date as the
    quoted one (seen 2026-12-05: both `2024-01-01T07:00:00Z`). A date object crashed the
    plan's JSON and failed the schedule."""
    import yaml
    from prefect.client.schemas.actions import DeploymentCreate
    from prefect.client.schemas.schedules import IntervalSchedule

    from prefect_flow_deploy.deployment.schedules import exact_schedules

    [config], problems = read_prefect_yaml(write(tmp_path, UNQUOTED))
    assert problems == []
    raw = yaml.safe_load(UNQUOTED)["deployments"][0]
    prefects = DeploymentCreate(name="n", flow_id=uuid.uuid4(), parameters=raw["parameters"])
    assert config.parameters == prefects.model_dump(mode="json")["parameters"]
    assert config.parameters["utc"] == "2024-01-01T10:00:00Z"
    schedule = {**raw["schedules"][0]}
    theirs = IntervalSchedule(**schedule).model_dump(mode="json", exclude_none=True)
    [entry] = exact_schedules(list(config.schedules or ()))
    assert entry["schedule"] == theirs


def test_a_deployment_written_at_the_top_without_deployments_is_an_error(tmp_path: Path) -> None:
    """Nehuenkend/SpaceX_Prefect (trial round 9 b 6): `name`, `entrypoint`, `schedules`,
    `parameters`, `tags` at the file's top: read as no entry, the folder's flow was deployed
    without its schedule, parameters and tags, unsaid (`prefect deploy` refuses the file)."""
    path = tmp_path / "prefect.yaml"
    path.write_text(
        "name: spacex\nentrypoint: flow.py:etl\nschedules:\n- cron: '0 8 * * *'\n"
        "parameters: {limit: 20}\n"
    )
    _, problems = read_prefect_yaml(path)
    [error] = [p for p in problems if p.severity == "error"]
    assert error.line == 2 and error.message.startswith(
        "`entrypoint`, `schedules`, `parameters` at the top of prefect.yaml belong to a deployment"
    )
    path.write_text("name: spacex\nprefect-version: 3.1.0\n")
    assert read_prefect_yaml(path)[1] == []


def test_a_pull_step_that_set_up_each_run_is_named_with_where_its_work_goes(
    tmp_path: Path,
) -> None:
    """CBIIT/ChildhoodCancerDataInitiative-cBioPortal-Workflows (trial round 10 a 9): a pull
    step `run_shell_script: apt-get install -y mariadb-client` was dropped with "Remove it to
    silence this warning", and every run crashed without mysqldump. The steps this tool does
    itself (git_clone, set_working_directory, pip_install_requirements) are not named."""
    path = write(
        tmp_path,
        "pull:\n- prefect.deployments.steps.git_clone: {repository: x}\n"
        "- prefect.deployments.steps.run_shell_script:\n    script: apt-get install -y\n"
        "      mariadb-client\n"
        "- prefect.deployments.steps.pip_install_requirements: {requirements_file: r.txt}\n"
        "deployments:\n- name: d\n  entrypoint: f.py:f\n"
        "  pull:\n  - prefect.deployments.steps.set_working_directory: {directory: /x}\n",
    )
    _, problems = read_prefect_yaml(path)
    top, entry = sorted(problems, key=lambda p: p.line or 0)
    assert "Its run_shell_script `apt-get install -y mariadb-client` ran at the start" in (
        top.message
    )
    assert "a `RUN` line of the folder's Dockerfile" in top.message
    assert "ran at the start" not in entry.message  # its one step is done by the build
