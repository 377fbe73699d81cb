"""A stand-in for GitHub's Packages API (GHCR cannot be reached from here), speaking the real
paths and JSON: github/rest-api-description, descriptions/api.github.com/api.github.com.yaml,
operations `packages/get-all-package-versions-for-package-owned-by-org` and `…-by-user`
(`GET /{orgs|users}/{owner}/packages/{package_type}/{package_name}/versions`, `page`,
`per_page`), `packages/delete-package-version-for-org` and `…-for-user` (`DELETE
…/versions/{package_version_id}`, 204). Every version it answers is checked against
`#/components/schemas/package-version` (package-version.schema.json beside this file)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

SCHEMA = json.loads((Path(__file__).with_name("package-version.schema.json")).read_text())
_PATH = re.compile(
    r"^/(orgs|users)/([^/]+)/packages/([^/]+)/([^/]+)/versions(?:/(\d+))?$"
)  # the package name arrives URL-encoded: flows%2Fsales%2Fdaily


@dataclass
class FakePackages:
    token: str
    scope: str = "orgs"  # where the owner's packages live
    owner: str = "acme"
    packages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refuse_deletes: bool = False
    deleted: list[int] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def add(self, package: str, digest: str, tags: list[str], created: str) -> int:
        versions = self.packages.setdefault(package, [])
        version_id = 1000 + sum(len(v) for v in self.packages.values())
        encoded = package.replace("/", "%2F")
        version = {
            "id": version_id,
            "name": digest,
            "url": f"https://api.github.com/{self.scope}/{self.owner}/packages/container/{encoded}/versions/{version_id}",
            "package_html_url": f"https://github.com/{self.scope}/{self.owner}/packages/container/package/{encoded}",
            "html_url": f"https://github.com/{self.scope}/{self.owner}/packages/container/{encoded}/{version_id}",
            "created_at": created,
            "updated_at": created,
            "metadata": {"package_type": "container", "container": {"tags": tags}},
        }
        jsonschema.validate(version, SCHEMA)
        versions.append(version)
        return version_id


@contextmanager
def serve(fake: FakePackages) -> Iterator[FakePackages]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> tuple[list[dict[str, Any]], int | None] | None:
            fake.requests.append(f"{self.command} {self.path}")
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._answer(
                    401,
                    {
                        "message": "Requires authentication",
                        "documentation_url": "https://docs.github.com/rest",
                    },
                )
                return None
            match = _PATH.match(urlsplit(self.path).path)
            if not match:
                self._answer(404, {"message": "Not Found"})
                return None
            scope, owner, package_type, name, version_id = match.groups()
            package = unquote(name)
            if (
                (scope, owner) != (fake.scope, fake.owner)
                or package_type != "container"
                or package not in fake.packages
            ):
                self._answer(
                    404,
                    {
                        "message": "Package not found.",
                        "documentation_url": "https://docs.github.com/rest/packages/packages",
                    },
                )
                return None
            return fake.packages[package], int(version_id) if version_id else None

        def do_GET(self) -> None:
            routed = self._route()
            if routed is None:
                return
            versions, _ = routed
            query = parse_qs(urlsplit(self.path).query)
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            newest_first = sorted(versions, key=lambda v: v["created_at"], reverse=True)
            chunk = newest_first[(page - 1) * per_page : page * per_page]
            for version in chunk:
                jsonschema.validate(version, SCHEMA)
            self._answer(200, chunk)

        def do_DELETE(self) -> None:
            routed = self._route()
            if routed is None:
                return
            versions, version_id = routed
            if fake.refuse_deletes:
                self._answer(
                    403, {"message": "You must have admin permissions on the package to delete it."}
                )
                return
            match = next((v for v in versions if v["id"] == version_id), None)
            if match is None:
                self._answer(404, {"message": "Package version not found."})
                return
            versions.remove(match)
            fake.deleted.append(version_id)  # type: ignore[arg-type]
            self._answer(204)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
