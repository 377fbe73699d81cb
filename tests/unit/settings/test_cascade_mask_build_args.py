"""Build args masked, all of them, by choice (issue 15: "Build args named like secrets (or all
of them, by choice) masked and warned about"): `mask-build-args` in the config file, the
action's input or `--mask-build-args` masks every value before anything is printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.action import options_from_inputs
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.settings.cascade import describe
from tests.unit.settings.test_cascade import repo, resolve
from tests.unit.test_action import set_inputs

__all__ = ["repo"]  # the fixture, shared with test_settings
PLAIN = "mirror-canary-7f3a"  # a value no name or URL gives away
CONFIG = f"""\
tenants:
  prod:
    build-args: {{PIP_INDEX_URL: "https://{PLAIN}.internal/simple", MODE: {PLAIN}}}
"""


@pytest.fixture
def config(repo: Path) -> Path:
    (repo / "prefect-flow-deploy.yaml").write_text(CONFIG)
    return repo


def test_by_default_only_credential_looking_args_are_masked(config: Path) -> None:
    options = resolve(config)
    assert options.mask_build_args is False
    assert log.redact(f"MODE={PLAIN}") == f"MODE={PLAIN}"
    assert PLAIN in describe(options)


@pytest.mark.parametrize("where", ["file", "option"])
def test_mask_build_args_masks_every_value(config: Path, where: str) -> None:
    if where == "file":
        path = config / "prefect-flow-deploy.yaml"
        path.write_text(CONFIG.replace("  prod:\n", "  prod:\n    mask-build-args: true\n"))
        options = resolve(config)
        assert options.source("mask_build_args").startswith("prefect-flow-deploy.yaml:3")
    else:
        options = resolve(config, mask_build_args=True)
        assert options.source("mask_build_args") == "--mask-build-args"
    assert options.mask_build_args is True
    assert options.build_args["MODE"] == PLAIN  # the build still gets the value
    assert log.redact(f"RUN echo {PLAIN} https://{PLAIN}.internal/simple") == "RUN echo *** ***"
    shown = describe(options)
    assert PLAIN not in shown and '"MODE": "***"' in shown


def test_the_action_input(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = {"mask-build-args": "true", "prefect-api-url": "http://p/api"}
    set_inputs(monkeypatch, registry="r.io/x", tenant="prod", **inputs)
    options, _ = options_from_inputs(config)
    assert options.mask_build_args is True and options.source("mask_build_args") == (
        "input mask-build-args"
    )
    assert log.redact(PLAIN) == "***"
