"""Registry logins: the run's own, merged with the Docker config earlier steps wrote.

A workflow logs in the usual way (docker/login-action, aws-actions/amazon-ecr-login, `docker
login`), which writes `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. In the action's
container that is `/github/home/.docker/config.json` when an earlier step set DOCKER_CONFIG to
`$RUNNER_TEMP/_github_home/.docker` (through $GITHUB_ENV: a job's `env:` cannot read the
`runner` context). Those logins are honoured for every
registry (private base images, a second registry); the run's own login (registry-username and
registry-password, or the workflow token for ghcr.io) wins for its registry.

Docker's own library reads the file and runs credential helpers (`credHelpers`, `credsStore`);
a helper that is not installed is a clear error naming it and the recipe that works.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.core.logger import log

if TYPE_CHECKING:  # docker-py reads a Docker config: loaded only when there is one
    from docker import auth as docker_auth

RECIPE = (
    "Let the login step write a plain login where the action reads it: first a step "
    '`run: echo "DOCKER_CONFIG=$RUNNER_TEMP/_github_home/.docker" >> "$GITHUB_ENV"`, then '
    "docker/login-action (ECR: aws-actions/amazon-ecr-login), then this action; or pass "
    "registry-username and registry-password."
)
_DOCKER_HUB = {"docker.io", "registry-1.docker.io", "index.docker.io"}
_TOKEN_USER = "<token>"  # docker-py's name for an identity token in place of a password


class Logins(Mapping[str, Credentials]):
    """Registry host → login. Logins kept by a credential helper are asked for only when a
    registry challenges for that host, and then remembered for the rest of the run."""

    def __init__(
        self,
        own: Mapping[str, Credentials],
        config: docker_auth.AuthConfig | None = None,
        source: Path | None = None,
    ) -> None:
        self._own = dict(own)
        self._config = config
        self._source = source
        self._found: dict[str, Credentials | None] = {}

    @property
    def source(self) -> Path | None:
        """The Docker config file read, if any."""
        return self._source

    def __getitem__(self, host: str) -> Credentials:
        host = _canonical(host)
        if host in self._own:
            return self._own[host]
        if host not in self._found:
            self._found[host] = self._from_config(host)
        login = self._found[host]
        if login is None:
            raise KeyError(host)
        return login

    def __iter__(self) -> Iterator[str]:
        return iter(self._known())

    def __len__(self) -> int:
        return len(self._known())

    def _known(self) -> dict[str, Credentials]:
        """The run's own logins, the config's plain ones and the helpers' found so far."""
        known = {h: c for h, c in self._found.items() if c is not None}
        if self._config is not None:
            from docker import auth as docker_auth

            for key, entry in self._config.auths.items():
                host = _canonical(docker_auth.convert_to_hostname(key))
                login = _credentials(entry)
                if login and host not in known:
                    known[host] = login
        return {**known, **self._own}

    def _from_config(self, host: str) -> Credentials | None:
        if self._config is None:
            return None
        registry = "docker.io" if host == "docker.io" else host
        helper = self._config.get_credential_store(registry)
        if helper and not shutil.which(f"docker-credential-{helper}"):
            where = "credHelpers" if self._config.cred_helpers.get(registry) else "credsStore"
            raise ConfigurationError(
                f"{self._source}: `{where}` sends the login for {host} to the credential helper "
                f"docker-credential-{helper}, which is not installed here (the action's image "
                f"has none). {RECIPE}"
            )
        from docker.errors import DockerException

        try:
            entry = self._config.resolve_authconfig(registry)
        except DockerException as exc:
            raise ConfigurationError(
                f"{self._source}: the credential helper docker-credential-{helper} failed "
                f"for {host}: {exc}. {RECIPE}"
            ) from exc
        login = _credentials(entry) if entry else None
        if login:
            log.mask(login.password)
        return login

    def config_json(self) -> str:
        """A Docker config holding every login known now, as plain `auths` (no helper), for
        a build that must pull base images and cache sources with them."""
        auths = {
            host: {"auth": base64.b64encode(f"{c.username}:{c.password}".encode()).decode()}
            for host, c in self._known().items()
        }
        return json.dumps({"auths": auths})


def _credentials(entry: Mapping[str, str | None]) -> Credentials | None:
    username = entry.get("username") or entry.get("Username")
    password = entry.get("password") or entry.get("Password")
    if username and password and username != _TOKEN_USER:
        return Credentials(username, password)
    return None


def _canonical(host: str) -> str:
    return "docker.io" if host in _DOCKER_HUB else host


def load_logins(own: Mapping[str, Credentials], env: Mapping[str, str]) -> Logins:
    """The run's logins merged with the Docker config the environment points at:
    `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json` (docker-py's order)."""
    directory = env.get("DOCKER_CONFIG")
    candidates = [Path(directory, "config.json")] if directory else []
    if env.get("HOME"):
        candidates.append(Path(env["HOME"], ".docker", "config.json"))
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return Logins(own)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read this Docker config ({exc}). Fix or remove it, or point "
            "DOCKER_CONFIG at another folder."
        ) from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: a Docker config must be a JSON object.")
    from docker import auth as docker_auth
    from docker.errors import DockerException

    try:
        config = docker_auth.AuthConfig.load_config(None, data)
    except DockerException as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    for entry in config.auths.values():
        log.mask(entry.get("password") or entry.get("IdentityToken"))
    return Logins(own, config, path)
