"""The builder of a run, opened for execute: the Docker engine that builds, checks and pushes
(this runner's, or a remote one), or a buildx builder that builds into this runner's engine.
What to open is the plan's decision (builder_choice.BuildPlan); this only carries it out.

Everything the builder needs on disk lives in one private temporary folder of the run,
removed on every exit like the registry login (and tracked for a signal: cancellation.py;
after SIGKILL the next run removes it: leftovers.py): the Docker config holding the logins,
and for a remote engine a Docker context with its TLS client certificate (`DOCKER_CONTEXT`:
the only way to give a stand-alone `docker-buildx` TLS; it reads no DOCKER_TLS_VERIFY). The
Docker SDK reaches the same engine with the same files. Before anything is built the builder
must answer: an unreachable one, or one that refuses the certificate, is a clear error
naming the setting to fix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import docker
from requests.adapters import HTTPAdapter

from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.core.errors import ConfigurationError, DockerUnavailableError, FatalError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import cancellation, leftovers
from prefect_flow_deploy.docker.buildkit_cli import buildkit_command
from prefect_flow_deploy.docker.engine_session import Site, current, local_client, set_current
from prefect_flow_deploy.settings.builder import TLS_INPUTS
from prefect_flow_deploy.settings.options import Options

CONTEXT = "prefect-flow-deploy-builder"
_ENGINE_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS")
_PLUGIN_DIRS = ("/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins")


def build_command() -> tuple[str, ...]:
    site = current()
    if site is not None and site.command:
        return site.command
    return buildkit_command()


def build_env(config_dir: str | None) -> dict[str, str]:
    """The build client's environment: ours, pointed at the builder."""
    site = current()
    env = {k: v for k, v in os.environ.items() if not (site and k in site.unset)}
    env.update(site.env if site else {})
    env.update(DOCKER_BUILDKIT="1", BUILDKIT_PROGRESS="plain")
    if config_dir:
        env["DOCKER_CONFIG"] = config_dir
    return env


@contextmanager
def opened(plan: BuildPlan, options: Options, logins: Logins, building: bool) -> Iterator[Site]:
    """The builder, answering, for as long as the run builds, checks and pushes; its files
    and the builder made for the run are gone afterwards, whatever happens."""
    directory = None
    if plan.kind != "local" or logins:
        directory = run_files.temp_dir("pfd-docker-config-")
        cancellation.track_dir(directory)
    site: Site | None = None
    try:
        if directory:
            config = Path(directory, "config.json")
            config.touch(mode=0o600)
            config.write_text(logins.config_json())
        site = _open(plan, options, directory, building)
        set_current(site)
        yield site
    finally:
        set_current(None)
        if site is not None and site.client is not None:
            with suppress(Exception):
                site.client.close()
        if directory:
            shutil.rmtree(directory, ignore_errors=True)
            cancellation.untrack_dir(directory)


def _open(plan: BuildPlan, options: Options, directory: str | None, building: bool) -> Site:
    if plan.kind == "local":
        local_client()  # fail early and clearly when no engine is there
        return Site(plan, directory, build_command() if building else ())
    assert directory is not None
    tls = tls_material(options)
    if plan.kind == "docker":
        return _remote_engine(plan, options, directory, tls, building)
    return _buildx_builder(plan, options, directory, tls)


# -- a remote Docker engine ------------------------------------------------------------------


def _remote_engine(
    plan: BuildPlan, options: Options, directory: str, tls: dict[str, str], building: bool
) -> Site:
    if plan.address.startswith("ssh://") and not shutil.which("ssh"):
        raise DockerUnavailableError(
            f"builder {plan.address} (from {options.source('builder')}) needs an ssh client: "
            "there is none here (the action's image has none). Use tcp:// with "
            "builder-tls-ca, builder-tls-cert and builder-tls-key."
        )
    paths = write_context(directory, plan.address, tls)
    client = engine_client(plan.address, paths, options)
    swept = leftovers.sweep_engine(client)
    if swept:
        log.info(f"removed {swept} check containers that interrupted runs left on the builder")
    log.info(f"building on {plan.describe().removeprefix('builds on ')}")
    return Site(
        plan,
        directory,
        buildkit_command() if building else (),
        env={"DOCKER_CONTEXT": CONTEXT},
        unset=(*_ENGINE_VARIABLES, "DOCKER_CONTEXT"),
        client=client,
    )


