"""The release workflow's order and wiring (actionlint checks its syntax in
tests/test_workflows.py): nothing floating moves before the image is proven, and the release
commit's action.yml runs the image by digest."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def steps() -> list[dict[str, Any]]:
    spec = yaml.safe_load(WORKFLOW.read_text())
    return list(spec["jobs"]["release"]["steps"])


def index(predicate: str) -> int:
    """The first step whose name, uses or script contains `predicate`."""
    for number, step in enumerate(steps()):
        text = " ".join(str(step.get(k, "")) for k in ("name", "uses", "run"))
        if predicate in text:
            return number
    raise AssertionError(f"no step with {predicate!r}")


def test_version_tags_trigger_it() -> None:
    spec = yaml.safe_load(WORKFLOW.read_text())
    on = spec[True] if True in spec else spec["on"]  # YAML 1.1 reads `on:` as True
    assert on["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+", "v[0-9]+.[0-9]+.[0-9]+-*"]


def test_the_image_is_built_for_both_platforms_with_only_fixed_tags_and_oci_labels() -> None:
    build = steps()[index("docker/build-push-action")]["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert build["push"] is True
    tags = build["tags"].splitlines()
    assert tags == [
        "${{ steps.tags.outputs.image }}:${{ github.ref_name }}",
        "${{ steps.tags.outputs.image }}:${{ github.sha }}",
    ]
    labels = dict(line.split("=", 1) for line in build["labels"].splitlines())
    assert labels["org.opencontainers.image.source"].endswith("/${{ github.repository }}")
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.description"]
    assert index("docker/setup-qemu-action") < index("docker/build-push-action")
    assert index("docker/setup-buildx-action") < index("docker/build-push-action")


def test_nothing_moves_before_the_anonymous_pull_and_the_smoke_test() -> None:
    pull, smoke = index("Pull without credentials"), index("smoke-action-image.sh")
    assert "DOCKER_CONFIG=" in steps()[pull]["run"]  # no login
    assert "Change visibility" in steps()[pull]["run"]
    assert index("docker/build-push-action") < pull < smoke
    assert smoke < index("imagetools create") < index("git push --force") < index("gh release")
    assert "linux/amd64 linux/arm64" in steps()[smoke]["run"]


def test_floating_tags_come_from_the_forward_only_script() -> None:
    tags = steps()[index("Version, floating tags")]["run"]
    assert 'python3 scripts/release_tags.py "$VERSION" $existing' in tags
    assert "--latest" in tags
    move = steps()[index("imagetools create")]
    assert move["env"]["MOVE"] == "${{ steps.tags.outputs.move }}"


def test_the_release_commit_pins_the_image_by_digest() -> None:
    commit = steps()[index("git push --force")]
    assert commit["env"]["IMAGE"].endswith("@${{ steps.build.outputs.digest }}")
    sed = re.search(r'sed -i "s\|(.+?)\|(.+?)\|" action\.yml', commit["run"])
    assert sed, commit["run"]
    pattern, replacement = sed.group(1), sed.group(2)
    # The workflow's sed applied to today's action.yml, with a digest for $IMAGE.
    image = "ghcr.io/acme/prefect-flow-deploy@sha256:" + "a" * 64
    text = (ROOT / "action.yml").read_text()
    released = re.sub(pattern, replacement.replace("$IMAGE", image), text, flags=re.MULTILINE)
    assert released != text
    assert yaml.safe_load(released)["runs"] == {"using": "docker", "image": f"docker://{image}"}
