"""Each folder's last measured build time, kept as a label on its image, so that sharding by
cost (shards.py) needs no state outside the registry.

A build cannot label its own image with how long it took, so the label is added after the
push, in the registry: the image's config with the label added is uploaded as a new blob and
the manifest is put again under the same tag (same layers; the config, hence the digest,
differs from the engine's copy). Planning reads it back from the labels it already reads of
the image a folder's deployments run now (gather: what changed since), so the matrix costs
no request more. A registry that refuses is a warning: the folder then counts as the median.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import httpx

from prefect_flow_deploy.clients.image_names import parse_reference
from prefect_flow_deploy.clients.registry import RegistryClient
from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.core.logger import log

LABEL = "io.prefect-flow-deploy.build-seconds"
_CONFIG_TYPES = (
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
)


def read(labels: Mapping[str, str]) -> float | None:
    """The build seconds a label holds; None when absent or not a number."""
    try:
        seconds = float(labels[LABEL])
    except (KeyError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def label_value(seconds: float) -> str:
    return f"{seconds:.1f}"


def labelled_config(config: bytes, labels: Mapping[str, str]) -> bytes:
    """An image config (JSON) with `labels` added to its `config.Labels`; the rest as it was."""
    data = json.loads(config)
    section = data.setdefault("config", {}) or {}
    data["config"] = section
    section["Labels"] = {**(section.get("Labels") or {}), **labels}
    return json.dumps(data, separators=(",", ":")).encode()


def stamp(registry: RegistryClient, reference: str, digest: str, seconds: float) -> str:
    """Put the image `reference` (pushed as `digest`) again with the build-seconds label;
    return the new digest. RegistryError when the registry refuses a step."""
    image = parse_reference(reference)
    base = f"{registry._base_url(image)}/v2/{image.repository}"
    push = f"repository:{image.repository}:pull,push"
    answer = registry._request("GET", f"{base}/manifests/{digest or image.reference}", image)
    _expect(answer, 200, f"reading the manifest of {reference}")
    media_type = answer.headers.get("Content-Type", "").split(";")[0]
    manifest = answer.json()
    config = manifest.get("config") if isinstance(manifest, dict) else None
    if not isinstance(config, dict) or config.get("mediaType") not in _CONFIG_TYPES:
        return digest  # not a plain image (an index): nothing to label here
    blob = registry._request("GET", f"{base}/blobs/{config['digest']}", image)
    _expect(blob, 200, f"reading the config of {reference}")
    body = labelled_config(blob.content, {LABEL: label_value(seconds)})
    new = "sha256:" + hashlib.sha256(body).hexdigest()
    started = registry._request("POST", f"{base}/blobs/uploads/", image, scope=push)
    _expect(started, 202, f"uploading the labelled config of {reference}")
    location = httpx.URL(base).join(started.headers["Location"])
    put = registry._request(
        "PUT", str(location.copy_merge_params({"digest": new})), image, scope=push,
        content=body, content_type="application/octet-stream",
    )  # fmt: skip
    _expect(put, 201, f"uploading the labelled config of {reference}")
    manifest["config"] = {**config, "digest": new, "size": len(body)}
    document = json.dumps(manifest, indent=3).encode()
    answer = registry._request(
        "PUT", f"{base}/manifests/{image.reference}", image, scope=push,
        content=document, content_type=media_type,
    )  # fmt: skip
    _expect(answer, 201, f"putting the labelled manifest of {reference}")
    return answer.headers.get("Docker-Content-Digest") or (
        "sha256:" + hashlib.sha256(document).hexdigest()
    )


def recorded(registry: RegistryClient, reference: str, digest: str, seconds: float) -> str:
    """`stamp`, or a warning when the registry refuses (the digest then stays as pushed)."""
    try:
        return stamp(registry, reference, digest, seconds)
    except RegistryError as exc:
        log.warning(
            f"{reference}: its build time was not recorded ({exc}); the fan-out matrix counts "
            "the folder as the median",
            title="Build time",
        )
        return digest


def _expect(response: httpx.Response, status: int, what: str) -> None:
    """The status the distribution API answers on success (a PUT: 201, or 200 on some)."""
    if response.status_code != status and not (status == 201 and response.status_code == 200):
        raise RegistryError(f"{what}: HTTP {response.status_code} {response.text[:200]}")