def context_meta(address: str) -> dict[str, Any]:
    """A Docker context's meta.json (docker/cli's context store, read by every docker and
    buildx client): the engine's address; its TLS files sit beside it, named by `tls/`."""
    return {
        "Name": CONTEXT,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": address, "SkipTLSVerify": False}},
    }


def write_context(directory: str, address: str, tls: dict[str, str]) -> dict[str, str]:
    """The context under `<directory>/contexts` (the store keys a context by the sha256 of
    its name); return the TLS files' paths by their Docker names (ca, cert, key)."""
    key = hashlib.sha256(CONTEXT.encode()).hexdigest()
    meta = Path(directory, "contexts", "meta", key)
    meta.mkdir(parents=True, mode=0o700)
    (meta / "meta.json").write_text(json.dumps(context_meta(address)))
    return _write_tls(Path(directory, "contexts", "tls", key, "docker"), tls)


def _write_tls(folder: Path, tls: dict[str, str]) -> dict[str, str]:
    paths: dict[str, str] = {}
    if not tls:
        return paths
    folder.mkdir(parents=True, mode=0o700)
    for name, text in tls.items():
        path = folder / f"{name}.pem"
        path.touch(mode=0o600)
        path.write_text(text)
        paths[name] = str(path)
    return paths


def engine_client(address: str, paths: dict[str, str], options: Options) -> docker.DockerClient:
    """The Docker SDK on the remote engine, once it has answered (the API version agreed)."""
    import docker.tls

    tls: docker.tls.TLSConfig | bool = False
    if address.startswith("tcp://") and paths:
        tls = docker.tls.TLSConfig(
            client_cert=(paths["cert"], paths["key"]) if "cert" in paths else None,
            ca_cert=paths.get("ca"),
            verify=paths.get("ca") or True,
        )

    def connect(version: str) -> docker.DockerClient:
        client = docker.DockerClient(
            base_url=address, tls=tls, timeout=600, version=version,
            use_ssh_client=address.startswith("ssh://"),
        )  # fmt: skip
        # requests lets REQUESTS_CA_BUNDLE replace the CA given (psf/requests#3829)
        client.api.trust_env = False
        if tls:
            client.api.mount("https://", _EngineTLS(paths))
        return client

    try:
        probe = connect("1.24")  # the oldest API an engine still takes: to ask its own
        version = str(probe.version(api_version=False)["ApiVersion"])
        probe.close()
        client = connect(version)
        client.ping()
    except Exception as exc:
        raise engine_error(str(exc), address, options) from exc
    return client


