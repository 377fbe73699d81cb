"""GHCR's images as GitHub package versions (GHCR takes no manifest DELETE): the package found
under the organisation or else the user, its tagged versions page by page, a version deleted
(gone already counts), a refusal said with what the token needs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from prefect_flow_deploy.clients import ghcr
from prefect_flow_deploy.clients.ghcr import PackagesClient
from prefect_flow_deploy.core.errors import RegistryError

USER = "http://api/users/acme/packages/container/flows%2Fsales%2Fdaily/versions"
VERSIONS = [
    {"id": 3, "name": "sha256:c", "created_at": "2024-03", "metadata": {"container": {"tags": ["c"]}}},
    {"id": 2, "name": "sha256:b", "created_at": "2024-02", "metadata": {"container": {"tags": []}}},
    {"id": 1, "name": "sha256:a", "created_at": "2024-01", "metadata": {"container": {"tags": ["a", "v1"]}}},
]  # fmt: skip


def client(monkeypatch: pytest.MonkeyPatch, answer: Any) -> tuple[PackagesClient, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return answer(request)

    monkeypatch.setattr(ghcr, "client_transport", lambda: httpx.MockTransport(handler))
    monkeypatch.setattr(ghcr, "PER_PAGE", 2)
    return PackagesClient("token", "http://api/"), seen


def github(request: httpx.Request) -> httpx.Response:
    assert request.headers["Authorization"] == "Bearer token"
    url = str(request.url).split("?")[0]
    if "/orgs/" in url:
        return httpx.Response(404, json={"message": "Not Found"})
    if request.method == "DELETE":
        return httpx.Response(204 if url.endswith("/1") else 404)
    page = int(request.url.params.get("page", 1))
    per_page = int(request.url.params["per_page"])
    return httpx.Response(200, json=VERSIONS[(page - 1) * per_page : page * per_page])


def test_tagged_versions_of_a_user_s_package_page_by_page(monkeypatch: pytest.MonkeyPatch) -> None:
    packages, seen = client(monkeypatch, github)
    images = packages.list_images("ghcr.io/acme/flows/sales/daily")
    assert [(i.digest, i.tags, i.created, i.version_id) for i in images] == [
        ("sha256:c", ("c",), "2024-03", 3),
        ("sha256:a", ("a", "v1"), "2024-01", 1),
    ]
    assert seen[0].startswith("GET http://api/orgs/acme/packages/container/flows%2Fsales%2Fdaily")
    assert sum(USER in s for s in seen) == 3  # the look-up, then two pages
    assert packages.delete("ghcr.io/acme/flows/sales/daily", 1) is None
    assert packages.delete("ghcr.io/acme/flows/sales/daily", 2) is None  # gone already
    assert packages.delete("ghcr.io/acme/flows/sales/daily", None) is None
    assert sum(s.startswith("GET") and "per_page=1" in s for s in seen) == 2  # looked up once


def test_a_package_not_pushed_yet_has_no_images(monkeypatch: pytest.MonkeyPatch) -> None:
    packages, _ = client(monkeypatch, lambda _r: httpx.Response(404, json={"message": "nope"}))
    assert packages.list_images("ghcr.io/acme/flows/new") == []


def test_a_token_that_may_not_read_the_package_says_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packages, _ = client(monkeypatch, lambda _r: httpx.Response(403, json={"message": "denied"}))
    with pytest.raises(RegistryError, match=r"HTTP 403: denied.*delete:packages"):
        packages.list_images("ghcr.io/acme/flows/sales")


def test_a_refused_delete_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_deletes(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(403, json={"message": "Must have admin rights"})
        return httpx.Response(200, json=[])

    packages, _ = client(monkeypatch, refuse_deletes)
    assert packages.delete("ghcr.io/acme/flows/sales", 7) == "HTTP 403: Must have admin rights"
