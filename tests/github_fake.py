"""A stand-in for GitHub's REST API (github.com cannot be reached from here): EXACTLY the
endpoints the action calls, answering with GitHub's own JSON shapes.

The shapes come from GitHub's published OpenAPI description, github/rest-api-description
`descriptions/api.github.com/api.github.com.json` (OpenAPI 3.0.3), cut down by
scripts/github-openapi-subset.py to tests/fixtures/github/rest-subset.json. Each answer is
built from its schema (`instance`: every required property, then the values that matter)
and tests/unit/test_repo_github_fake.py validates every answer against the schema:

    GET    /repos/{owner}/{repo}/issues/{issue_number}/comments   issues/list-comments
           200: array of `issue-comment`, `Link` header (`#/components/headers/link`)
    POST   /repos/{owner}/{repo}/issues/{issue_number}/comments   issues/create-comment
           201: `issue-comment`; 403 `basic-error`; 422 `validation-error`
    PATCH  /repos/{owner}/{repo}/issues/comments/{comment_id}     issues/update-comment
           200: `issue-comment`; 422 `validation-error`
    DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}     issues/delete-comment: 204
    GET    /user                                                  users/get-authenticated
           200: `private-user` for a user's token; 403 `basic-error` "Resource not
           accessible by integration" for an app installation token (GITHUB_TOKEN)
    POST   /repos/{owner}/{repo}/deployments                      repos/create-deployment
           201: `deployment`; 422 `validation-error`
    POST   /repos/{owner}/{repo}/deployments/{deployment_id}/statuses
           repos/create-deployment-status, 201: `deployment-status`; 422 `validation-error`
    GET    /repos/{owner}/{repo}/deployments                      repos/list-deployments
           200: array of `deployment` (filtered by `environment`), `Link` header
    GET    /repos/{owner}/{repo}/pulls/{pull_number}              pulls/get
           200: `pull-request` (state `open`/`closed`, `merged`); 404 `basic-error`

Anything else is GitHub's 404 `basic-error`. The API may live under a prefix, as on GitHub
Enterprise Server (`https://ghe.example.com/api/v3`). Faults are injected per request:
403 without permission (GitHub's "Resource not accessible by integration" for a fork's
read-only token), secondary rate limits (403 or 429 with Retry-After, per GitHub's REST
"rate limits" documentation), and the body limit (422 over 65,536 characters).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback_server import LoopbackServer

SPEC_PATH = Path(__file__).parent / "fixtures" / "github" / "rest-subset.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
DOCS = "https://docs.github.com/rest"
NOW = "2026-12-01T00:00:00Z"
BODY_LIMIT = 65_536  # GitHub: "body is too long (maximum is 65536 characters)"
STATUS_DESCRIPTION_LIMIT = 140


# -- shapes from the OpenAPI description ------------------------------------------------------


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = SPEC["components"][kind][name]
    return node


def instance(schema: str | dict[str, Any], **values: Any) -> Any:
    """The smallest object the schema accepts (every required property), with `values`."""
    node = _resolve(
        {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    )
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            merged.update(instance(part))
        return {**merged, **values}
    if "oneOf" in node or "anyOf" in node:
        return instance((node.get("oneOf") or node["anyOf"])[0], **values)
    if node.get("nullable") and not values:
        return None
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in node:
        properties = node.get("properties", {})
        data = {
            name: instance(properties[name]) if name in properties else None
            for name in node.get("required", [])
        }
        return {**data, **values}
    return {
        "array": [],
        "string": NOW if node.get("format") == "date-time" else "x",
        "integer": 1,
        "number": 1,
        "boolean": False,
    }.get(str(kind))


def openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` → JSON Schema's `null` alternative."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def validate(schema: str, data: Any) -> None:
    """Raises jsonschema.ValidationError when data is not of GitHub's shape."""
    import jsonschema

    root = openapi_to_jsonschema({"components": SPEC["components"]})
    jsonschema.validate(data, {**root, "$ref": f"#/components/schemas/{schema}"})


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    response = _resolve(SPEC["paths"][path][method]["responses"][str(status)])
    return dict(response["content"]["application/json"]["schema"])


def user(login: str, user_id: int, base: str) -> dict[str, Any]:
    api = f"{base}/users/{login}"
    return instance(
        "simple-user",
        login=login,
        id=user_id,
        node_id=f"MDQ6VXNlcj{user_id}",
        type="Bot" if login.endswith("[bot]") else "User",
        url=api,
        html_url=f"https://github.com/{login}",
        avatar_url=f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        events_url=f"{api}/events{{/privacy}}",
        followers_url=f"{api}/followers",
        following_url=f"{api}/following{{/other_user}}",
        gists_url=f"{api}/gists{{/gist_id}}",
        organizations_url=f"{api}/orgs",
        received_events_url=f"{api}/received_events",
        repos_url=f"{api}/repos",
        starred_url=f"{api}/starred{{/owner}}{{/repo}}",
        subscriptions_url=f"{api}/subscriptions",
        gravatar_id="",
        site_admin=False,
    )


