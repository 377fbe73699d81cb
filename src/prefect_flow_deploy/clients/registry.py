"""Ask a registry about tags, over the distribution (OCI) HTTP API, without a Docker engine.

`plan` must work where no engine runs, and one HEAD request per tag is the cheapest way to
know whether an image already exists (the skip key of "only what changed") and what digest a
base tag points at now. Auth: anonymous or basic credentials, with the registry's bearer-token
challenge handled as Docker does.
"""

from __future__ import annotations

import base64

# Registered before any thread resolves a host name: threads that first look up the idna
# codec at the same time can fail with "LookupError: unknown encoding: idna" (it broke the
# benchmark's threaded baseline here).
import encodings.idna  # noqa: F401
import enum
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import replace

import httpx

from prefect_flow_deploy.clients.direct_heads import DirectHeads
from prefect_flow_deploy.clients.http_pools import ThreadClients
from prefect_flow_deploy.clients.image_names import (
    ImageName,
    is_loopback,
    loopback_advice,
    parse_reference,
)
from prefect_flow_deploy.clients.pumped_heads import PumpedHeads
from prefect_flow_deploy.clients.stored_images import REPOSITORY_LABEL, StoredImage
from prefect_flow_deploy.core.credentials import Credentials
from prefect_flow_deploy.core.errors import RegistryError

_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class Ask(enum.Enum):
    """A pumped HEAD's answer says nothing: ask through `manifest_digest`."""

    AGAIN = "again"


ASK = Ask.AGAIN
CLIENT_POOLS = 4  # the threads' questions spread over four connection pools (http_pools.py)


