"""Cut GitHub's published OpenAPI description of its REST API down to the operations the
action calls, with every component they reference, into tests/fixtures/github/rest-subset.json.
The fake GitHub of the tests answers with these schemas' shapes and a test validates its
answers against them.

Source: github/rest-api-description, descriptions/api.github.com/api.github.com.json, as
published on npm in @octokit/openapi (generated/api.github.com.json):

    npm pack @octokit/openapi@23.0.2 && tar -xzf octokit-openapi-23.0.2.tgz
    python scripts/github-openapi-subset.py package/generated/api.github.com.json

and the pull_request webhook payload's schema from @octokit/openapi-webhooks (generated/
api.github.com.json, from the same repository's descriptions/api.github.com webhooks):

    python scripts/github-openapi-subset.py REST.json WEBHOOKS.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = [
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get"),  # issues/list-comments
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),  # issues/create-comment
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "patch"),  # issues/update-comment
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "delete"),  # issues/delete-comment
    ("/repos/{owner}/{repo}/deployments", "get"),  # repos/list-deployments
    ("/repos/{owner}/{repo}/deployments", "post"),  # repos/create-deployment
    ("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "post"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "get"),  # pulls/get (the previews' sweep)
]
WEBHOOK_SCHEMAS = [
    "webhook-pull-request-synchronize",
    "webhook-pull-request-opened",
    "webhook-pull-request-closed",
]
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "github" / "rest-subset.json"


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def closure(spec: dict[str, Any], roots: Any) -> dict[str, dict[str, Any]]:
    """Every `#/components/<kind>/<name>` reachable from roots."""
    components: dict[str, dict[str, Any]] = {}
    todo = sorted(refs(roots))
    while todo:
        ref = todo.pop()
        _, _, kind, name = ref.split("/", 3)
        if name in components.setdefault(kind, {}):
            continue
        node = spec["components"][kind][name]
        if kind == "examples":
            continue  # examples are not needed to validate
        components[kind][name] = node
        todo += sorted(refs(node))
    return components


def strip_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_examples(v) for k, v in node.items() if k not in ("examples", "example")}
    if isinstance(node, list):
        return [strip_examples(v) for v in node]
    return node


def main(rest_path: str, webhooks_path: str | None = None) -> None:
    spec = json.loads(Path(rest_path).read_text())
    paths: dict[str, dict[str, Any]] = {}
    for path, method in OPERATIONS:
        paths.setdefault(path, {})[method] = strip_examples(spec["paths"][path][method])
    subset = {
        "source": "github/rest-api-description descriptions/api.github.com/api.github.com.json "
        f"(info.version {spec['info']['version']}, via npm @octokit/openapi)",
        "paths": paths,
        "components": strip_examples(closure(spec, paths)),
    }
    if webhooks_path:
        hooks = json.loads(Path(webhooks_path).read_text())
        roots = {name: hooks["components"]["schemas"][name] for name in WEBHOOK_SCHEMAS}
        extra = strip_examples(closure(hooks, roots))
        extra.setdefault("schemas", {}).update(strip_examples(roots))
        for kind, values in extra.items():
            for name, value in values.items():
                subset["components"].setdefault(kind, {}).setdefault(name, value)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(*sys.argv[1:3])
