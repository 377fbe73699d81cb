"""The settings cascade (settings.py): defaults → config file → environment → explicit options
or action inputs, later wins; unset is None or empty, never "equal to the default"."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import typer.main
import yaml

from prefect_flow_deploy import cli
from prefect_flow_deploy.action import options_from_inputs
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.settings.cascade import (
    ConfigFile,
    describe,
    explicit_layer,
    resolve_options,
)
from prefect_flow_deploy.settings.options import SETTINGS, Given, Options
from tests.unit.test_action import set_inputs

ROOT = Path(__file__).resolve().parents[3]

CONFIG = """\
defaults:
  work-pool: from-defaults
  tags: [all]
tenants:
  prod:
    prefect-api-url: http://from-file/api
    work-pool: from-file
    max-parallel: 7
    base-image: file/base:1
    tags: [prod]
"""
ENV_VARIABLES = ("PREFECT_API_URL", "PREFECT_API_KEY", "PFD_REGISTRY_USERNAME",
                 "PFD_REGISTRY_PASSWORD", "PFD_BUILD_SECRETS", "GITHUB_REPOSITORY",
                 "PFD_VERBOSE", "RUNNER_DEBUG")  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with projects/ and the config file; no setting in the environment."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "prefect-flow-deploy.yaml").write_text(CONFIG)
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(log, "_secrets", [])
    return tmp_path


def resolve(repo: Path, env: dict[str, str] | None = None, **explicit: object) -> Options:
    """Tenant prod, with these options given (as --key) and this environment."""
    given = explicit_layer({"tenant": "prod", **explicit}, lambda name: f"--{SETTINGS[name].key}")
    return resolve_options(given, env or {}, ConfigFile(repo / "prefect-flow-deploy.yaml"), repo)


def test_the_table_names_every_option() -> None:
    fields = [f.name for f in dataclasses.fields(Options) if f.name != "sources"]
    assert sorted(SETTINGS) == sorted(fields)
    keys = [s.key for s in SETTINGS.values()]
    assert len(set(keys)) == len(keys)


def test_each_layer_beats_the_one_before(repo: Path) -> None:
    url = "prefect_api_url"
    assert resolve_options({}, {}, None, repo).source(url) == "default"
    from_file = resolve(repo)
    assert from_file.prefect_api_url == "http://from-file/api"
    assert from_file.source(url) == "prefect-flow-deploy.yaml:6 (tenant prod)"
    from_env = resolve(repo, {"PREFECT_API_URL": "http://from-env/api"})
    assert from_env.prefect_api_url == "http://from-env/api"
    assert from_env.source(url) == "environment PREFECT_API_URL"
    explicit = resolve(
        repo, {"PREFECT_API_URL": "http://from-env/api"}, prefect_api_url="http://given/api"
    )
    assert explicit.prefect_api_url == "http://given/api"
    assert explicit.source(url) == "--prefect-api-url"


def test_the_tenant_block_beats_the_defaults_block_and_lists_add_up(repo: Path) -> None:
    options = resolve(repo)
    assert options.work_pool == "from-file"
    assert options.source("work_pool") == "prefect-flow-deploy.yaml:7 (tenant prod)"
    assert options.extra_tags == ("all", "prod")
    assert options.source("extra_tags") == (
        "prefect-flow-deploy.yaml:3 (defaults) + prefect-flow-deploy.yaml:10 (tenant prod)"
    )


def test_an_explicit_value_equal_to_the_default_beats_the_file(repo: Path) -> None:
    """The fix: `--work-pool docker-pool` or `max-parallel: 4` used to lose to the file."""
    defaults = Options()
    options = resolve(
        repo,
        work_pool=defaults.work_pool,
        max_parallel=defaults.max_parallel,
        base_image=defaults.base_image,
    )
    assert (options.work_pool, options.max_parallel, options.base_image) == (
        defaults.work_pool,
        defaults.max_parallel,
        defaults.base_image,
    )
    assert options.source("max_parallel") == "--max-parallel"
    assert resolve(repo).max_parallel == 7  # left out: the file's


def test_empty_is_unset_in_every_layer(repo: Path) -> None:
    options = resolve(repo, {"PREFECT_API_URL": " "}, prefect_api_url="", work_pool=None)
    assert options.prefect_api_url == "http://from-file/api"
    assert options.work_pool == "from-file"


def test_the_cli_gives_only_what_was_typed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The options as click parses `plan` (typer's own command, not invoked): every default
    is None, so `--work-pool docker-pool` is explicit and the rest comes from the file."""
    monkeypatch.chdir(repo)
    command = typer.main.get_command(cli.app).commands["plan"]  # type: ignore[attr-defined]

    def options(*args: str) -> Options:
        params = command.make_context("plan", ["--tenant", "prod", *args]).params
        return cli._options({k: v for k, v in params.items() if k in cli.RUN_SETTINGS})

    left_out = options()
    assert (left_out.work_pool, left_out.max_parallel, left_out.force) == ("from-file", 7, False)
    assert left_out.source("force") == "default"
    given = options("--work-pool", "docker-pool", "--max-parallel", "4", "--force")
    assert (given.work_pool, given.max_parallel, given.force) == ("docker-pool", 4, True)
    assert given.source("work_pool") == "--work-pool"
    assert given.source("force") == "--force"
    monkeypatch.setenv("PREFECT_API_URL", "http://from-env/api")
    assert options().source("prefect_api_url") == "environment PREFECT_API_URL"