class RegistryClient:
    """Thread-safe; one per run. `credentials` maps a registry host to its login."""

    def __init__(
        self, credentials: Mapping[str, Credentials] | None = None, timeout: float = 15.0
    ) -> None:
        # A Mapping: docker_auth.Logins asks a credential helper only for a host that challenges.
        self._credentials = credentials if credentials is not None else {}
        # Keep a connection alive for every plan thread: with httpx's default of 20, 12 of
        # the 32 threads asking at once would reconnect (a TLS handshake each, on a real
        # registry). Same speed on the loopback registry here.
        self._clients = ThreadClients(CLIENT_POOLS, connections=64, timeout=timeout)
        # A HEAD's plain answers without httpx: a third of its CPU (direct_heads.py).
        self._heads = DirectHeads.for_environment(timeout)
        self._timeout = timeout
        self._tokens: dict[tuple[str, str], str] = {}
        self._challenged: set[str] = set()  # hosts that asked for a login (tokens by scope)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._clients.close()
        if self._heads is not None:
            self._heads.close()

    def manifest_digest(self, reference: str) -> str | None:
        """The digest the reference points at, or None when the tag does not exist."""
        image = parse_reference(reference)
        if image.reference.startswith("sha256:"):
            return image.reference
        url = self._manifest_url(image)
        response = self._request("HEAD", url, image)
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            raise RegistryError(
                f"{image.host} refused access to {image.repository} (HTTP {response.status_code}). "
                "Check registry-username and registry-password (a token with read and write "
                "access to packages), or log in to it in an earlier step (docker/login-action with "
                "DOCKER_CONFIG set as the README says)."
            )
        if response.status_code >= 400:
            raise RegistryError(
                f"{image.host} answered HTTP {response.status_code} for {reference}"
            )
        return response.headers.get("Docker-Content-Digest") or _digest_from_body(self, url, image)

    # -- the same question, asked without waiting (pumped_heads.py) ------------------------
    def head_pump(self) -> PumpedHeads | None:
        """HEADs sent from the calling thread, answered later; None through a proxy (httpx's
        routes decide every request)."""
        return PumpedHeads(self._timeout) if self._heads is not None else None

    def pumped_head(self, reference: str) -> tuple[str, dict[str, str]] | None:
        """The URL and headers of the tag's manifest HEAD, or None where `manifest_digest`
        must ask: a host that asked for a login this client has no token for yet."""
        image = parse_reference(reference)
        headers = self._headers(image, f"repository:{image.repository}:pull")
        if "Authorization" not in headers and image.host in self._challenged:
            return None
        return self._manifest_url(image), headers

    def pumped_digest(self, reference: str, answer: httpx.Response | None) -> str | Ask | None:
        """`manifest_digest` from a pumped HEAD's answer, or ASK: anything but a plain found
        or not found is asked again through `manifest_digest` (its login, errors, messages)."""
        status = answer.status_code if answer is not None else 0
        if status == 404:
            return None
        digest = answer.headers.get("Docker-Content-Digest", "") if answer is not None else ""
        if status == 200 and digest:
            return str(digest)
        if status == 401:
            self._challenged.add(parse_reference(reference).host)
        return ASK

    def repositories(self, prefix: str) -> set[str] | None:
        """Every repository under `prefix` (host/path), from the registry's catalog; None when
        the registry does not offer one (GHCR and Docker Hub do not). Lets a plan skip the
        per-tag question for folders whose repository does not even exist yet."""
        host, _, path = prefix.partition("/")
        image = ImageName(host, path or "_catalog", "latest")
        url: str | None = f"{self._base_url(image)}/v2/_catalog?n=1000"
        found: set[str] = set()
        while url:
            try:
                response = self._request("GET", url, image, scope="registry:catalog:*")
            except RegistryError:
                return None
            if response.status_code != 200:
                return None
            try:
                names = response.json().get("repositories") or []
            except ValueError:
                return None
            found.update(n for n in names if not path or n == path or n.startswith(path + "/"))
            next_link = response.links.get("next", {}).get("url")
            url = str(httpx.URL(url).join(next_link)) if next_link else None
        return found

    # -- retention (keep-images) -------------------------------------------------------------
    def list_images(self, repository: str) -> list[StoredImage]:
        """Every image of a repository (host/path): its tags grouped by manifest digest, with
        the creation time from its config and the sizes of its blobs (registry API v2)."""
        image = parse_reference(repository + ":x")
        base = f"{self._base_url(image)}/v2/{image.repository}"
        tags: list[str] = []
        url: str | None = f"{base}/tags/list?n=1000"
        while url:
            response = self._request("GET", url, image)
            if response.status_code == 404:
                return []
            _raise_for(response, image)
            tags += response.json().get("tags") or []
            next_link = response.links.get("next", {}).get("url")
            url = str(httpx.URL(url).join(next_link)) if next_link else None
        by_digest: dict[str, StoredImage] = {}
        for tag in sorted(tags):
            stored = by_digest.get(self._digest_of(base, image, tag) or "")
            if stored is not None:
                by_digest[stored.digest] = replace(stored, tags=(*stored.tags, tag))
                continue
            found = self._describe(base, image, repository, tag)
            if found is not None:
                by_digest[found.digest] = found
        return list(by_digest.values())

    def delete_manifest(self, repository: str, digest: str) -> str | None:
        """Delete an image by digest (every tag pointing at it goes with it). None when
        done (or already gone); else why the registry refused."""
        image = parse_reference(f"{repository}@{digest}")
        url = f"{self._base_url(image)}/v2/{image.repository}/manifests/{digest}"
        response = self._request(
            "DELETE", url, image, scope=f"repository:{image.repository}:delete"
        )
        if response.status_code in (200, 202, 404):
            return None
        return f"HTTP {response.status_code} {_error_code(response)}".strip()

    def _digest_of(self, base: str, image: ImageName, tag: str) -> str | None:
        response = self._request("HEAD", f"{base}/manifests/{tag}", image)
        return (
            response.headers.get("Docker-Content-Digest") if response.status_code == 200 else None
        )

    def _describe(
        self, base: str, image: ImageName, repository: str, tag: str
    ) -> StoredImage | None:
        response = self._request("GET", f"{base}/manifests/{tag}", image)
        if response.status_code != 200:
            return None
        digest = response.headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(response.content).hexdigest()
        )
        manifest = response.json()
        blobs: list[tuple[str, int]] = [(digest, len(response.content))]
        children: tuple[str, ...] = ()
        config = manifest.get("config")
        if not isinstance(config, dict) and isinstance(manifest.get("manifests"), list):
            # An index: its platform images are part of it; its creation time and labels
            # are its (amd64, else first) platform image's.
            entries = [m for m in manifest["manifests"] if isinstance(m, dict)]
            children = tuple(str(m.get("digest")) for m in entries)
            chosen = next(
                (m for m in entries if (m.get("platform") or {}).get("architecture") == "amd64"),
                entries[0] if entries else None,
            )
            part = (
                self._request("GET", f"{base}/manifests/{chosen['digest']}", image)
                if chosen
                else None
            )
            inner = part.json() if part is not None and part.status_code == 200 else {}
            config = inner.get("config")
        created, labels = "", dict[str, object]()
        if isinstance(config, dict):
            if not children:  # an image manifest: its own sizes (an index tells none)
                blobs += [(config["digest"], int(config.get("size") or 0))]
                blobs += [
                    (layer["digest"], int(layer.get("size") or 0))
                    for layer in manifest.get("layers") or []
                ]
            blob = self._request("GET", f"{base}/blobs/{config['digest']}", image)
            if blob.status_code == 200:
                data = blob.json()
                created = str(data.get("created") or "")
                labels = (data.get("config") or {}).get("Labels") or {}
        return StoredImage(
            repository, digest, (tag,), created, tuple(blobs) if config and not children else (),
            owner=_owner(labels), children=children,
        )  # fmt: skip

    def put_manifest_list(self, reference: str, images: list[tuple[str, str]]) -> str:
        """Join per-platform images ((platform, digest), pushed to the reference's repository)
        into one manifest list under the reference's tag, as `docker manifest push` does;
        return the list's digest."""
        image = parse_reference(reference)
        base = f"{self._base_url(image)}/v2/{image.repository}"
        entries = []
        for platform, digest in images:
            response = self._request("HEAD", f"{base}/manifests/{digest}", image)
            if response.status_code != 200:
                raise RegistryError(
                    f"{image.host} has no image {digest} in {image.repository} for {platform} "
                    f"(HTTP {response.status_code}) to list under {reference}."
                )
            system, architecture, *variant = platform.split("/")
            entries.append(
                {
                    "mediaType": response.headers["Content-Type"],
                    "size": int(response.headers["Content-Length"]),
                    "digest": digest,
                    "platform": {
                        "architecture": architecture,
                        "os": system,
                        **({"variant": variant[0]} if variant else {}),
                    },
                }
            )
        body = json.dumps(
            {"schemaVersion": 2, "mediaType": MANIFEST_LIST, "manifests": entries}, indent=3
        ).encode()
        response = self._request(
            "PUT", f"{base}/manifests/{image.reference}", image,
            scope=f"repository:{image.repository}:pull,push", content=body,
            content_type=MANIFEST_LIST,
        )  # fmt: skip
        if response.status_code not in (200, 201):
            raise RegistryError(
                f"{image.host} refused the manifest list {reference} (HTTP "
                f"{response.status_code} {_error_code(response)})."
            )
        return response.headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )

    def exists(self, reference: str) -> bool:
        return self.manifest_digest(reference) is not None

    # -- plumbing ----------------------------------------------------------------------
    def _base_url(self, image: ImageName) -> str:
        scheme = "http" if is_loopback(image.host) else "https"
        return f"{scheme}://{image.api_host}"

    def _request(
        self,
        method: str,
        url: str,
        image: ImageName,
        scope: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        scope = scope or f"repository:{image.repository}:pull"
        headers = self._headers(image, scope)
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self._send(method, url, headers, content)
            if response.status_code == 401 and "WWW-Authenticate" in response.headers:
                token = self._authorize(image, scope, response.headers["WWW-Authenticate"])
                if token:
                    headers["Authorization"] = token
                    response = self._send(method, url, headers, content)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach the registry {image.host}: {exc.__class__.__name__}: {exc}. "
                "Check the registry address and that this runner can reach it."
                + loopback_advice(image.host)
            ) from exc
        return response

    def _headers(self, image: ImageName, scope: str) -> dict[str, str]:
        """A request's Accept, and the token this client holds for the scope, if any."""
        token = self._tokens.get((image.host, scope))
        return {"Accept": _MANIFEST_TYPES, **({"Authorization": token} if token else {})}

    def _manifest_url(self, image: ImageName) -> str:
        return f"{self._base_url(image)}/v2/{image.repository}/manifests/{image.reference}"

    def _send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None = None
    ) -> httpx.Response:
        if method == "HEAD" and self._heads is not None:
            answer = self._heads.head(url, headers)
            if answer is not None:
                return answer
        # Retried by the client's transport (http_retry): GHCR answers the odd 502 under load.
        return self._clients.request(method, url, headers=headers, content=content)

    def _authorize(self, image: ImageName, scope: str, challenge: str) -> str | None:
        login = self._credentials.get(image.host) or self._credentials.get(image.api_host)
        kind, _, params_text = challenge.partition(" ")
        if kind.lower() == "basic":
            if not login:
                return None
            value = _basic_authorization(login)
        else:
            params = dict(_CHALLENGE_PARAM.findall(params_text))
            query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
            auth = httpx.BasicAuth(login.username, login.password) if login else None
            response = self._clients.request("GET", params["realm"], params=query, auth=auth)
            if response.status_code >= 400:
                raise RegistryError(
                    f"{image.host} refused the login for {image.repository} "
                    f"(token endpoint answered HTTP {response.status_code}). Check "
                    "registry-username and registry-password."
                )
            body = response.json()
            value = f"Bearer {body.get('token') or body.get('access_token')}"
        with self._lock:
            self._tokens[(image.host, scope)] = value
        return value


