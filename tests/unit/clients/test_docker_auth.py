"""Registry logins merged from the run's own and the Docker config a workflow's login steps
wrote (docker_auth.py). The config format and the credential-helper protocol (`get` reads the
server on stdin, prints `{"ServerURL", "Username", "Secret"}`) are Docker's
(docker/cli cliconfig, docker/docker-credential-helpers); Docker's Python library reads the
file and runs the helper."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.docker_auth import load_logins
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log


@pytest.fixture(autouse=True)
def own_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logins read are masked in the process-wide logger: keep these tests' from leaking out."""
    monkeypatch.setattr(log, "_secrets", [])


def test_logins_read_from_the_config_are_masked(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(
        json.dumps({"auths": {"r.example": auth("u", "hunter2-secret")}})
    )
    load_logins({}, {"HOME": str(tmp_path)})
    assert log.redact("password hunter2-secret") == "password ***"


def auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def write_config(directory: Path, config: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def test_the_runs_own_login_wins_for_its_registry_and_others_are_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(
        home / ".docker",
        {
            "auths": {
                "r.example": auth("old", "p0"),
                "https://index.docker.io/v1/": auth("hub", "p1"),
            }
        },
    )
    logins = load_logins({"r.example": Credentials("ci", "p2")}, {"HOME": str(home)})
    assert logins["r.example"] == Credentials("ci", "p2")
    assert logins["docker.io"] == Credentials("hub", "p1")
    assert logins.get("registry-1.docker.io") == Credentials("hub", "p1")
    assert logins.get("elsewhere.example") is None
    written = json.loads(logins.config_json())["auths"]
    assert set(written) == {"r.example", "docker.io"}
    assert base64.b64decode(written["r.example"]["auth"]).decode() == "ci:p2"


def test_docker_config_comes_before_home(tmp_path: Path) -> None:
    write_config(tmp_path / "home" / ".docker", {"auths": {"r.example": auth("home", "a")}})
    write_config(tmp_path / "dc", {"auths": {"r.example": auth("dc", "b")}})
    env = {"HOME": str(tmp_path / "home"), "DOCKER_CONFIG": str(tmp_path / "dc")}
    assert load_logins({}, env)["r.example"].username == "dc"
    # A DOCKER_CONFIG without a config.json falls back to the home's (docker-py's order).
    env["DOCKER_CONFIG"] = str(tmp_path / "empty")
    assert load_logins({}, env)["r.example"].username == "home"


def test_no_config_means_only_the_runs_own_login(tmp_path: Path) -> None:
    logins = load_logins({"r.example": Credentials("u", "p")}, {"HOME": str(tmp_path)})
    assert dict(logins) == {"r.example": Credentials("u", "p")} and logins.source is None


def test_a_missing_credential_helper_names_itself_and_the_recipe(tmp_path: Path) -> None:
    config = {
        "auths": {"other.example": auth("u", "p")},
        "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
    }
    write_config(tmp_path / ".docker", config)
    logins = load_logins({}, {"HOME": str(tmp_path)})
    assert logins["other.example"] == Credentials("u", "p")  # other registries are unaffected
    with pytest.raises(ConfigurationError) as error:
        logins.get("123.dkr.ecr.eu-west-1.amazonaws.com")
    message = str(error.value)
    assert "docker-credential-ecr-login" in message and "credHelpers" in message
    assert 'DOCKER_CONFIG=$RUNNER_TEMP/_github_home/.docker" >> "$GITHUB_ENV"' in message
    assert "aws-actions/amazon-ecr-login" in message and str(tmp_path) in message


def test_a_credential_helper_that_is_there_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text(
        "#!/bin/sh\nread server\n"
        'printf \'{"ServerURL":"%s","Username":"helped","Secret":"s3cret"}\' "$server"\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:/usr/bin:/bin")
    write_config(tmp_path / ".docker", {"credsStore": "fake"})
    logins = load_logins({}, {"HOME": str(tmp_path)})
    assert len(logins) == 0  # nothing asked yet
    assert logins["r.example"] == Credentials("helped", "s3cret")
    assert json.loads(logins.config_json())["auths"].keys() == {"r.example"}


def test_an_unreadable_config_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"\.docker/config\.json: cannot read"):
        load_logins({}, {"HOME": str(tmp_path)})