class _EngineTLS(HTTPAdapter):
    """TLS to an engine verified as the Docker CLI verifies it (Go's crypto/x509): urllib3
    on Python 3.13 adds OpenSSL's X509_STRICT, which refuses a CA without a keyUsage
    extension, and so every CA made by Docker's own openssl recipe (docs.docker.com/engine/
    security/protect-access). The chain and the host name are checked all the same."""

    def __init__(self, paths: dict[str, str]) -> None:
        from urllib3.util.ssl_ import create_urllib3_context

        self._context = create_urllib3_context()
        self._context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        if "ca" in paths:
            self._context.load_verify_locations(paths["ca"])
        else:
            self._context.load_default_certs()
        if "cert" in paths:
            self._context.load_cert_chain(paths["cert"], paths["key"])
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def engine_error(message: str, address: str, options: Options) -> FatalError:
    """What an engine's refusal means, naming the setting to fix (pure: unit-tested on the
    messages the Docker SDK gives)."""
    builder = f"builder (from {options.source('builder')})"
    named = {n: f"{n} (from {options.source(n.replace('-', '_'))})" for n in TLS_INPUTS}
    if "KEY_VALUES_MISMATCH" in message:
        return ConfigurationError(
            f"{named['builder-tls-key']} is not the key of {named['builder-tls-cert']}: give "
            "the key the client certificate was made for."
        )
    if "CERTIFICATE_VERIFY_FAILED" in message:
        return DockerUnavailableError(
            f"the builder {address} presents a certificate that {named['builder-tls-ca']} did "
            "not sign (or not for this host name): give the CA that signed the engine's "
            f"certificate, or fix {builder}."
        )
    if "HTTP request to an HTTPS server" in message:
        return DockerUnavailableError(
            f"the builder {address} wants TLS: give builder-tls-ca, builder-tls-cert and "
            "builder-tls-key (PEM) of a client certificate its CA signed."
        )
    if re.search(r"(?i)ssl|tls|certificate", message):
        return DockerUnavailableError(
            f"the builder {address} refused the TLS client certificate "
            f"({named['builder-tls-cert']}): it must be signed by the CA the engine trusts "
            f"(its --tlscacert). The engine said: {_short(message)}"
        )
    return DockerUnavailableError(
        f"cannot reach the builder {address}, {builder}: {_short(message)}. Check the "
        "address and that this runner can reach it (a firewall, the engine not running)."
    )


_CAUSES = (
    r"\[Errno -?\d+\] [^'\"()]+",  # connection refused, name not known, …
    r"\[SSL: \w+\] [^('\"]+",  # an alert the engine sent
    r"EOF occurred in violation of protocol",  # TLS 1.3: the engine hung up on the certificate
)


def _short(message: str) -> str:
    """The cause in a urllib3 message (`… Caused by NewConnectionError(… [Errno 111] …))`)."""
    for pattern in _CAUSES:
        found = re.search(pattern, message)
        if found:
            return found.group(0).strip()
    return message[:300]


# -- TLS material ----------------------------------------------------------------------------


def tls_material(options: Options) -> dict[str, str]:
    """The TLS secrets as PEM text by their Docker names (ca, cert, key); each given as PEM
    text or as the path of a PEM file. Every line is masked."""
    given = {
        "ca": ("builder-tls-ca", options.builder_tls_ca),
        "cert": ("builder-tls-cert", options.builder_tls_cert),
        "key": ("builder-tls-key", options.builder_tls_key),
    }
    material = {}
    for name, (setting, value) in given.items():
        text = pem_text(value, setting, options.source(setting.replace("-", "_")))
        if text is not None:
            material[name] = text
    return material


