#!/usr/bin/env python3
"""Where a release stands, and its last step: the release workflow (.github/workflows/
release.yml) calls these, so that what it decides is tested against real git repositories and
a real registry (tests/unit/test_repo_release_state.py, tests/integration/test_release_dry_run.py).

    python3 scripts/release_state.py plan VERSION SOURCE_SHA
    python3 scripts/release_state.py image IMAGE VERSION SOURCE_SHA
    python3 scripts/release_state.py publish VERSION SOURCE_SHA IMAGE@DIGEST

`plan`, in the checkout of SOURCE_SHA (the tagged commit, GITHUB_SHA), reads every tag of
`origin` once (`git ls-remote --tags`, which lists an annotated or signed tag twice: the tag
object, and the commit it points at as `refs/tags/V^{}`) and writes to $GITHUB_OUTPUT:
  released  `false` when the tag still points at SOURCE_SHA (its commit, peeled; a lightweight
            tag has no peeled line and points at the commit itself); `true` when it points at
            this source's release commit (one parent, SOURCE_SHA; action.yml runs an image
            by digest): a re-run, which only checks the GitHub Release;
  move      the floating tags to move (scripts/release_tags.py: forward only);
  latest, prerelease;
  leases    `refs/tags/T:<value read>` for VERSION and each floating tag (empty: absent), so
            that `publish` moves nothing that changed since.
Anything else fails with an `::error`: the tag deleted or moved since this run was triggered,
or a tagged commit whose action.yml does not build from the Dockerfile.

`image` asks the registry (`docker buildx imagetools inspect`) for IMAGE:VERSION and
IMAGE:SOURCE_SHA and writes `digest` (empty: build it) and `tag-version` to $GITHUB_OUTPUT.
`VERSION` never moves: if it exists it must be the image built from SOURCE_SHA (the same
digest as IMAGE:SOURCE_SHA), which a re-run reuses instead of building again; else the run
fails, saying what to do. An image of SOURCE_SHA without the VERSION tag (a prerelease of the
same commit) is reused and tagged (`tag-version=true`).

`publish` makes the release commit (action.yml `image: docker://IMAGE@DIGEST`, with the source
commit's dates, so a re-run with the same digest makes the same commit), tags it VERSION (an
annotated tag naming the source) and points MOVE's floating tags at it, then pushes all of
them in one `git push --atomic`, each with `--force-with-lease` at the value `plan` read:
every tag moves, or none does. Environment: MOVE and LEASES (from `plan`).

Standard library only: the workflow runs it with the runner's python3, before anything is
installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import release_tags  # the floating-tag rules, beside this file

SOURCE_IMAGE_LINE = "  image: Dockerfile"
RELEASED_IMAGE = re.compile(r"^  image: docker://(\S+@sha256:[0-9a-f]{64})$", re.M)
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class Refusal(Exception):
    """A state the release must not go on from: (title, message) for an `::error`."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


@dataclass(frozen=True)
class RemoteTag:
    value: str  # what refs/tags/NAME holds: a commit, or an annotated tag object
    commit: str  # the commit it points at (the peeled `^{}` line, else the value)


def git(*args: str, cwd: str | None = None) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise Refusal("git failed", f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def remote_tags(remote: str = "origin") -> dict[str, RemoteTag]:
    """Every tag of the remote, peeled: `git ls-remote --tags` prints `<object> refs/tags/V`
    and, for an annotated (or signed) tag, `<commit> refs/tags/V^{}`."""
    values: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in git("ls-remote", "--tags", remote).splitlines():
        sha, _, ref = line.partition("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            values[name] = sha
    return {name: RemoteTag(value, peeled.get(name, value)) for name, value in values.items()}


def released_image(commit: str, source: str) -> str | None:
    """The image a release commit of `source` runs, else None: one parent, the source, and an
    action.yml that runs an image by digest (what `publish` makes)."""
    raw = git("cat-file", "-p", commit)
    header = raw.split("\n\n", 1)[0]
    parents = [line.split()[1] for line in header.splitlines() if line.startswith("parent ")]
    if parents != [source]:
        return None
    shown = subprocess.run(["git", "show", f"{commit}:action.yml"], capture_output=True, text=True)
    match = RELEASED_IMAGE.search(shown.stdout) if shown.returncode == 0 else None
    return match.group(1) if match else None


def plan(version: str, source: str, remote: str = "origin") -> dict[str, str]:
    new = release_tags.parse(version)
    if new is None:
        raise Refusal("Not a release tag", release_tags.invalid_message(version))
    tags = remote_tags(remote)
    if version not in tags:
        raise Refusal(
            "Tag deleted",
            f"{version} is not on {remote} any more: it was deleted after this run was "
            "triggered, so there is nothing to release.",
        )
    tag = tags[version]
    released = tag.commit != source
    if released:
        # Fetch what the tag points at now (a shallow checkout has only the source commit).
        git("fetch", "--quiet", "--no-tags", remote, f"+refs/tags/{version}:refs/pfd-release/tag")
        commit = git("rev-parse", "refs/pfd-release/tag^{commit}").strip()
        image = released_image(commit, source)
        if image is None:
            raise Refusal(
                "Tag moved",
                f"{version} points at {commit} now, which is neither the commit this run was "
                f"triggered for ({source}) nor its release commit: the tag was moved after "
                "the push. The run of the newer push releases it; re-running this one cannot.",
            )
        notice(
            "Already released",
            f"{version} points at its release commit {commit} already (runs {image}): "
            "only the GitHub Release is checked.",
        )
    elif SOURCE_IMAGE_LINE not in Path("action.yml").read_text().splitlines():
        raise Refusal(
            "Not a source commit",
            f"action.yml at {version} does not build from the Dockerfile "
            f"(`{SOURCE_IMAGE_LINE.strip()}`): tag a commit of main, not a release commit.",
        )
    existing = [v for v in map(release_tags.parse, tags) if v is not None]
    move = release_tags.floating_tags(new, existing)
    leases = [f"refs/tags/{t}:{tags[t].value if t in tags else ''}" for t in [version, *move]]
    return {
        "released": str(released).lower(),
        "move": " ".join(move),
        "latest": str(release_tags.is_latest(new, existing)).lower(),
        "prerelease": str(bool(new.prerelease)).lower(),
        "leases": " ".join(leases),
    }


def manifest_digest(reference: str) -> str | None:
    """The digest IMAGE:TAG has in the registry (an index for a multi-platform image), or
    None when there is no such tag. Any other failure (a refused login, an unreachable
    registry) is a refusal: not knowing must never lead to a rebuild over a version."""
    done = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", reference],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        digest = json.loads(done.stdout)["digest"]
        assert isinstance(digest, str)
        return digest
    if re.search(r"not found|manifest unknown", done.stderr, re.I):
        return None
    raise Refusal(
        "Registry",
        f"cannot tell whether {reference} exists: docker buildx imagetools inspect said: "
        f"{done.stderr.strip()}",
    )


def image_decision(
    image: str, version: str, source: str, by_version: str | None, by_source: str | None
) -> dict[str, str]:
    """Build, reuse, or refuse (see the module's doc)."""
    if by_version is None:
        if by_source is None:
            return {"digest": "", "tag-version": "false"}
        notice(
            "Image reused",
            f"{image}:{source} exists ({by_source}): {version} is tagged on it, not rebuilt.",
        )
        return {"digest": by_source, "tag-version": "true"}
    if by_version == by_source:
        notice(
            "Image reused",
            f"{image}:{version} exists ({by_version}), built from {source} by an earlier "
            "attempt: reused, never rebuilt (a version's image never moves).",
        )
        return {"digest": by_version, "tag-version": "false"}
    raise Refusal(
        "The version's image exists",
        f"{image}:{version} exists ({by_version}) but was not built from this commit "
        f"({image}:{source} is {by_source or 'absent'}). A version's image never moves, so "
        f"nothing was built or moved. Release a new version; or, if {version}'s image was "
        "never published to anyone, delete that package version on GHCR and re-run.",
    )


def publish(version: str, source: str, image: str, move: list[str], leases: list[str]) -> str:
    """The release commit, its tags and one atomic push (see the module's doc). Returns the
    release commit."""
    action = Path("action.yml")
    lines = action.read_text().splitlines(keepends=True)
    if SOURCE_IMAGE_LINE + "\n" not in lines:
        raise Refusal("Not a source commit", "action.yml has no `image: Dockerfile` line")
    lines[lines.index(SOURCE_IMAGE_LINE + "\n")] = f"  image: docker://{image}\n"
    action.write_text("".join(lines))
    date = git("log", "-1", "--format=%cI", source).strip()
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": BOT[0],
        "GIT_AUTHOR_EMAIL": BOT[1],
        "GIT_COMMITTER_NAME": BOT[0],
        "GIT_COMMITTER_EMAIL": BOT[1],
    }

    def run(*args: str) -> None:
        done = subprocess.run(["git", *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise Refusal("git failed", f"git {' '.join(args)}: {done.stderr.strip()}")

    run(
        "commit",
        "--quiet",
        "--no-verify",
        "--no-gpg-sign",
        "-m",
        f"Release {version}: runs {image}",
        "--",
        "action.yml",
    )
    commit = git("rev-parse", "HEAD").strip()
    message = (
        f"Release {version}\n\naction.yml runs {image}.\nSource commit: {source} "
        "(the commit the pushed tag pointed at).\n"
    )
    run("tag", "--force", "--no-sign", "--annotate", "--message", message, version, commit)
    for tag in move:
        run("tag", "--force", "--no-sign", tag, commit)
    expected = dict(lease.split(":", 1) for lease in leases)
    refs = [f"refs/tags/{t}" for t in [version, *move]]
    missing = [r for r in refs if r not in expected]
    if missing:
        raise Refusal("No lease", f"no value read by `plan` for {', '.join(missing)}")
    push = ["push", "--atomic", "--porcelain", "origin"]
    push[1:1] = [f"--force-with-lease={r}:{expected[r]}" for r in refs]
    done = subprocess.run(["git", *push, *refs], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise Refusal(
            "Tags changed meanwhile",
            f"the push of {', '.join(refs)} was refused and no tag moved (one atomic push): "
            "a tag changed on origin after this run read it. Re-run this workflow: it reads "
            f"the tags again.\n{done.stdout.strip()}\n{done.stderr.strip()}",
        )
    return commit


def notice(title: str, message: str) -> None:
    print(f"::notice title={title}::{message}", flush=True)


def write_outputs(outputs: dict[str, str]) -> None:
    """Appended to $GITHUB_OUTPUT (`name=value`; no value holds a newline), else printed."""
    text = "".join(f"{name}={value}\n" for name, value in outputs.items())
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as file:
            file.write(text)
    print(text, end="", flush=True)


USAGE = __doc__.split("\n\n")[1]


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "plan" and len(args) == 2:
            write_outputs(plan(*args))
        elif command == "image" and len(args) == 3:
            image, version, source = args
            write_outputs(
                image_decision(
                    image,
                    version,
                    source,
                    manifest_digest(f"{image}:{version}"),
                    manifest_digest(f"{image}:{source}"),
                )
            )
        elif command == "publish" and len(args) == 3:
            version, source, image = args
            move = os.environ.get("MOVE", "").split()
            leases = os.environ.get("LEASES", "").split()
            commit = publish(version, source, image, move, leases)
            print(f"released {version} at {commit}: {image}; moved: {' '.join(move) or 'none'}")
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except Refusal as refusal:
        print(f"::error title={refusal.title}::{escape(refusal.message)}", flush=True)
        return 1
    return 0


def escape(message: str) -> str:
    """A workflow command's data: `%`, CR and LF escaped (ActionCommand's unescaping)."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