# -- the server -------------------------------------------------------------------------------


@dataclass
class Fault:
    """Answer the next `times` requests matching method and path with this status."""

    method: str
    path: str  # regex on the path after the API prefix
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


class FakeGitHub:
    """Run with `with FakeGitHub() as github:`; `github.api_url` is GITHUB_API_URL."""

    def __init__(
        self,
        prefix: str = "",
        token: str = "ghs_FakeWorkflowToken0123456789",
        token_login: str | None = None,
    ) -> None:
        self.prefix = prefix  # "/api/v3" for GitHub Enterprise Server
        self.token = token
        # None: an app installation token (the workflow's GITHUB_TOKEN), which acts as the
        # app's bot and may not read /user; else a user's token, acting as that user.
        self.token_login = token_login
        self.comments: dict[int, dict[str, Any]] = {}  # id → issue-comment
        self.comment_issue: dict[int, tuple[str, int]] = {}
        self.deployments: dict[int, dict[str, Any]] = {}
        # Pull requests GET /pulls/{n} knows: number → "open", "closed" or "merged".
        self.pulls: dict[tuple[str, int], str] = {}
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.read_only = False  # a fork's pull request: GITHUB_TOKEN may read only
        self.actor = user("github-actions[bot]", 41898282, "")
        self._ids = 1000
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handler())

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def __enter__(self) -> FakeGitHub:
        if self.token_login:
            self.actor = user(self.token_login, 9919, self.api_url)
        else:
            self.actor = user("github-actions[bot]", 41898282, self.api_url)
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    # -- state helpers for tests --------------------------------------------------------------
    def add_comment(self, repo: str, number: int, body: str, login: str = "octocat") -> int:
        with self._lock:
            return self._new_comment(repo, number, body, user(login, 583231, self.api_url))["id"]

    def comments_on(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [
            self.comments[i] for i, where in self.comment_issue.items() if where == (repo, number)
        ]

    def fail(self, method: str, path: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, times: int = 1) -> None:  # fmt: skip
        self.faults.append(Fault(method, path, status, body, headers or {}, times))

    def secondary_rate_limit(self, method: str, path: str, status: int = 403, retry_after: int = 1) -> None:  # fmt: skip
        """GitHub's answer when a client writes too fast (secondary rate limit)."""
        self.fail(
            method,
            path,
            status,
            error(
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
                status,
            ),
            {"Retry-After": str(retry_after)},
        )

    # -- endpoints ----------------------------------------------------------------------------
    def _new_comment(self, repo: str, number: int, body: str, author: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        self._ids += 1
        comment_id = self._ids
        comment = instance(
            "issue-comment",
            id=comment_id,
            node_id=f"IC_kwDO{comment_id}",
            url=f"{self.api_url}/repos/{repo}/issues/comments/{comment_id}",
            html_url=f"https://github.com/{repo}/pull/{number}#issuecomment-{comment_id}",
            issue_url=f"{self.api_url}/repos/{repo}/issues/{number}",
            body=body,
            user=author,
            created_at=NOW,
            updated_at=NOW,
            author_association="NONE",
        )
        self.comments[comment_id] = comment
        self.comment_issue[comment_id] = (repo, number)
        return comment

    def _route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        path = request.path
        if path == "/user" and request.method == "GET":
            return self._authenticated_user()
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path):
            repo, number = m.group(1), int(m.group(2))
            if request.method == "GET":
                return self._list(repo, number, request)
            if request.method == "POST":
                return self._create_comment(repo, number, request.body)
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path):
            comment = self.comments.get(int(m.group(2)))
            if comment is None:
                return 404, error("Not Found"), {}
            if request.method == "PATCH":
                return self._edit_comment(comment, request.body)
            if request.method == "DELETE":
                if self.read_only:
                    return 403, error("Resource not accessible by integration", 403), {}
                del self.comments[comment["id"]], self.comment_issue[comment["id"]]
                return 204, None, {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments", path)
        if m and request.method == "POST":
            return self._create_deployment(m.group(1), request.body)
        if m and request.method == "GET":
            return self._list_deployments(m.group(1), request)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/(\d+)", path)
        if m and request.method == "GET" and (m.group(1), int(m.group(2))) in self.pulls:
            return 200, self.pull(m.group(1), int(m.group(2))), {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses", path)
        if m and request.method == "POST":
            return self._create_status(m.group(1), int(m.group(2)), request.body)
        return 404, error("Not Found"), {}

    def _authenticated_user(self) -> tuple[int, Any, dict[str, str]]:
        if not self.token_login:  # GitHub's answer to an installation token
            refused = error("Resource not accessible by integration", 403)
            refused["documentation_url"] = f"{DOCS}/users/users#get-the-authenticated-user"
            return 403, refused, {}
        private = instance(
            "private-user",
            **{k: v for k, v in self.actor.items() if k not in ("email", "name")},
            created_at=NOW,
            updated_at=NOW,
            two_factor_authentication=True,
        )
        return 200, private, {}

    def _list(self, repo: str, number: int, request: Request) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int((request.query.get("per_page") or ["30"])[0]), 100)
        page = int((request.query.get("page") or ["1"])[0])
        items = sorted(self.comments_on(repo, number), key=lambda c: c["id"])
        last = max(1, -(-len(items) // per_page))
        url = f"{self.api_url}/repos/{repo}/issues/{number}/comments"
        links = []
        if page < last:
            links += [f'<{url}?per_page={per_page}&page={page + 1}>; rel="next"',
                      f'<{url}?per_page={per_page}&page={last}>; rel="last"']  # fmt: skip
        if page > 1:
            links += [f'<{url}?per_page={per_page}&page={page - 1}>; rel="prev"',
                      f'<{url}?per_page={per_page}&page=1>; rel="first"']  # fmt: skip
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * per_page : page * per_page], headers

    def _create_comment(self, repo: str, number: int, body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.read_only:
            return 403, error("Resource not accessible by integration", 403), {}
        invalid = _body_error("IssueComment", body)
        if invalid:
            return 422, invalid, {}
        return 201, self._new_comment(repo, number, body["body"], self.actor), {}

    def _edit_comment(self, comment: dict[str, Any], body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.read_only:
            return 403, error("Resource not accessible by integration", 403), {}
        invalid = _body_error("IssueComment", body)
        if invalid:
            return 422, invalid, {}
        comment.update(body=body["body"], updated_at="2026-12-01T00:05:00Z")
        return 200, comment, {}

    def _create_deployment(self, repo: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.read_only:
            return 403, error("Resource not accessible by integration", 403), {}
        if not isinstance(body, dict) or not body.get("ref"):
            return 422, validation_failed("Deployment", "ref", "missing_field"), {}
        self._ids += 1
        deployment_id = self._ids
        url = f"{self.api_url}/repos/{repo}/deployments/{deployment_id}"
        environment = body.get("environment", "production")
        deployment = instance(
            "deployment",
            url=url,
            id=deployment_id,
            node_id=f"DE_kwDO{deployment_id}",
            sha=body["ref"],
            ref=body["ref"],
            task=body.get("task", "deploy"),
            payload=body.get("payload", {}),
            original_environment=environment,
            environment=environment,
            description=body.get("description"),
            creator=self.actor,
            created_at=NOW,
            updated_at=NOW,
            statuses_url=f"{url}/statuses",
            repository_url=f"{self.api_url}/repos/{repo}",
            transient_environment=bool(body.get("transient_environment", False)),
            production_environment=bool(
                body.get("production_environment", environment == "production")
            ),
        )
        self.deployments[deployment_id] = {**deployment, "request": body}
        self.statuses[deployment_id] = []
        return 201, deployment, {}

    def pull(self, repo: str, number: int) -> dict[str, Any]:
        """`pull-request` as GET /pulls/{n} answers: `state` open or closed, `merged`."""
        state = self.pulls[(repo, number)]
        url = f"{self.api_url}/repos/{repo}/pulls/{number}"
        closed = state in ("closed", "merged")
        return instance(
            "pull-request",
            url=url,
            id=900_000 + number,
            node_id=f"PR_kwDO{number}",
            html_url=f"https://github.com/{repo}/pull/{number}",
            number=number,
            state="closed" if closed else "open",
            title="Change the flows",
            user=self.actor,
            merged=state == "merged",
            merged_at=NOW if state == "merged" else None,
            closed_at=NOW if closed else None,
            created_at=NOW,
            updated_at=NOW,
        )

    def _list_deployments(self, repo: str, request: Request) -> tuple[int, Any, dict[str, str]]:
        environment = (request.query.get("environment") or [None])[0]
        items = [
            {k: v for k, v in d.items() if k != "request"}
            for d in sorted(self.deployments.values(), key=lambda d: -d["id"])
            if d["repository_url"].endswith(f"/repos/{repo}")
            and (environment is None or d["environment"] == environment)
        ]
        per_page = min(int((request.query.get("per_page") or ["30"])[0]), 100)
        page = int((request.query.get("page") or ["1"])[0])
        return 200, items[(page - 1) * per_page : page * per_page], {}

    def _create_status(self, repo: str, deployment_id: int, body: Any) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
        if deployment_id not in self.deployments:
            return 404, error("Not Found"), {}
        states = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
        if not isinstance(body, dict) or body.get("state") not in states:
            return 422, validation_failed("DeploymentStatus", "state", "invalid"), {}
        if len(body.get("description") or "") > STATUS_DESCRIPTION_LIMIT:
            return 422, validation_failed("DeploymentStatus", "description", "custom"), {}
        self._ids += 1
        status_id = self._ids
        deployment = self.deployments[deployment_id]
        status = instance(
            "deployment-status",
            url=f"{deployment['url']}/statuses/{status_id}",
            id=status_id,
            node_id=f"DES_kwDO{status_id}",
            state=body["state"],
            creator=self.actor,
            description=body.get("description", ""),
            environment=body.get("environment", deployment["environment"]),
            target_url=body.get("target_url", ""),
            log_url=body.get("log_url", body.get("target_url", "")),
            environment_url=body.get("environment_url", ""),
            created_at=NOW,
            updated_at=NOW,
            deployment_url=deployment["url"],
            repository_url=f"{self.api_url}/repos/{repo}",
        )
        self.statuses[deployment_id].append(status)
        return 201, status, {}

    # -- HTTP ---------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = split.path
                request = Request(
                    self.command, path, parse_qs(split.query), body, dict(self.headers)
                )
                with fake._lock:
                    fake.requests.append(request)
                    status, data, headers = fake._answer(request)
                payload = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler

    def _answer(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if not request.path.startswith(self.prefix + "/"):
            return 404, error("Not Found"), {}
        request.path = request.path[len(self.prefix) :]
        auth = request.headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, error("Bad credentials", 401), {}
        for fault in self.faults:
            if (
                fault.times
                and fault.method == request.method
                and re.search(fault.path, request.path)
            ):
                fault.times -= 1
                return fault.status, copy.deepcopy(fault.body), dict(fault.headers)
        return self._route(request)


def error(message: str, status: int = 404) -> dict[str, Any]:
    """`basic-error`, as GitHub sends it."""
    return instance("basic-error", message=message, documentation_url=DOCS, status=str(status))


def validation_failed(resource: str, field_name: str, code: str) -> dict[str, Any]:
    """`validation-error` (422)."""
    detail: dict[str, Any] = {"resource": resource, "field": field_name, "code": code}
    if code == "custom":
        detail["message"] = f"{field_name} is too long"
    return instance(
        "validation-error",
        message="Validation Failed",
        documentation_url=DOCS,
        errors=[detail],
    )


def _body_error(resource: str, body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict) or not body.get("body"):
        return validation_failed(resource, "body", "missing_field")
    if len(body["body"]) > BODY_LIMIT:
        detail = validation_failed(resource, "body", "custom")
        detail["errors"][0]["message"] = f"body is too long (maximum is {BODY_LIMIT} characters)"
        return detail
    return None


def pull_request_event(
    repository: str,
    number: int,
    head_sha: str,
    base_sha: str,
    action: str = "synchronize",
    head_repository: str | None = None,
    merged: bool = False,
) -> dict[str, Any]:
    """The `pull_request` event payload (action `synchronize`: a push to the pull request;
    `opened`; `closed`, merged or not), of the shape `webhook-pull-request-<action>` from
    GitHub's webhooks description (github/rest-api-description, via npm
    @octokit/openapi-webhooks). `head_repository`: a fork's, else the repository itself."""
    schema = f"webhook-pull-request-{action}"
    event: dict[str, Any] = instance(schema)
    name = repository.split("/")[1]
    event.update(action=action, number=number)
    if action == "synchronize":
        event.update(before=base_sha, after=head_sha)
    pull = event["pull_request"]
    closed = action == "closed"
    pull.update(number=number, state="closed" if closed else "open", title="Change the flows")
    if closed:
        pull.update(merged=merged, closed_at=NOW, merged_at=NOW if merged else None)
    head = head_repository or repository
    pull["head"].update(sha=head_sha, ref="feature")
    pull["head"]["repo"].update(full_name=head, name=head.split("/")[1], fork=head != repository)
    pull["base"].update(sha=base_sha, ref="main")
    pull["base"]["repo"].update(full_name=repository, name=name)
    event["repository"].update(full_name=repository, name=name)
    validate(schema, event)
    return event
