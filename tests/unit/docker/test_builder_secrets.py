"""Build secrets: `id=value` lines from the action input, --build-secret or PFD_BUILD_SECRETS,
masked first, handed to BuildKit as secret files, counted in the tag by id only. The real
engine's side (present in the build, absent from the image, the cache and the logs) is in
tests/integration/test_build_secrets.py."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from prefect_flow_deploy import action
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker.base_images import BaseDigests
from prefect_flow_deploy.docker.builder import secret_options
from prefect_flow_deploy.reading.default_recipe import default_dockerfile
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.recipes import image_answer, recipe_for
from prefect_flow_deploy.settings.cascade import resolve_options
from prefect_flow_deploy.settings.options import Given, Options, parse_build_secrets, secret_values

TOKEN = "https://ci:s3cr3t-T0ken@pypi.example.com/simple"


def test_lines_of_id_value_skip_blanks_and_comments_and_keep_equals_in_values() -> None:
    lines = ["", "# the private index", f"pip-index-url = {TOKEN}", "npmrc=//r/:_authToken=abc=="]
    assert parse_build_secrets(lines, "input `build-secrets`") == {
        "pip-index-url": TOKEN,
        "npmrc": "//r/:_authToken=abc==",
    }


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("just-a-token-s3cr3t", "expected `id=value`"),
        ("bad,id=s3cr3t", "expected `id=value`"),
        ("=s3cr3t", "expected `id=value`"),
        ("empty=", "has no value"),
    ],
)
def test_a_bad_line_names_its_source_and_line_never_its_value(line: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_build_secrets(["ok=1", line], "input `build-secrets`")
    assert "input `build-secrets`, line 2" in str(error.value) and says in str(error.value)
    assert "s3cr3t" not in str(error.value)


def test_an_id_given_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="line 2: the build secret `a` is given twice"):
        parse_build_secrets(["a=1", "a=2"], "--build-secret")


def test_every_value_is_found_for_masking_even_on_a_bad_line() -> None:
    assert secret_values(["a=x1", "bare-token", "", "b = y2 "]) == ["x1", "bare-token", "y2"]


def test_the_environment_fills_in_and_an_explicit_secret_wins(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    explicit = {"build_secrets": Given({"a": "explicit"}, "--build-secret")}
    env = {"PFD_BUILD_SECRETS": "a=from-env\nb=only-env\n"}
    options = resolve_options(explicit, env, root=tmp_path)
    assert options.build_secrets == {"a": "explicit", "b": "only-env"}


def test_options_never_show_a_secret_in_their_repr() -> None:
    assert "s3cr3t" not in repr(Options(build_secrets={"a": "s3cr3t"}))


def test_the_action_masks_every_secret_before_anything_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(log, "github", True)
    monkeypatch.setattr(log, "_secrets", [])
    monkeypatch.setenv("INPUT_BUILD-SECRETS", f"pip-index-url={TOKEN}\nnot-a-pair-s3cr3t\n")
    monkeypatch.setenv("PFD_BUILD_SECRETS", "other=env-s3cr3t")
    action.mask_secrets()
    # The runner's parser (ActionCommand.TryParseV2): the command name ends at a space or `::`,
    # so github-action-utils' `::add-mask ::VALUE` is a mask command.
    printed = capsys.readouterr().out.splitlines()
    masked = {m[1] for line in printed if (m := re.fullmatch(r"::add-mask ?::(.*)", line))}
    assert masked == {TOKEN, "not-a-pair-s3cr3t", "env-s3cr3t"}
    assert log.redact(f"pip said {TOKEN}") == "pip said ***"


def test_the_action_input_becomes_the_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "projects").mkdir()
    monkeypatch.delenv("PFD_BUILD_SECRETS", raising=False)
    monkeypatch.setenv("INPUT_PREFECT-API-URL", "http://p/api")
    monkeypatch.setenv("INPUT_DRY-RUN", "true")
    monkeypatch.setenv("INPUT_BUILD-SECRETS", f"pip-index-url={TOKEN}\n")
    options, _ = action.options_from_inputs(tmp_path)
    assert options.build_secrets == {"pip-index-url": TOKEN}
    assert options.build_args == {}  # never a build argument


def test_secrets_reach_buildkit_as_files_never_on_the_command_line(tmp_path: Path) -> None:
    arguments = secret_options({"pip-index-url": TOKEN, "a": "x"}, str(tmp_path))
    assert arguments == [
        "--secret",
        f"id=a,src={tmp_path}/secret-0",
        "--secret",
        f"id=pip-index-url,src={tmp_path}/secret-1",
    ]
    assert TOKEN not in " ".join(arguments)
    secret_file = tmp_path / "secret-1"
    assert secret_file.read_text() == TOKEN
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


def test_the_default_recipe_reads_the_index_secrets_for_pip_only() -> None:
    plain = default_dockerfile("base", "/code", True)
    assert "secret" not in plain and "PIP_INDEX_URL" not in plain
    text = default_dockerfile(
        "base", "/code", True, secret_ids=frozenset({"pip-index-url", "pip-extra-index-url", "x"})
    )
    assert "--mount=type=secret,id=pip-index-url" in text
    assert "--mount=type=secret,id=pip-extra-index-url" in text
    assert 'PIP_INDEX_URL="$(cat /run/secrets/pip-index-url)"' in text
    assert 'PIP_EXTRA_INDEX_URL="$(cat /run/secrets/pip-extra-index-url)"' in text
    assert "id=x" not in text  # only the ids the recipe knows what to do with
    assert "ENV" not in text and "ARG" not in text  # nothing that a layer or the config keeps
    no_requirements = default_dockerfile(
        "base", "/code", False, secret_ids=frozenset({"pip-index-url"})
    )
    assert "secret" not in no_requirements


def tag_of(root: Path, secrets: dict[str, str]) -> str:
    options = Options(projects_root=root, base_image="base:1", build_secrets=secrets)
    folder = discover(root, None)[0]
    bases = BaseDigests(None)  # type: ignore[arg-type]  # resolved by hand: no registry here
    bases.digests["base:1"] = "sha256:" + "1" * 64
    tag = image_answer(
        folder, recipe_for(folder, options), bases.digests, bases.problems, options
    ).tag
    assert tag is not None
    return tag


@pytest.mark.parametrize("own_dockerfile", [False, True])
def test_a_rotated_value_keeps_the_tag_and_a_new_id_changes_it(
    tmp_path: Path, own_dockerfile: bool
) -> None:
    folder = tmp_path / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text("from prefect import flow\n\n@flow\ndef daily():\n    pass\n")
    (folder / "requirements.txt").write_text("six\n")
    if own_dockerfile:
        (folder / "Dockerfile").write_text("FROM base:1\nRUN --mount=type=secret,id=tok true\n")
    none = tag_of(tmp_path, {})
    first = tag_of(tmp_path, {"pip-index-url": "https://a:old@x/simple", "tok": "1"})
    rotated = tag_of(tmp_path, {"pip-index-url": "https://a:new@x/simple", "tok": "2"})
    more = tag_of(tmp_path, {"pip-index-url": "https://a:new@x/simple", "tok": "2", "z": "3"})
    assert first == rotated
    assert len({none, first, more}) == 3
