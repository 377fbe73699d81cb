"""GHCR's images through GitHub's Packages API: GHCR does not accept the registry API's
manifest DELETE, so old images are removed as package versions.

Endpoints and JSON (github/rest-api-description, descriptions/api.github.com/
api.github.com.yaml): `GET /orgs/{org}/packages/{package_type}/{package_name}/versions`
(`packages/get-all-package-versions-for-package-owned-by-org`, and the same under
`/users/{username}/`), `DELETE …/versions/{package_version_id}` (204), each item a
`#/components/schemas/package-version`: `id`, `name` (the manifest digest for a container),
`created_at`, `metadata.container.tags`. A container package is named after the image path
below the owner (`ghcr.io/acme/flows/sales/daily` → owner `acme`, package `flows/sales/daily`,
URL-encoded). Deleting needs a token that may delete the package: the workflow's
GITHUB_TOKEN with `packages: write` when the repository has the Admin role on the package,
or a classic token with `read:packages` and `delete:packages`.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import httpx

from prefect_flow_deploy.clients.http_retry import client_transport, proxy_mounts
from prefect_flow_deploy.clients.stored_images import StoredImage
from prefect_flow_deploy.core.errors import RegistryError

GHCR = "ghcr.io"
PER_PAGE = 100


class PackagesClient:
    def __init__(self, token: str | None, api_url: str | None = None) -> None:
        self.api_url = (
            api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        ).rstrip("/")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            headers=headers, timeout=30, transport=client_transport(), mounts=proxy_mounts()
        )
        self._bases: dict[str, str | None] = {}

    def close(self) -> None:
        self._http.close()

    def list_images(self, repository: str) -> list[StoredImage]:
        """The package's tagged versions (untagged ones may be the platform images of a
        multi-platform index: never touched)."""
        base = self._versions_url(repository)
        if base is None:
            return []
        images: list[StoredImage] = []
        page = 1
        while True:
            response = self._http.get(base, params={"per_page": PER_PAGE, "page": page})
            self._check(response, repository)
            versions = response.json()
            for version in versions:
                tags = ((version.get("metadata") or {}).get("container") or {}).get("tags") or []
                if tags:
                    images.append(
                        StoredImage(
                            repository, version["name"], tuple(tags), version["created_at"],
                            version_id=int(version["id"]),
                        )
                    )  # fmt: skip
            if len(versions) < PER_PAGE:
                return images
            page += 1

    def delete(self, repository: str, version_id: int | None) -> str | None:
        """None when deleted (or already gone); else why GitHub refused."""
        base = self._versions_url(repository)
        if base is None or version_id is None:
            return None
        response = self._http.delete(f"{base}/{version_id}")
        if response.status_code in (204, 404):
            return None
        return f"HTTP {response.status_code}: {_message(response)}"

    def _versions_url(self, repository: str) -> str | None:
        """The package's versions endpoint: an organisation's, else a user's; None when the
        package does not exist (nothing pushed yet)."""
        if repository in self._bases:
            return self._bases[repository]
        _, owner, package = repository.split("/", 2)
        found = None
        for scope in ("orgs", "users"):
            url = f"{self.api_url}/{scope}/{owner}/packages/container/{quote(package, safe='')}/versions"
            response = self._http.get(url, params={"per_page": 1})
            if response.status_code == 404:
                continue
            self._check(response, repository)
            found = url
            break
        self._bases[repository] = found
        return found

    def _check(self, response: httpx.Response, repository: str) -> None:
        if response.status_code in (401, 403):
            raise RegistryError(
                f"GitHub refused to list the package versions of {repository} (HTTP "
                f"{response.status_code}: {_message(response)}). keep-images on ghcr.io needs a "
                "token that may read and delete the package: `permissions: packages: write` "
                "with the repository given the Admin role on the package, or a classic token "
                "with read:packages and delete:packages."
            )
        if response.status_code >= 400:
            raise RegistryError(
                f"GitHub answered HTTP {response.status_code} for the package of {repository}: "
                f"{_message(response)}"
            )


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.text[:200]
