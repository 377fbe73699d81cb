"""Action inputs become the same Options the CLI builds (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.action import options_from_inputs
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.settings.options import Options

from ..action.runner import _declared_inputs as declared_inputs


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "projects").mkdir()
    for key in (
        "PREFECT_API_URL",
        "PREFECT_API_KEY",
        "PFD_REGISTRY_USERNAME",
        "PFD_REGISTRY_PASSWORD",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    return tmp_path


def set_inputs(monkeypatch: pytest.MonkeyPatch, **inputs: str) -> None:
    """As the runner does: every input of action.yml set, to the value given, else its
    default (tests/action/runner.py: `_declared_inputs`, from ACTION-RUNNER.md). No
    workflow token unless given: it would be the login of every ghcr.io registry here."""
    for name, value in declared_inputs({"github-token": "", **inputs}).items():
        monkeypatch.setenv(f"INPUT_{name.upper()}", value)


def test_inputs_map_to_options(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flows")  # as on every runner
    set_inputs(
        monkeypatch, registry="ghcr.io/acme/flows", **{"prefect-api-url": "http://p/api", "max-parallel": "8",
        "force": "true", "prune": "True", "flows": "^sales/", "shards": "3", "tenant": "prod",
        "work-pool-type": "kubernetes"},
    )  # fmt: skip
    options, shards = options_from_inputs(workspace)
    assert shards == 3
    assert options == Options(
        projects_root=workspace / "projects", registry="ghcr.io/acme/flows", tenant="prod",
        prefect_api_url="http://p/api", max_parallel=8, force=True, prune=True, flows="^sales/",
        work_pool_type="kubernetes", repository="acme/flows",
    )  # fmt: skip


def test_github_token_is_the_ghcr_login(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_inputs(
        monkeypatch,
        registry="ghcr.io/acme/flows",
        **{"prefect-api-url": "http://p/api", "github-token": "ghs_x"},
    )
    options, _ = options_from_inputs(workspace)
    assert (options.registry_username, options.registry_password) == ("octocat", "ghs_x")
    set_inputs(  # ghcr.io/${{ github.repository_owner }}/flows with an owner in capitals
        monkeypatch,
        registry="ghcr.io/Acme/Flows",
        **{"prefect-api-url": "http://p/api", "github-token": "ghs_x"},
    )
    options, _ = options_from_inputs(workspace)
    assert options.registry == "ghcr.io/acme/flows" and options.registry_password == "ghs_x"
    set_inputs(
        monkeypatch,
        registry="registry.acme.io/f",
        **{"prefect-api-url": "http://p/api", "github-token": "ghs_x"},
    )
    options, _ = options_from_inputs(workspace)
    assert options.registry_password is None  # only ghcr.io takes the workflow token


def test_environment_and_config_file_fill_the_gaps(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "prefect-flow-deploy.yaml").write_text(
        "tenants:\n  prod:\n    prefect-api-url: http://from-file/api\n    work-pool: prod-pool\n"
    )
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod")
    options, _ = options_from_inputs(workspace)
    assert options.prefect_api_url == "http://from-file/api" and options.work_pool == "prod-pool"
    monkeypatch.setenv("PREFECT_API_URL", "http://from-env/api")
    options, _ = options_from_inputs(workspace)
    assert options.prefect_api_url == "http://from-env/api"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"prefect-api-url": "http://p/api"}, "missing required input `registry`"),
        ({"registry": "r.io/x"}, "missing required input `prefect-api-url`"),
        (
            {"registry": "r.io/x", "prefect-api-url": "http://p/api", "force": "yes"},
            "`force` must be true or false",
        ),
        (
            {"registry": "r.io/x", "prefect-api-url": "http://p/api", "max-parallel": "lots"},
            "`max-parallel` must be a whole number",
        ),
        (
            {"registry": "r.io/x", "prefect-api-url": "http://p/api", "config": "missing.yaml"},
            "does not exist",
        ),
        (
            {"registry": "r.io/x", "prefect-api-url": "http://p/api", "projects-root": "nope"},
            "is not a folder",
        ),
    ],
)
def test_bad_inputs_say_what_to_do(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, inputs: dict[str, str], message: str
) -> None:
    set_inputs(monkeypatch, **inputs)
    with pytest.raises(ConfigurationError, match=message.replace("`", "`").replace("(", r"\(")):
        options_from_inputs(workspace)


def test_dry_run_needs_no_registry(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_inputs(monkeypatch, **{"prefect-api-url": "http://p/api", "dry-run": "true"})
    options, _ = options_from_inputs(workspace)
    assert options.dry_run and not options.registry


@pytest.mark.parametrize(("text", "expected"), [("", None), ("3", 3), ("0", 0)])
def test_keep_images_input(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: int | None
) -> None:
    set_inputs(
        monkeypatch, registry="ghcr.io/acme/flows", **{"prefect-api-url": "http://p/api", "keep-images": text}
    )  # fmt: skip
    options, _ = options_from_inputs(workspace)
    assert options.keep_images == expected


@pytest.mark.parametrize(("text", "message"), [("x", "whole number"), ("-1", "0 or more")])
def test_a_bad_keep_images_input_says_what_it_takes(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    set_inputs(
        monkeypatch, registry="ghcr.io/acme/flows", **{"prefect-api-url": "http://p/api", "keep-images": text}
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match=message):
        options_from_inputs(workspace)


def test_the_config_file_is_looked_up_as_the_cli_does(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lookup (settings.config_file) for the CLI, the action and the pre-commit hook: the
    checkout's top level; a broken file there fails the action as it fails `validate`."""
    from prefect_flow_deploy.settings.cascade import config_file

    (workspace / ".git").mkdir()
    path = workspace / "prefect-flow-deploy.yaml"
    path.write_text("tenants:\n  prod:\n    work_pool: x\n")
    assert config_file(None, workspace / "projects") == config_file(None, workspace)
    assert config_file(None, workspace).path == path
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod", **{"prefect-api-url": "http://p/api"})
    with pytest.raises(ConfigurationError, match=r"prefect-flow-deploy.yaml:3: unknown setting"):
        options_from_inputs(workspace)
