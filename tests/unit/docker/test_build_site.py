"""Opening the builder, without an engine: what each refusal of a remote engine says (on the
Docker SDK's own messages, captured from a real engine refusing each mistake), the Docker
context a stand-alone docker-buildx reads, the buildx command lines of a BuildKit builder
(as docs.docker.com/build/builders/drivers/remote gives them), the PEM checks, and that the
TLS files live only while the builder is open. The real engine: tests/integration/
test_shared_builder.py; real buildx: tests/action/test_action_builder.py."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from prefect_flow_deploy.clients.docker_auth import Logins
from prefect_flow_deploy.core import run_files
from prefect_flow_deploy.core.build_plan import BuildPlan
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import ConfigurationError, DockerUnavailableError
from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.docker import build_site, cancellation, engine_session, leftovers
from prefect_flow_deploy.docker.build_site import (
    CONTEXT,
    build_env,
    build_options,
    context_meta,
    create_command,
    engine_error,
    opened,
    pem_text,
    write_context,
)
from prefect_flow_deploy.docker.engine_session import Site
from prefect_flow_deploy.settings.builder import build_plan
from prefect_flow_deploy.settings.options import Options

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkeyBODYlineOFbase64TEXTxx\n-----END EC PRIVATE KEY-----"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBcertificateBODYlineXXXXXXXXXX\n-----END CERTIFICATE-----"
SOURCES = {
    "builder": "input builder",
    "builder_tls_ca": "input builder-tls-ca",
    "builder_tls_cert": "input builder-tls-cert",
    "builder_tls_key": "input builder-tls-key",
}
OPTIONS = Options(registry="reg.example/flows", builder="tcp://127.0.0.1:23727", sources=SOURCES)
# What docker-py (7.x, urllib3 2) said, from a Docker 20.10 engine run with --tlsverify.
REFUSED = (
    "HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
    "/v1.24/version (Caused by NewConnectionError(\"HTTPSConnection(host='127.0.0.1', "
    'port=1): Failed to establish a new connection: [Errno 111] Connection refused"))'
)
WRONG_CLIENT = (
    "HTTPSConnectionPool(host='127.0.0.1', port=23727): Max retries exceeded with url: "
    "/v1.24/version (Caused by SSLError(SSLEOFError(8, 'EOF occurred in violation of "
    "protocol (_ssl.c:2427)')))"
)
NO_CLIENT = (
    "HTTPSConnectionPool(host='127.0.0.1', port=23727): … (Caused by SSLError(SSLError(1, "
    "'[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate (_ssl.c:2580)')))"
)
WRONG_CA = (
    "… (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
    "certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)')))"
)
MISMATCH = (
    "… (Caused by SSLError(SSLError(116, '[X509: KEY_VALUES_MISMATCH] key values mismatch')))"
)
PLAIN = '400 Client Error for http://127.0.0.1:23727/version: Bad Request ("Client sent an HTTP request to an HTTPS server.")'


@pytest.mark.parametrize(
    ("message", "kind", "names", "says"),
    [
        (REFUSED, DockerUnavailableError, ["builder (from input builder)"], "[Errno 111] Connection refused"),
        (WRONG_CLIENT, DockerUnavailableError, ["builder-tls-cert (from input builder-tls-cert)"], "refused the TLS client certificate"),
        (NO_CLIENT, DockerUnavailableError, ["builder-tls-cert"], "SSLV3_ALERT_BAD_CERTIFICATE"),
        (WRONG_CA, DockerUnavailableError, ["builder-tls-ca (from input builder-tls-ca)"], "did not sign"),
        (MISMATCH, ConfigurationError, ["builder-tls-key (from input builder-tls-key)", "builder-tls-cert"], "is not the key of"),
        (PLAIN, DockerUnavailableError, ["builder-tls-ca, builder-tls-cert and builder-tls-key"], "wants TLS"),
    ],
)  # fmt: skip
def test_each_refusal_names_what_to_fix(
    message: str, kind: type[Exception], names: list[str], says: str
) -> None:
    error = engine_error(message, "tcp://127.0.0.1:23727", OPTIONS)
    assert type(error) is kind
    assert error.exit_code == (3 if kind is ConfigurationError else 4)
    assert says in str(error)
    for name in names:
        assert name in str(error)
    assert "HTTPSConnectionPool" not in str(error)  # the cause, not urllib3's wrapping


def test_the_context_is_the_one_docker_and_buildx_read(tmp_path: Path) -> None:
    """docker/cli's context store: meta/<sha256(name)>/meta.json and tls/<sha256>/docker/."""
    paths = write_context(str(tmp_path), "tcp://b:2376", {"ca": CERT, "cert": CERT, "key": KEY})
    key = hashlib.sha256(CONTEXT.encode()).hexdigest()
    meta = json.loads((tmp_path / "contexts" / "meta" / key / "meta.json").read_text())
    assert meta == context_meta("tcp://b:2376")
    assert meta["Endpoints"]["docker"] == {"Host": "tcp://b:2376", "SkipTLSVerify": False}
    folder = tmp_path / "contexts" / "tls" / key / "docker"
    assert paths == {n: str(folder / f"{n}.pem") for n in ("ca", "cert", "key")}
    assert Path(paths["key"]).read_text() == KEY
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_plain_tcp_engine_has_a_context_without_tls(tmp_path: Path) -> None:
    assert write_context(str(tmp_path), "tcp://127.0.0.1:2375", {}) == {}
    assert not (tmp_path / "contexts" / "tls").exists()


