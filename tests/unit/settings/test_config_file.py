import json
from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.settings.cascade import ConfigFile, resolve_options
from prefect_flow_deploy.settings.config_file import (
    FILE_KEYS,
    SCHEMA_URL,
    config_layer,
    config_schema,
    secret_looking_build_args,
)
from prefect_flow_deploy.settings.options import Given, Options

ROOT = Path(__file__).resolve().parents[3]

CONFIG = """\
defaults:
  registry: ghcr.io/acme/flows
  tags: [from-defaults]
tenants:
  prod:
    prefect-api-url: https://api.prefect.cloud/api/accounts/a/workspaces/w
    work-pool: prod-docker
    tags: [prod]
    schedules-active: true
  dev:
    work-pool: dev-docker
    schedules-active: false
    parameters: {"*": {env: dev}}
    job-variables: {env: {LOG_LEVEL: DEBUG}}
    build-args: {PIP_INDEX: "https://pypi.example/simple", RETRIES: 3}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prefect-flow-deploy.yaml"
    path.write_text(text)
    return path


def resolved(path: Path, tenant: str | None = None, **explicit: object) -> Options:
    """The cascade with the file at `path` and no environment; the projects beside it."""
    (path.parent / "projects").mkdir(exist_ok=True)
    given = {"tenant": tenant, **explicit}
    layer = {name: Given(v, f"--{name}") for name, v in given.items() if v is not None}
    return resolve_options(layer, {}, ConfigFile(path), root=path.parent)


def test_tenant_block_fills_options_left_at_default(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    prod = resolved(path, "prod")
    assert prod.registry == "ghcr.io/acme/flows"
    assert prod.prefect_api_url == "https://api.prefect.cloud/api/accounts/a/workspaces/w"
    assert prod.work_pool == "prod-docker"
    assert prod.extra_tags == ("from-defaults", "prod")
    assert prod.schedules_active is True
    dev = resolved(path, "dev")
    assert dev.schedules_active is False and dev.parameters == {"*": {"env": "dev"}}
    assert dev.job_variables == {"env": {"LOG_LEVEL": "DEBUG"}}
    assert dev.build_args == {"PIP_INDEX": "https://pypi.example/simple", "RETRIES": "3"}


def test_explicit_options_win_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    options = resolved(path, "prod", work_pool="mine", registry="localhost:5000/x")
    assert options.work_pool == "mine" and options.registry == "localhost:5000/x"


def test_each_tenant_has_its_own_builder_and_a_wrong_one_names_the_line(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "defaults:\n  registry: ghcr.io/acme/flows\n  builder: tcp://builder.acme:2376\n"
        "tenants:\n  prod: {}\n  dev:\n    builder: buildx:dev-builder\n"
        "  laptop:\n    builder: builder.acme\n",
    )
    assert resolved(path, "prod").build_plan().address == "tcp://builder.acme:2376"
    dev = resolved(path, "dev").build_plan()
    assert (dev.kind, dev.address, dev.cache) == ("buildx", "dev-builder", "registry")
    with pytest.raises(
        ConfigurationError, match=r"from prefect-flow-deploy.yaml:9 \(tenant laptop\)"
    ):
        resolved(path, "laptop")


def test_without_file_the_tenant_is_just_a_name(tmp_path: Path) -> None:
    assert config_layer(tmp_path / "prefect-flow-deploy.yaml", "prod") == {}
    options = resolved(tmp_path / "prefect-flow-deploy.yaml", "prod")
    assert options == Options(projects_root=tmp_path / "projects", tenant="prod")
    with pytest.raises(ConfigurationError, match="does not exist"):
        config_layer(tmp_path / "custom.yaml", None, required=True)


@pytest.mark.parametrize(
    ("text", "tenant", "message", "line"),
    [
        (CONFIG, "staging", "tenant 'staging' is not defined here (tenants: dev, prod)", 4),
        (
            "tenants:\n  prod:\n    prefect-api-key: abc\n",
            "prod",
            "is a secret and is never read",
            3,
        ),
        ("tenants:\n  prod:\n    registry-password: abc\n", "prod", "is a secret", 3),
        ("defaults:\n  builder-tls-key: x\ntenants:\n  prod: {}\n", "prod", "is a secret", 2),
        ("tenants:\n  prod:\n    builder-tls-cert: x\n", "prod", "is a secret", 3),
        ("tenants:\n  prod:\n    work_pool: x\n", "prod", "unknown setting `work_pool`", 3),
        (
            "tenants:\n  prod:\n    max-parallel: many\n",
            "prod",
            "`max-parallel` must be a number",
            3,
        ),
        ("tenants:\n  prod:\n    tags: prod\n", "prod", "`tags` must be a list", 3),
        ("tenant:\n  prod: {}\n", "prod", "unknown section `tenant`", 1),
        ("tenants:\n  prod:\n    registry: [x\n", "prod", "invalid YAML", 4),
        (
            "tenants:\n\tprod: {}\n",
            "prod",
            "found a tab that cannot start any token; YAML indents with spaces",
            2,
        ),
    ],
)
def test_invalid_files_name_the_line(
    tmp_path: Path, text: str, tenant: str, message: str, line: int
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as error:
        config_layer(path, tenant)
    assert message in str(error.value)
    assert f"{path}:{line}:" in str(error.value)


def test_the_example_config_is_valid_for_each_tenant() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "prefect-flow-deploy.yaml"
    for tenant in ("prod", "dev"):
        options = resolved(example, tenant)
        assert options.prefect_api_url and options.prefect_api_url.startswith(
            "https://api.prefect.cloud/"
        )
        assert options.work_pool == f"{tenant}-docker"
        assert options.extra_tags == ("flows-repo", tenant)
    assert resolved(example, "dev").parameters["daily-orders"] == {"limit": 1}


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("GITHUB_TOKEN", "ghp_abc", "name"),
        ("NPM_AUTH", "x", "name"),
        ("db_password", "x", "name"),
        ("AWS_SECRET_ACCESS_KEY", "x", "name"),
        ("PIP_INDEX_URL", "https://user:tok3n@pypi.example/simple", "value"),
        ("PIP_EXTRA_INDEX_URL", "https://__token__@pypi.example/simple", "value"),
    ],
)
def test_build_args_that_look_like_secrets_are_found(name: str, value: str, why: str) -> None:
    found = secret_looking_build_args({name: value, "RETRIES": "3"})
    assert list(found) == [name] and why in found[name]


def test_plain_build_args_are_not_secrets() -> None:
    plain = {"PIP_INDEX_URL": "https://pypi.example/simple", "PYTHON_VERSION": "3.12"}
    assert secret_looking_build_args(plain) == {}


def test_a_secret_build_arg_is_masked_and_warned_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_url = "https://ci:s3cr3t-t0ken@pypi.example/simple"
    path = write(tmp_path, f"defaults:\n  build-args:\n    PIP_INDEX_URL: {token_url}\n")
    options = resolved(path)
    assert options.build_args == {"PIP_INDEX_URL": token_url}  # still used for the build
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert "s3cr3t-t0ken" not in shown
    assert "prefect-flow-deploy.yaml:2" in shown and "build-secrets" in shown
    assert "PIP_INDEX_URL" in shown
    assert log.redact(f"pip {token_url}") == "pip ***"


def test_every_mistake_of_the_file_is_reported_at_its_line_in_one_pass(tmp_path: Path) -> None:
    """Three mistakes in three places: an unknown key (with a did-you-mean), a value of the
    wrong type in another tenant's block, a secret in `defaults:`. One read says all three."""
    path = write(
        tmp_path,
        "defaults:\n"
        "  registry: ghcr.io/acme/flows\n"
        "  prefect-api-key: abc\n"  # 3: a secret
        "tenants:\n"
        "  prod:\n"
        "    work-pol: prod-docker\n"  # 6: unknown
        "  dev:\n"
        "    max-parallel: many\n",  # 8: not a number
    )
    with pytest.raises(ConfigurationError) as error:
        config_layer(path, "prod")
    lines = str(error.value).splitlines()
    assert lines == [
        f"{path}:3: `prefect-api-key` is a secret and is never read from this file: pass it as "
        "an action input from `secrets.…` or as an environment variable.",
        f"{path}:6: unknown setting `work-pol`. Did you mean `work-pool`? Known settings: "
        + ", ".join(sorted(FILE_KEYS)),
        f"{path}:8: `max-parallel` must be a number",
    ]


def test_a_union_or_nested_mistake_is_said_once_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "tenants:\n  prod:\n    timeout-minutes: soon\n  dev: 3\n")
    with pytest.raises(ConfigurationError) as error:
        config_layer(path, "prod")
    assert str(error.value).splitlines() == [
        f"{path}:3: `timeout-minutes` must be a number of minutes (0: no deadline)",
        f"{path}:4: tenant settings must be a mapping",
    ]


def test_the_published_json_schema_is_the_model_s(tmp_path: Path) -> None:
    """prefect-flow-deploy.schema.json at the repository root is what
    scripts/config-schema.py writes from the model; run it after changing a setting."""
    published = json.loads((ROOT / "prefect-flow-deploy.schema.json").read_text())
    assert published == config_schema(), "run: python scripts/config-schema.py"
    assert published["$id"] == SCHEMA_URL
    settings = published["$defs"]["Settings"]
    assert set(settings["properties"]) == set(FILE_KEYS)
    assert settings["additionalProperties"] is False


def test_the_schema_accepts_the_example_and_refuses_what_the_model_refuses() -> None:
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "prefect-flow-deploy.schema.json").read_text())
    example = yaml.safe_load((ROOT / "examples" / "prefect-flow-deploy.yaml").read_text())
    jsonschema.validate(example, schema)
    for wrong in (
        {"tenants": {"prod": {"max-parallel": "many"}}},
        {"tenants": {"prod": {"prefect-api-key": "x"}}},
        {"tenant": {}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)


def test_an_unquoted_date_is_the_text_prefect_sends(tmp_path: Path) -> None:
    """As in prefect.yaml (core/yaml_loader.py): a tenant's parameter `since: 2024-01-01` is
    `"2024-01-01"`, not a date object the plan's JSON could not hold."""
    path = write(tmp_path, "tenants:\n  dev:\n    parameters: {'*': {since: 2024-01-01}}\n")
    assert resolved(path, "dev").parameters == {"*": {"since": "2024-01-01"}}
    json.dumps(resolved(path, "dev").parameters)
