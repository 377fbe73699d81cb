"""The fake GitHub answers with GitHub's shapes: every answer validated against the schema
of GitHub's OpenAPI description (tests/fixtures/github/rest-subset.json, cut from
github/rest-api-description descriptions/api.github.com/api.github.com.json)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import jsonschema
import pytest

from ..github_fake import FakeGitHub, pull_request_event, response_schema, validate

COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id}"


def call(fake: FakeGitHub, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(fake.api_url + path, data, method=method)
    request.add_header("Authorization", f"Bearer {fake.token}")
    try:
        with urllib.request.urlopen(request) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None, dict(answer.headers)
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read()), dict(failed.headers)


def check(path: str, method: str, status: int, data: Any) -> None:

    schema = response_schema(path, method, status)
    if "oneOf" in schema:  # one of the alternatives (GET /user: private or public user)
        names = [option["$ref"].rsplit("/", 1)[-1] for option in schema["oneOf"]]
        failures = []
        for name in names:
            try:
                validate(name, data)
                return
            except jsonschema.ValidationError as exc:
                failures.append(exc)
        raise failures[0]
    name = schema.get("$ref", "").rsplit("/", 1)[-1] or schema["items"]["$ref"].rsplit("/", 1)[-1]
    for item in data if schema.get("type") == "array" else [data]:
        validate(name, item)


def test_every_answer_has_githubs_shape() -> None:
    with FakeGitHub(prefix="/api/v3") as fake:
        status, created, _ = call(
            fake, "POST", "/repos/acme/flows/issues/1/comments", {"body": "hi"}
        )
        check(COMMENTS, "post", status, created)
        for n in range(3):
            fake.add_comment("acme/flows", 1, f"c{n}")
        status, listed, headers = call(
            fake, "GET", "/repos/acme/flows/issues/1/comments?per_page=2"
        )
        check(COMMENTS, "get", status, listed)
        assert (
            len(listed) == 2 and 'rel="next"' in headers["Link"] and 'rel="last"' in headers["Link"]
        )
        status, edited, _ = call(fake, "PATCH", f"/repos/acme/flows/issues/comments/{created['id']}", {"body": "ho"})  # fmt: skip
        check(COMMENT, "patch", status, edited)
        status, invalid, _ = call(fake, "PATCH", f"/repos/acme/flows/issues/comments/{created['id']}", {"body": ""})  # fmt: skip
        check(COMMENT, "patch", status, invalid)
        assert status == 422
        status, deployment, _ = call(fake, "POST", "/repos/acme/flows/deployments", {"ref": "a" * 40, "environment": "prod"})  # fmt: skip
        check("/repos/{owner}/{repo}/deployments", "post", status, deployment)
        assert deployment["url"].startswith(fake.api_url)  # Enterprise: under /api/v3
        statuses = "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
        status, state, _ = call(fake, "POST", f"/repos/acme/flows/deployments/{deployment['id']}/statuses", {"state": "success", "environment_url": "http://x/deployments"})  # fmt: skip
        check(statuses, "post", status, state)
        fake.read_only = True
        status, refused, _ = call(
            fake, "POST", "/repos/acme/flows/issues/1/comments", {"body": "x"}
        )
        check(COMMENTS, "post", status, refused)
        assert status == 403 and refused["message"] == "Resource not accessible by integration"
        status, missing, _ = call(fake, "GET", "/repos/acme/flows/pulls/1")
        assert status == 404 and missing["message"] == "Not Found"
        validate("basic-error", missing)


def test_the_authenticated_user_has_githubs_shape_or_githubs_refusal() -> None:
    with FakeGitHub(token_login="deployer") as fake:
        status, me, _ = call(fake, "GET", "/user")
        assert status == 200 and me["login"] == "deployer"
        check("/user", "get", status, me)
    with FakeGitHub() as fake:  # an installation token: GitHub refuses it /user
        status, refused, _ = call(fake, "GET", "/user")
        assert status == 403 and refused["message"] == "Resource not accessible by integration"
        validate("basic-error", refused)


def test_the_schemas_do_reject_a_wrong_shape() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate("issue-comment", {"id": "1", "body": "no user, no urls"})
    with pytest.raises(jsonschema.ValidationError):
        validate("deployment-status", {"state": "in_progress"})


def test_the_pull_request_event_payload_has_the_webhooks_shape() -> None:
    event = pull_request_event("acme/flows", 12, "c" * 40, "b" * 40)
    assert (
        event["pull_request"]["number"] == 12 and event["pull_request"]["head"]["sha"] == "c" * 40
    )
    broken = json.loads(json.dumps(event))
    del broken["pull_request"]["head"]
    with pytest.raises(jsonschema.ValidationError):
        validate("webhook-pull-request-synchronize", broken)