def test_buildx_create_of_a_remote_driver_builder_as_documented() -> None:
    """`docker buildx create --name N --driver remote --driver-opt cacert=…,cert=…,key=…,
    servername=… tcp://host:port`."""
    paths = {"ca": "/t/ca.pem", "cert": "/t/cert.pem", "key": "/t/key.pem"}
    command = create_command(("docker-buildx",), "pfd-1", "tcp://buildkitd.internal:1234", paths)
    assert command == [
        "docker-buildx", "create", "--name", "pfd-1", "--driver", "remote",
        "--driver-opt",
        "cacert=/t/ca.pem,cert=/t/cert.pem,key=/t/key.pem,servername=buildkitd.internal",
        "tcp://buildkitd.internal:1234",
    ]  # fmt: skip
    assert create_command(("docker", "buildx"), "n", "tcp://b:1234", {})[-1] == "tcp://b:1234"
    assert "--driver-opt" not in create_command(("docker-buildx",), "n", "tcp://b:1234", {})
    assert build_options(("docker-buildx",), "pfd-1") == (
        "docker-buildx", "build", "--builder", "pfd-1", "--load"
    )  # fmt: skip


def test_pem_is_text_or_a_file_and_every_line_is_masked(tmp_path: Path) -> None:
    assert pem_text(KEY, "builder-tls-key", "input builder-tls-key") == KEY + "\n"
    assert "MHcCAQEEIBkeyBODYlineOFbase64TEXTxx" in log._secrets
    path = tmp_path / "cert.pem"
    path.write_text(CERT + "\n")
    assert pem_text(str(path), "builder-tls-cert", "--builder-tls-cert") == CERT + "\n"
    assert pem_text("  ", "builder-tls-ca", "-") is None
    with pytest.raises(
        ConfigurationError, match=r"builder-tls-ca \(from --builder-tls-ca\) is neither"
    ):
        pem_text(str(tmp_path / "missing.pem"), "builder-tls-ca", "--builder-tls-ca")
    with pytest.raises(ConfigurationError, match="is not PEM"):
        pem_text("-----BEGIN CERTIFICATE-----\nno end", "builder-tls-cert", "-")


def test_the_build_client_is_pointed_at_the_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///elsewhere.sock")  # would win over a context
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    site = Site(
        BuildPlan(), "/cfg", ("docker", "build"), env={"DOCKER_CONTEXT": CONTEXT},
        unset=("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CONTEXT"),
    )  # fmt: skip
    monkeypatch.setattr(engine_session, "_site", [site])
    env = build_env("/cfg")
    assert env["DOCKER_CONTEXT"] == CONTEXT and env["DOCKER_CONFIG"] == "/cfg"
    assert "DOCKER_HOST" not in env and "DOCKER_TLS_VERIFY" not in env
    assert env["DOCKER_BUILDKIT"] == "1"
    assert build_site.build_command() == ("docker", "build")


class FakeClient:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_the_tls_files_live_only_while_the_builder_is_open(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(run_files, "_run_dir", [str(tmp_path)])
    client = FakeClient()
    seen: dict[str, str] = {}

    def engine_client(address: str, paths: dict[str, str], options: Options) -> FakeClient:
        seen.update(paths)
        assert Path(paths["key"]).read_text() == KEY + "\n"
        return client

    monkeypatch.setattr(build_site, "engine_client", engine_client)
    monkeypatch.setattr(leftovers, "sweep_engine", lambda _client: 0)
    options = Options(
        registry="reg/flows", builder="tcp://b:2376", builder_tls_cert=CERT, builder_tls_key=KEY
    )
    logins = Logins({"reg": Credentials("u", "p")})
    plan = build_plan(options.builder, options.registry, (None, CERT, KEY))
    with opened(plan, options, logins, building=False) as site:
        assert site.config_dir is not None and site.client is client
        assert site.config_dir in cancellation._dirs  # a signal removes it first
        assert engine_session.docker_client() is client  # the check and the push go there
        config = json.loads(Path(site.config_dir, "config.json").read_text())
        assert set(config["auths"]) == {"reg"}
        assert stat.S_IMODE(os.stat(Path(site.config_dir, "config.json")).st_mode) == 0o600
    assert not Path(site.config_dir).exists() and not Path(seen["key"]).exists()
    assert site.config_dir not in cancellation._dirs
    assert client.closed and engine_session.current() is None


def test_the_files_go_when_the_builder_refuses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(run_files, "_run_dir", [str(tmp_path)])

    def refuse(address: str, paths: dict[str, str], options: Options) -> None:
        raise engine_error(REFUSED, address, options)

    monkeypatch.setattr(build_site, "engine_client", refuse)
    options = Options(
        registry="reg/flows", builder="tcp://b:2376", builder_tls_key=KEY, builder_tls_cert=CERT
    )
    plan = build_plan(options.builder, options.registry, (None, CERT, KEY))
    with pytest.raises(DockerUnavailableError), opened(plan, options, Logins({}), False):
        pass
    assert list(tmp_path.iterdir()) == []


def test_an_ssh_builder_without_an_ssh_client_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(run_files, "_run_dir", [str(tmp_path)])
    monkeypatch.setattr(build_site.shutil, "which", lambda _name: None)
    options = Options(
        registry="reg/flows", builder="ssh://ci@builder", sources={"builder": "input builder"}
    )
    with (
        pytest.raises(DockerUnavailableError, match=r"\(from input builder\) needs an ssh client"),
        opened(build_plan(options.builder, options.registry), options, Logins({}), True),
    ):
        pass
    assert list(tmp_path.iterdir()) == []