def pem_text(value: str | None, setting: str, source: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        if "\n" in text or not path.is_file():
            raise ConfigurationError(
                f"{setting} (from {source}) is neither PEM text (-----BEGIN …) nor a file: give "
                "the certificate or key itself, e.g. from a secret."
            )
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not re.search(r"-----BEGIN [A-Z0-9 ]+-----[\s\S]+-----END [A-Z0-9 ]+-----", text):
        raise ConfigurationError(
            f"{setting} (from {source}) is not PEM: expected -----BEGIN …----- … -----END …-----."
        )
    for line in text.splitlines():  # a tool that prints part of it prints lines
        if len(line.strip()) >= 16 and not line.startswith("-----"):
            log.mask(line.strip())
    return text + "\n"


# -- buildx ----------------------------------------------------------------------------------


@functools.cache
def buildx_command() -> tuple[str, ...]:
    """buildx: PFD_BUILDX, `docker-buildx` (on PATH or a plugin home, run on its own), else a
    docker client that has the plugin (`docker buildx`)."""
    candidates = [
        os.environ.get("PFD_BUILDX", ""),
        *[os.path.join(d, "docker-buildx") for d in os.environ.get("PATH", "").split(":") if d],
        *[os.path.join(d, "docker-buildx") for d in _PLUGIN_DIRS],
    ]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return (path,)
    docker_cli = os.environ.get("PFD_DOCKER_CLI") or shutil.which("docker")
    if docker_cli and _runs([docker_cli, "buildx", "version"]):
        return (docker_cli, "buildx")
    raise DockerUnavailableError(
        "a buildx or BuildKit builder needs buildx, which is not here: install docker-buildx "
        "(the action's image has it), or set PFD_BUILDX to a buildx binary."
    )


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def create_command(
    buildx: tuple[str, ...], name: str, address: str, tls: dict[str, str]
) -> list[str]:
    """`docker buildx create` of a remote-driver builder for a BuildKit daemon; TLS as the
    driver's options cacert, cert, key and servername (docs.docker.com/build/builders/drivers/remote)."""
    command = [*buildx, "create", "--name", name, "--driver", "remote"]
    if tls:
        host = address.removeprefix("tcp://").rsplit(":", 1)[0].strip("[]")
        options = [f"{'cacert' if k == 'ca' else k}={v}" for k, v in sorted(tls.items())]
        command += ["--driver-opt", ",".join([*options, f"servername={host}"])]
    return [*command, address]


def build_options(buildx: tuple[str, ...], name: str) -> tuple[str, ...]:
    """The build through that builder, its image loaded into this runner's engine (to be
    checked and pushed there: a BuildKit daemon has no engine to run the check in)."""
    return (*buildx, "build", "--builder", name, "--load")


def _buildx_builder(plan: BuildPlan, options: Options, directory: str, tls: dict[str, str]) -> Site:
    buildx = buildx_command()
    env = {"DOCKER_CONFIG": directory}
    source = options.source("builder")
    if plan.kind == "buildkit":  # made for the run, in its own Docker config (gone after it)
        name = f"pfd-{uuid.uuid4().hex[:12]}"
        paths = _write_tls(Path(directory, "buildkit-tls"), tls)
        _buildx(create_command(buildx, name, plan.address, paths), env, plan, source)
        unset: tuple[str, ...] = ("BUILDX_CONFIG", "BUILDX_BUILDER")
    else:  # the user's, in the Docker config an earlier step wrote
        name = plan.address
        user_config = os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker")
        env["BUILDX_CONFIG"] = os.environ.get("BUILDX_CONFIG") or os.path.join(
            user_config, "buildx"
        )
        unset = ("BUILDX_BUILDER",)
    inspected = _buildx([*buildx, "inspect", "--bootstrap", name], env, plan, source)
    if re.search(r"(?m)^Driver:\s+docker\s*$", inspected):
        raise ConfigurationError(
            f"builder {plan.builder} (from {source}) uses buildx's docker driver, which cannot export a "
            "registry cache: give that engine's address (tcp://…, unix://…) as builder instead."
        )
    log.info(f"building on {plan.describe().removeprefix('builds on ')}")
    kept = {k: v for k, v in env.items() if k == "BUILDX_CONFIG"}  # DOCKER_CONFIG: config_dir
    return Site(plan, directory, build_options(buildx, name), env=kept, unset=unset)


def _buildx(command: list[str], env: dict[str, str], plan: BuildPlan, source: str) -> str:
    """A buildx command that prepares or reaches the builder; its refusal, said clearly."""
    verb = next(w for w in ("create", "inspect") if w in command)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, **env},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DockerUnavailableError(f"builder {plan.builder} (from {source}): {exc}") from exc
    if done.returncode != 0:
        said = log.redact((done.stderr or done.stdout).strip())[-600:]
        raise DockerUnavailableError(
            f"cannot reach the builder {plan.builder} (from {source}): `buildx {verb}` said: "
            f"{said}. Check the address, that this runner reaches it, and its TLS certificates."
        )
    return done.stdout
