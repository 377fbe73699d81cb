"""The release workflow: valid (actionlint, shellcheck on every `run:`), its third-party
actions pinned by commit SHA, and its order and wiring: nothing floating moves before the
image is proven, a release is never dropped or run twice at once, a re-run neither rebuilds
nor repoints the version's image, and the release commit's action.yml runs the image by
digest. What its scripts decide is tested against real git in
tests/unit/test_repo_release_state.py, and the whole workflow is run on this machine by
tests/integration/test_release_dry_run.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..workflow_lint import actionlint, lint, load, pin_problems, shellcheck_findings, triggers

__all__ = ["actionlint"]  # a fixture, used by name

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


def test_it_passes_actionlint_and_shellcheck(actionlint: list[str]) -> None:
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, f"actionlint found errors:\n{done.stdout}{done.stderr}"
    assert shellcheck_findings(load(WORKFLOW)) == []


def test_third_party_actions_are_pinned_by_commit_sha_on_node_24() -> None:
    assert pin_problems(WORKFLOW.read_text()) == []
    uses = [s["uses"] for s in steps() if "uses" in s]
    assert len(uses) == 5 and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses)


def test_version_tags_trigger_it() -> None:
    on = triggers(load(WORKFLOW))
    assert on["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+", "v[0-9]+.[0-9]+.[0-9]+-*"]


def test_releases_queue_one_at_a_time_and_none_is_dropped() -> None:
    """By default a group keeps one pending run and cancels the older pending one: of three
    tags pushed at once, the middle release was lost. `queue: max` keeps up to 100 pending
    (GitHub docs, control-workflow-concurrency; actions/languageservices@4043eda1
    workflow-parser/src/workflow-v1.0.json:2072-2084), and is invalid with
    cancel-in-progress: true."""
    concurrency = load(WORKFLOW)["concurrency"]
    assert concurrency == {"group": "release", "cancel-in-progress": False, "queue": "max"}
    assert "concurrency" not in load(WORKFLOW)["jobs"]["release"]


def test_the_checkout_is_the_tagged_commit_so_a_rerun_checks_out() -> None:
    """actions/checkout (v6.0.2 on) fails when the tag no longer points at GITHUB_SHA, which
    it does not once released; a SHA is fetched as is (actions/checkout@3d3c42e5
    src/git-source-provider.ts:221-229, src/input-helper.ts:91-94)."""
    checkout = steps()[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"ref": "${{ github.sha }}"}


def test_the_release_state_comes_from_the_script() -> None:
    """Before: `git ls-remote --tags --refs origin refs/tags/$VERSION`, the tag object of an
    annotated or signed tag, never equal to GITHUB_SHA: released=true, nothing built."""
    plan = steps()[index("Version, floating tags")]
    assert 'python3 scripts/release_state.py plan "$VERSION" "$GITHUB_SHA"' in plan["run"]
    assert "ls-remote" not in WORKFLOW.read_text().split("jobs:", 1)[1]
    assert load(WORKFLOW)["defaults"] == {"run": {"shell": "bash"}}  # -e -o pipefail


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
    assert steps()[index("Smoke test")]["run"].count("$PLATFORMS") == 1
    job_env = load(WORKFLOW)["jobs"]["release"]["env"]
    assert job_env["PLATFORMS"].split() == build["platforms"].split(",")


def test_a_rerun_reuses_the_version_s_image_and_never_repoints_it() -> None:
    """A re-run after a failure (the smoke test, a private package) must not rebuild: a new
    digest under the `vX.Y.Z` tag that never moves."""
    image = index("release_state.py image")
    build = index("docker/build-push-action")
    assert image < build
    assert steps()[build]["if"].endswith("&& steps.image.outputs.digest == ''")
    release = steps()[index("The image to release")]
    assert release["env"]["REUSED"] == "${{ steps.image.outputs.digest }}"
    assert release["env"]["BUILT"] == "${{ steps.build.outputs.digest }}"
    for step in steps()[index("The image to release") + 1 :]:
        for value in (step.get("env") or {}).values():
            assert "steps.build.outputs" not in value, step.get("name")


def test_nothing_moves_before_the_anonymous_pull_and_the_smoke_test() -> None:
    pull, smoke = index("Pull without credentials"), index("smoke-action-image.sh")
    assert "DOCKER_CONFIG=" in steps()[pull]["run"]  # no login
    assert "Change visibility" in steps()[pull]["run"]
    assert index("docker/build-push-action") < pull < smoke
    assert smoke < index("Move the floating image tags") < index("release_state.py publish")
    assert index("release_state.py publish") < index("gh release")


def test_floating_tags_come_from_the_forward_only_script_and_move_atomically() -> None:
    move = steps()[index("Move the floating image tags")]
    assert move["env"]["MOVE"] == "${{ steps.tags.outputs.move }}"
    publish = steps()[index("release_state.py publish")]
    assert publish["env"] == {
        "REF": "${{ steps.release.outputs.ref }}",
        "MOVE": "${{ steps.tags.outputs.move }}",
        "LEASES": "${{ steps.tags.outputs.leases }}",
    }
    # One atomic, leased push, made by the script; no other push of tags.
    assert not any("git push" in str(s.get("run", "")) for s in steps())


def test_the_release_commit_pins_the_image_by_digest() -> None:
    """release_state.publish's edit applied to today's action.yml."""
    text = (ROOT / "action.yml").read_text()
    image = "ghcr.io/acme/prefect-flow-deploy@sha256:" + "a" * 64
    assert "  image: Dockerfile\n" in text
    released = text.replace("  image: Dockerfile\n", f"  image: docker://{image}\n")
    assert yaml.safe_load(released)["runs"] == {"using": "docker", "image": f"docker://{image}"}