def _basic_authorization(login: Credentials) -> str:
    """HTTP Basic (RFC 7617): base64 of `user:password` in UTF-8, as httpx.BasicAuth sends it."""
    pair = f"{login.username}:{login.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _owner(labels: object) -> str | None:
    value = labels.get(REPOSITORY_LABEL) if isinstance(labels, dict) else None
    return str(value) if value else None


def _raise_for(response: httpx.Response, image: ImageName) -> None:
    if response.status_code in (401, 403):
        raise RegistryError(
            f"{image.host} refused access to {image.repository} (HTTP {response.status_code})."
        )
    if response.status_code >= 400:
        raise RegistryError(
            f"{image.host} answered HTTP {response.status_code} for {image.repository}"
        )


def _error_code(response: httpx.Response) -> str:
    """The distribution API's error code (e.g. UNSUPPORTED when deletes are disabled)."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return ""
    return ", ".join(str(e.get("code")) for e in errors if isinstance(e, dict))


def _digest_from_body(client: RegistryClient, url: str, image: ImageName) -> str | None:
    """Some registries omit Docker-Content-Digest on HEAD: hash the manifest instead."""
    response = client._request("GET", url, image)
    if response.status_code != 200:
        return None
    return "sha256:" + hashlib.sha256(response.content).hexdigest()


def image_labels(client: RegistryClient, reference: str) -> dict[str, str]:
    """The labels of an image in a registry (manifest → config blob); {} when unavailable.

    Used only to explain a rebuild (which inputs changed since the deployed image)."""
    image = parse_reference(reference)
    base = client._base_url(image)
    try:
        response = client._request("GET", client._manifest_url(image), image)
        if response.status_code != 200:
            return {}
        manifest = response.json()
        if "manifests" in manifest:  # an index: take the linux/amd64 (or first) image
            entries = manifest["manifests"]
            chosen = next(
                (m for m in entries if (m.get("platform") or {}).get("architecture") == "amd64"),
                entries[0] if entries else None,
            )
            if not chosen:
                return {}
            response = client._request(
                "GET", f"{base}/v2/{image.repository}/manifests/{chosen['digest']}", image
            )
            manifest = response.json()
        config_digest = manifest["config"]["digest"]
        blob = client._request("GET", f"{base}/v2/{image.repository}/blobs/{config_digest}", image)
        if blob.status_code != 200:
            return {}
        labels = (blob.json().get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}
    except (RegistryError, ValueError, KeyError, TypeError):
        return {}
