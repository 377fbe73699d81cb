"""Build secrets against the real engine and registry, through the command line as a user
runs it: a canary value is present during the build (a RUN checks its hash), and absent from
every layer (`docker save`), the image history, the image config (which holds BuildKit's
inline cache, the cache export the next build reuses), every blob pushed to the registry,
and the log and --json output, even when a RUN prints it. A rotated value keeps the tag."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import urllib.request
import uuid

import pytest

from ..conftest import Scenario, Stack, write_flow
from .test_cli import cli, common

pytestmark = pytest.mark.stack
DOCKER = "/usr/bin/docker"


def own_dockerfile(check: str) -> str:
    return (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        f"RUN --mount=type=secret,id=canary {check}\n"
        "WORKDIR /opt/flow\nCOPY . .\n"
    )


def streams_contain(command: list[str], needles: list[bytes]) -> list[bytes]:
    """The needles found in a command's output, read in chunks (an image is hundreds of MB)."""
    found: set[bytes] = set()
    overlap = max(map(len, needles))
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        tail = b""
        while chunk := process.stdout.read(1 << 22):
            window = tail + chunk
            found.update(n for n in needles if n in window)
            tail = window[-overlap:]
    assert process.returncode == 0, command
    return sorted(found)


def registry_blobs(
    reference: str, skip: set[str], auth: tuple[str, str] | None = None
) -> dict[str, bytes]:
    """The image's manifest, config and layer blobs (uncompressed) as the registry serves
    them, without the base image's layers (`skip`); `auth`: a basic-auth login."""
    host, _, rest = reference.partition("/")
    repository, tag = rest.rsplit(":", 1)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    request = urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}", headers={"Accept": accept, **headers}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        manifest = answer.read()
    blobs = {"manifest": manifest}
    parsed = json.loads(manifest)
    for entry in [parsed["config"], *parsed["layers"]]:
        if entry["digest"] in skip:
            continue
        url = f"http://{host}/v2/{repository}/blobs/{entry['digest']}"
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=120
        ) as answer:
            data = answer.read()
        blobs[entry["digest"]] = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return blobs


def layer_digests(reference: str) -> set[str]:
    """The layers of an image in the registry (for the base: shared, so not searched)."""
    host, _, rest = reference.partition("/")
    repository, tag = rest.rsplit(":", 1)
    request = urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return {layer["digest"] for layer in json.loads(answer.read())["layers"]}


def test_a_build_secret_is_used_and_never_kept(stack: Stack, scenario: Scenario) -> None:
    canary = f"pfd-canary-{uuid.uuid4().hex}"
    index_token = f"pfd-index-token-{uuid.uuid4().hex}"
    canary_sha = hashlib.sha256(canary.encode()).hexdigest()
    # A folder's own Dockerfile: the build fails unless the secret is there, with this value.
    write_flow(
        scenario.folder("s", "own"),
        "own",
        Dockerfile=own_dockerfile(
            f"sh -c 'test \"$(sha256sum < /run/secrets/canary | cut -c1-64)\" = {canary_sha}'"
        ),
    )
    # The default recipe: pip reads its index from the `pip-index-url` secret.
    # (A comment of its own: the engine's layer cache must not answer for pip.)
    requirements = f"# {scenario.suffix}\nsix==1.17.0\n"
    write_flow(scenario.folder("s", "recipe"), "recipe", requirements__txt=requirements)
    # A Dockerfile that prints the secret, then fails: its log tail is in the error message.
    write_flow(
        scenario.folder("s", "leaky"),
        "leaky",
        Dockerfile=own_dockerfile("sh -c 'cat /run/secrets/canary; echo; exit 3'"),
    )
    secrets = ["--build-secret", f"canary={canary}"]
    env = {
        **os.environ,
        "PFD_VERBOSE": "1",  # every build log on stderr, to search it
        "PFD_BUILD_SECRETS": f"pip-index-url=https://pfd:{index_token}@pypi.org/simple\n",
    }

    done = cli("deploy", "--json", *common(scenario, stack), *secrets, env=env)

    rows = json.loads(done.stdout)
    status = {row["folder"]: row["status"] for row in rows}
    assert status == {"own": "created", "recipe": "created", "leaky": "failed"}, done.stderr
    assert done.returncode == 1
    # The index from the secret was used (pip names it, with the password hidden) ...
    assert "Looking in indexes: https://pfd:****@pypi.org/simple" in done.stderr
    # ... and the printed secret was replaced in the log and in the JSON error.
    leaky = next(row for row in rows if row["folder"] == "leaky")
    assert "***" in leaky["error"] and "***" in done.stderr
    needles = [canary.encode(), index_token.encode()]
    for text in (done.stdout, done.stderr):
        assert not [n for n in needles if n.decode() in text]

    base_layers = layer_digests(stack.base_image)
    for row in (r for r in rows if r["status"] == "created"):
        image = row["image"]
        assert not streams_contain([DOCKER, "save", image], needles), f"{image}: docker save"
        history = subprocess.run(
            [DOCKER, "history", "--no-trunc", image], capture_output=True, check=True
        ).stdout
        config = subprocess.run(
            [DOCKER, "image", "inspect", image], capture_output=True, check=True
        ).stdout
        pushed = registry_blobs(image, base_layers)
        config_blob = pushed[json.loads(pushed["manifest"])["config"]["digest"]]
        # The inline cache export (what the next build's --cache-from reads) is in there.
        assert b"moby.buildkit.cache.v0" in config_blob
        for name, data in {"history": history, "config": config, **pushed}.items():
            assert not [n for n in needles if n in data], f"{image}: {name}"

    # A rotated value names the same content: nothing to build. A new secret id would not.
    rotated_env = {**env, "PFD_BUILD_SECRETS": "pip-index-url=https://pfd:rotated@pypi.org/simple"}
    rotated = cli(
        "plan", "--json", *common(scenario, stack), "--build-secret", "canary=rotated",
        env=rotated_env,
    )  # fmt: skip
    plan = json.loads(rotated.stdout)
    actions = {item["folder"].rsplit("/", 1)[1]: item["image_action"] for item in plan["items"]}
    assert actions["own"] == actions["recipe"] == "exists", rotated.stderr


def test_a_bad_secret_line_stops_before_anything_runs_and_is_not_printed(
    stack: Stack, scenario: Scenario
) -> None:
    write_flow(scenario.folder("s", "one"), "one")
    done = cli("plan", *common(scenario, stack), "--build-secret", "no-equals-s3cr3t-value")
    assert done.returncode == 3
    assert "--build-secret, value 1: expected `id=value`" in done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr
