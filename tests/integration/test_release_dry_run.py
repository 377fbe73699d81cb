"""The release workflow run on this machine by scripts/release_dry_run.py: a bare `origin`,
the loopback registry as GHCR, the workflow's own `run:` steps in order and the docker CLI in
place of the actions that need github.com. It ends with a tag v1.2.3 whose action.yml runs an
image by digest that the registry has, that pulls without credentials and starts.

The attempts are those GitHub would make: the first stopped by a tag moved meanwhile (nothing
half-moved), the re-run reusing the image (never rebuilt under its version), a re-run of the
released tag changing nothing, and a version whose image exists from another commit refused.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, Stack

pytestmark = [pytest.mark.stack]

_spec = importlib.util.spec_from_file_location(
    "release_dry_run", ROOT / "scripts" / "release_dry_run.py"
)
assert _spec and _spec.loader
dry = importlib.util.module_from_spec(_spec)
sys.modules["release_dry_run"] = dry
_spec.loader.exec_module(dry)


@pytest.fixture
def dry_run(stack: Stack, tmp_path: Path) -> Iterator[dry.DryRun]:
    origin = dry.make_origin(tmp_path, "v1.2.3", "signed")
    run = dry.DryRun(origin, tmp_path, registry="127.0.0.1:5000")
    run.smoke_base_image = stack.base_image
    try:
        yield run
    finally:
        dry.delete_from_registry(run)


def digest_of(run: dry.DryRun, tag: str) -> str | None:
    plugin = next(run.workdir.glob("attempt-*/home/.docker/cli-plugins/docker-buildx"))
    done = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}",
         f"{run.image}:{tag}"],
        env={**os.environ, "HOME": str(plugin.parents[2])}, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout)["digest"] if done.returncode == 0 else None


def tags(origin: Path) -> dict[str, str]:
    listed = dry.git(origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags")
    return dict(line.split() for line in listed.splitlines())


def test_a_signed_tag_is_released_once_whatever_the_attempts(dry_run: dry.DryRun) -> None:
    origin = dry_run.origin
    signed = tags(origin.path)["v1.2.3"]
    assert "BEGIN PGP SIGNATURE" in dry.git(origin.path, "cat-file", "-p", signed)

    # Attempt 1: another run moves `v1` while this one is between its plan and its publish.
    def another_run_moves_v1(step: str) -> None:
        if step.startswith("Release commit"):
            dry.git(origin.clone, "tag", "v1", origin.sha)
            dry.git(origin.clone, "push", "-q", "origin", "refs/tags/v1")

    first = dry_run.run_attempt(before_step=another_run_moves_v1)
    assert not first.ok, first.describe()
    assert first.step("Version, floating tags").outputs["released"] == "false"
    assert first.step("Build and push").status == "success"
    publish = first.step("Release commit")
    assert publish.status == "failure"
    assert "::error title=Tags changed meanwhile::" in publish.log
    after_first = tags(origin.path)
    assert after_first["v1.2.3"] == signed and "v1.2" not in after_first  # nothing half-moved
    built = first.step("Build and push").outputs["digest"]
    assert digest_of(dry_run, "v1.2.3") == digest_of(dry_run, origin.sha) == built

    # Attempt 2, the re-run: the image of v1.2.3 is reused, not rebuilt (a new digest).
    second = dry_run.run_attempt()
    assert second.ok, second.describe() + "\n" + "\n".join(s.log for s in second.steps)
    assert second.step("The version's image").outputs == {"digest": built, "tag-version": "false"}
    assert "::notice title=Image reused::" in second.step("The version's image").log
    assert second.step("Build and push").status == "skipped"
    assert second.step("Smoke test").status == "success"
    assert "the dry run planned hello/smoke" in second.step("Smoke test").log
    assert digest_of(dry_run, "v1.2.3") == built
    assert digest_of(dry_run, "v1") == digest_of(dry_run, "v1.2") == built  # an index: as is

    result = dry.released(dry_run)
    assert dry.git(origin.path, "rev-parse", f"{result.commit}^") == origin.sha
    assert result.image == f"{dry_run.image}@{built}"
    assert result.floating == {"v1": result.commit, "v1.2": result.commit}
    assert "the dry run planned hello/smoke" in dry.check_image(
        result.image, dry_run.smoke_base_image
    )

    # Attempt 3, a re-run of the released tag (its checkout is the tagged source commit):
    # only the GitHub Release would be checked.
    before = tags(origin.path)
    third = dry_run.run_attempt()
    assert third.ok, third.describe()
    assert third.step("Version, floating tags").outputs["released"] == "true"
    ran = [s.name for s in third.steps if s.status == "success"]
    assert ran == [third.steps[0].name, "Version, floating tags and image name"], ran
    assert tags(origin.path) == before


def test_a_version_whose_image_exists_from_another_commit_is_refused(
    dry_run: dry.DryRun,
) -> None:
    """`vX.Y.Z` never moves: an image under that tag not built from this commit stops the
    release before anything is built or moved."""
    first = dry_run.run_attempt()
    assert first.ok, first.describe()
    released = dry.released(dry_run)
    built = first.step("Build and push").outputs["digest"]
    origin = dry_run.origin
    (origin.clone / "notes.txt").write_text("a fix")
    dry.git(origin.clone, "add", "-A")
    dry.git(origin.clone, "commit", "-qm", "a fix")
    dry.git(origin.clone, "push", "-q", "origin", "HEAD:main")
    dry.git(origin.clone, "tag", "-a", "-m", "v1.2.4", "v1.2.4")
    dry.git(origin.clone, "push", "-q", "origin", "refs/tags/v1.2.4")
    fix = dry.git(origin.clone, "rev-parse", "HEAD")
    # An image already under v1.2.4, from v1.2.3's commit (a release gone wrong, by hand).
    plugin_home = next(dry_run.workdir.glob("attempt-*/home"))
    subprocess.run(
        ["docker", "buildx", "imagetools", "create", "--tag", f"{dry_run.image}:v1.2.4",
         f"{dry_run.image}@{built}"],
        env={**os.environ, "HOME": str(plugin_home)}, check=True, capture_output=True,
    )  # fmt: skip
    before = tags(origin.path)
    dry_run.origin = dry.Origin(origin.path, origin.clone, fix, "v1.2.4")
    refused = dry_run.run_attempt()
    assert not refused.ok
    image = refused.step("The version's image")
    assert image.status == "failure"
    assert "::error title=The version's image exists::" in image.log
    assert refused.step("Build and push").status == "skipped"
    assert tags(origin.path) == before  # no tag moved
    assert digest_of(dry_run, "v1.2.4") == built  # nor the image tag
    assert dry.git(origin.path, "rev-parse", "refs/tags/v1^{commit}") == released.commit
