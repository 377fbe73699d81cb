"""The build-seconds label: read back, and stamped onto a pushed image through the registry
API as the distribution spec words it (a blob upload: POST then PUT ?digest=, then the
manifest PUT under its tag), against a registry that checks each step. The real registry
does the same in tests/integration/test_shared_builder.py."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from prefect_flow_deploy.clients import build_seconds
from prefect_flow_deploy.clients.build_seconds import LABEL, labelled_config, read, recorded, stamp
from prefect_flow_deploy.clients.registry import RegistryClient, image_labels
from tests.oci_registry import registry_through

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class SpecRegistry(httpx.BaseTransport):
    """Manifests and blobs by digest, tags, and monolithic blob uploads; a blob whose bytes
    do not hash to the digest given, or a manifest naming a blob it does not have, is
    refused as distribution refuses them (DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN)."""

    def __init__(self, refuse_uploads: bool = False) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.tags: dict[str, str] = {}
        self.refuse_uploads = refuse_uploads

    def push(self, tag: str, config: dict[str, object]) -> str:
        blob = json.dumps(config).encode()
        self.blobs[digest(blob)] = blob
        layer = b"layer"
        self.blobs[digest(layer)] = layer
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_V2,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": len(blob),
                    "digest": digest(blob),
                },
                "layers": [{"mediaType": "x", "size": 5, "digest": digest(layer)}],
            }
        ).encode()
        self.manifests[digest(manifest)] = manifest
        self.tags[tag] = digest(manifest)
        return digest(manifest)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if "/blobs/uploads/" in path:
            if self.refuse_uploads:
                return httpx.Response(403, json={"errors": [{"code": "DENIED"}]})
            if method == "POST":
                return httpx.Response(202, headers={"Location": "/v2/r/blobs/uploads/u1?_state=s"})
            wanted = request.url.params["digest"]
            assert request.url.params["_state"] == "s"  # the Location's own query is kept
            if digest(request.content) != wanted:
                return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID"}]})
            self.blobs[wanted] = request.content
            return httpx.Response(201, headers={"Docker-Content-Digest": wanted})
        if "/blobs/" in path:
            blob = self.blobs.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, content=blob) if blob else httpx.Response(404)
        reference = path.rsplit("/", 1)[1]
        if method == "PUT":
            manifest = json.loads(request.content)
            if manifest["config"]["digest"] not in self.blobs:
                return httpx.Response(400, json={"errors": [{"code": "MANIFEST_BLOB_UNKNOWN"}]})
            assert request.headers["Content-Type"] == MANIFEST_V2
            self.manifests[digest(request.content)] = request.content
            self.tags[reference] = digest(request.content)
            return httpx.Response(201, headers={"Docker-Content-Digest": digest(request.content)})
        found = self.manifests.get(self.tags.get(reference, reference))
        if found is None:
            return httpx.Response(404)
        return httpx.Response(
            200,
            content=found,
            headers={"Content-Type": MANIFEST_V2, "Docker-Content-Digest": digest(found)},
        )


@pytest.fixture
def spec_registry(monkeypatch: pytest.MonkeyPatch) -> SpecRegistry:
    fake = SpecRegistry()
    registry_through(monkeypatch, lambda **_: fake)
    return fake


def test_the_label_reads_back_as_seconds() -> None:
    assert read({LABEL: "42.5"}) == 42.5
    assert read({}) is None and read({LABEL: "soon"}) is None and read({LABEL: "-1"}) is None


def test_the_config_gains_the_label_and_keeps_everything_else() -> None:
    config = {
        "architecture": "amd64",
        "config": {"Labels": {"a": "1"}, "Cmd": ["python"]},
        "moby.buildkit.cache.v0": "inline cache",
        "rootfs": {"diff_ids": ["sha256:x"]},
    }
    changed = json.loads(labelled_config(json.dumps(config).encode(), {LABEL: "3.0"}))
    assert changed["config"]["Labels"] == {"a": "1", LABEL: "3.0"}
    assert {k: v for k, v in changed.items() if k != "config"} == {
        k: v for k, v in config.items() if k != "config"
    }
    assert changed["config"]["Cmd"] == ["python"]
    assert json.loads(labelled_config(b'{"config": null}', {LABEL: "1"}))["config"] == {
        "Labels": {LABEL: "1"}
    }


def test_a_pushed_image_is_stamped_under_its_tag(spec_registry: SpecRegistry) -> None:
    pushed = spec_registry.push("abc", {"config": {"Labels": {"io.x": "y"}}})
    client = RegistryClient()
    new = stamp(client, "localhost:5000/r:abc", pushed, 12.345)
    assert new != pushed and spec_registry.tags["abc"] == new
    assert image_labels(client, "localhost:5000/r:abc") == {"io.x": "y", LABEL: "12.3"}
    before, after = (json.loads(spec_registry.manifests[d]) for d in (pushed, new))
    assert before["layers"] == after["layers"]  # the same image, one label more


def test_a_refused_upload_is_a_warning_and_the_digest_stays(
    spec_registry: SpecRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    pushed = spec_registry.push("abc", {"config": {}})
    spec_registry.refuse_uploads = True
    assert recorded(RegistryClient(), "localhost:5000/r:abc", pushed, 5.0) == pushed
    assert "its build time was not recorded" in capsys.readouterr().err
    assert spec_registry.tags["abc"] == pushed


def test_an_index_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    index = json.dumps({"schemaVersion": 2, "manifests": []}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"  # nothing written
        return httpx.Response(200, content=index, headers={"Content-Type": "x"})

    registry_through(monkeypatch, lambda **_: httpx.MockTransport(answer))
    assert build_seconds.stamp(RegistryClient(), "localhost:5000/r:t", "sha256:i", 1.0) == (
        "sha256:i"
    )