def test_action_inputs_left_at_their_action_yml_default_do_not_beat_the_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner sets every input, to its action.yml default when the workflow gave none."""
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod")
    options, _ = options_from_inputs(repo)
    assert (options.work_pool, options.max_parallel, options.base_image) == (
        "from-file",
        7,
        "file/base:1",
    )
    assert options.projects_root == repo / "projects" and options.force is False
    assert options.source("registry") == "input registry"
    given = {"work-pool": "docker-pool", "max-parallel": "4", "base-image": Options().base_image}
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod", **given)
    options, _ = options_from_inputs(repo)
    assert (options.work_pool, options.max_parallel) == ("docker-pool", 4)
    assert options.base_image == Options().base_image
    assert options.source("work_pool") == "input work-pool"


def test_no_action_input_that_is_a_setting_has_a_default() -> None:
    """A default would arrive as if the workflow had written it, and beat the config file
    and the environment."""
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    keys = {setting.key for setting in SETTINGS.values()}
    defaults = {name: spec.get("default", "") for name, spec in declared.items() if name in keys}
    assert len(defaults) >= 15 and set(defaults.values()) == {""}, defaults


def test_the_environment_beats_the_file_for_the_action_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod")
    monkeypatch.setenv("PREFECT_API_URL", "http://from-env/api")
    options, _ = options_from_inputs(repo)
    assert options.prefect_api_url == "http://from-env/api"
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod", **{"prefect-api-url": "http://i/api"})
    options, _ = options_from_inputs(repo)
    assert options.prefect_api_url == "http://i/api"


@pytest.mark.parametrize(
    ("text", "tenant", "message", "line"),
    [
        ("tenants:\n  prod:\n    work_pool: x\n", "prod", "Did you mean `work-pool`?", 3),
        ("defaults:\n  max-paralel: 2\n", None, "Did you mean `max-parallel`?", 2),
        ("defaults:\n  shedules-active: true\n", None, "Did you mean `schedules-active`?", 2),
        ("tenant:\n  prod: {}\n", "prod", "Did you mean `tenants`?", 1),
        ("tenants:\n  prod: {}\n  dev: {}\n", "prdo", "Did you mean `prod`?", 1),
        ("defaults:\n  keep-images: 3\n", None, "give it as the action input `keep-images`", 2),
    ],
)
def test_a_mistyped_name_gets_a_did_you_mean_at_its_line(
    repo: Path, text: str, tenant: str | None, message: str, line: int
) -> None:
    path = repo / "prefect-flow-deploy.yaml"
    path.write_text(text)
    explicit = {"tenant": Given(tenant, "--tenant")} if tenant else {}
    with pytest.raises(ConfigurationError) as error:
        resolve_options(explicit, {}, ConfigFile(path), repo)
    assert f"{path}:{line}: " in str(error.value) and message in str(error.value)


def test_nothing_close_gets_no_guess(repo: Path) -> None:
    path = repo / "prefect-flow-deploy.yaml"
    path.write_text("defaults:\n  colour: blue\n")
    with pytest.raises(ConfigurationError) as error:
        resolve_options({}, {}, ConfigFile(path), repo)
    assert "unknown setting `colour`" in str(error.value)
    assert "Did you mean" not in str(error.value) and "Known settings: base-image" in str(
        error.value
    )


SECRETS = {
    "PFD_REGISTRY_PASSWORD": "hunter2-registry",
    "PREFECT_API_KEY": "pnu_verbose-key",
    "PFD_BUILD_SECRETS": "pip-index-url=https://ci:tok-3n@pypi.example/simple",
}


def secret_free_options(repo: Path) -> Options:
    (repo / "prefect-flow-deploy.yaml").write_text(
        CONFIG + "    build-args: {NPM_TOKEN: npm-s3cret, PLAIN: visible}\n"
        "    job-variables: {env: {DB_PASSWORD: pw-s3cret, LEVEL: debug}}\n"
    )
    return resolve(repo, {**SECRETS, "PFD_REGISTRY_USERNAME": "ci-bot"})


def test_the_description_says_where_each_value_came_from_and_never_a_secret(repo: Path) -> None:
    text = describe(secret_free_options(repo))
    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert set(lines) == {s.key for s in SETTINGS.values()}
    assert re.search(r"work-pool +from-file +\[prefect-flow-deploy.yaml:7 \(tenant prod\)\]", text)
    assert re.search(r"registry-password +\*\*\* +\[environment PFD_REGISTRY_PASSWORD\]", text)
    assert re.search(r"prefect-api-key +\*\*\* +\[environment PREFECT_API_KEY\]", text)
    assert '{"pip-index-url": "***"}' in lines["build-secrets"]
    assert re.search(r"registry-username +ci-bot +\[environment PFD_REGISTRY_USERNAME\]", text)
    assert re.search(r"force +false +\[default\]", text)
    assert '"NPM_TOKEN": "***"' in lines["build-args"] and '"PLAIN": "visible"' in text
    assert '"DB_PASSWORD": "***"' in lines["job-variables"] and '"LEVEL": "debug"' in text
    for secret in [*SECRETS.values(), "tok-3n", "npm-s3cret", "pw-s3cret"]:
        assert secret not in text


@pytest.mark.parametrize("switch", ["PFD_VERBOSE", "RUNNER_DEBUG"])
def test_verbose_prints_the_resolved_options(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], switch: str
) -> None:
    secret_free_options(repo)
    assert "options (later wins" not in capsys.readouterr().err  # not without the switch
    monkeypatch.setenv(switch, "1")
    secret_free_options(repo)
    printed = capsys.readouterr().err
    assert "work-pool" in printed and "[prefect-flow-deploy.yaml:7 (tenant prod)]" in printed
    for secret in [*SECRETS.values(), "tok-3n", "npm-s3cret", "pw-s3cret"]:
        assert secret not in printed


def test_the_action_prints_its_options_on_a_debug_rerun(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    set_inputs(
        monkeypatch,
        registry="ghcr.io/acme/flows",
        tenant="prod",
        **{"github-token": "ghs_debugtoken", "prefect-api-key": "pnu_input-key"},
    )
    options_from_inputs(repo)
    printed = capsys.readouterr().err
    assert re.search(
        r"registry-password +\*\*\* +\[input github-token \(the ghcr.io login\)\]", printed
    )
    assert re.search(r"prefect-api-key +\*\*\* +\[input prefect-api-key\]", printed)
    assert re.search(r"work-pool +from-file ", printed)
    assert "ghs_debugtoken" not in printed and "pnu_input-key" not in printed
