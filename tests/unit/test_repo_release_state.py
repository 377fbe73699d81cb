"""scripts/release_state.py against real git repositories: a bare repository as `origin`, the
maintainer's clone that pushes tags (lightweight, annotated, signed with a throw-away GnuPG
key), and the runner's checkout of the tagged commit, made as actions/checkout makes it with
`ref: ${{ github.sha }}` (init, `fetch --depth=1 origin <sha>`, detached HEAD)."""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "release_state.py"
_spec = importlib.util.spec_from_file_location("release_state", SCRIPT)
assert _spec and _spec.loader
release_state = importlib.util.module_from_spec(_spec)
sys.modules["release_state"] = release_state
_spec.loader.exec_module(release_state)

ACTION = "name: x\nruns:\n  using: docker\n  image: Dockerfile\n"
IMAGE = "ghcr.io/acme/prefect-flow-deploy"
DIGEST = "sha256:" + "ab" * 32
GIT_ENV = {
    "GIT_AUTHOR_NAME": "maintainer",
    "GIT_AUTHOR_EMAIL": "m@example.com",
    "GIT_COMMITTER_NAME": "maintainer",
    "GIT_COMMITTER_EMAIL": "m@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, **(env or {})},
        timeout=60,
    )
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout.strip()


@dataclass
class Step:
    code: int
    stdout: str
    outputs: dict[str, str]


@dataclass
class Repo:
    root: Path
    origin: Path
    clone: Path  # the maintainer's
    gnupg: Path | None = None

    def commit(self, message: str) -> str:
        (self.clone / "notes.txt").write_text(message)
        git(self.clone, "add", "-A")
        git(self.clone, "commit", "-qm", message)
        git(self.clone, "push", "-q", "origin", "HEAD:main")
        return git(self.clone, "rev-parse", "HEAD")

    def tag(self, name: str, commit: str, kind: str = "lightweight") -> None:
        flags = {"lightweight": [], "annotated": ["-a", "-m", name], "signed": ["-s", "-m", name]}
        env = {"GNUPGHOME": str(self.gnupg)} if self.gnupg else None
        git(self.clone, "tag", *flags[kind], name, commit, env=env)

    def push_tags(self, *names: str) -> None:
        """One push, as `git push origin v1 v2 v3` (GitHub starts a run per tag)."""
        git(self.clone, "push", "-q", "origin", *[f"refs/tags/{n}" for n in names])

    def checkout(self, sha: str) -> Path:
        """The runner's workspace: actions/checkout with `ref: <sha>` fetches that commit
        alone (depth 1) and checks it out detached (actions/checkout@3d3c42e5 v7.0.1,
        src/input-helper.ts:89-92 and src/ref-helper.ts getRefSpec: a SHA-only fetch)."""
        workspace = Path(tempfile.mkdtemp(prefix="ws-", dir=self.root))
        git(workspace, "init", "-q")
        git(workspace, "remote", "add", "origin", str(self.origin))
        git(workspace, "fetch", "-q", "--no-tags", "--depth=1", "origin", sha)
        git(workspace, "checkout", "-q", "--detach", sha)
        return workspace

    def run(self, workspace: Path, *args: str, env: dict[str, str] | None = None) -> Step:
        """The script as the workflow's step runs it: in the checkout, $GITHUB_OUTPUT set."""
        output = workspace.parent / f"output-{random.getrandbits(32)}"
        output.write_text("")
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            cwd=workspace,
            capture_output=True,
            text=True,
            env={**os.environ, **GIT_ENV, "GITHUB_OUTPUT": str(output), **(env or {})},
            timeout=60,
        )
        outputs = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        return Step(done.returncode, done.stdout + done.stderr, outputs)

    def release(self, version: str, source: str, digest: str = DIGEST) -> tuple[Step, Step]:
        """One run of the workflow's git part: `plan`, then `publish` with plan's outputs."""
        workspace = self.checkout(source)
        planned = self.run(workspace, "plan", version, source)
        assert planned.code == 0, planned.stdout
        if planned.outputs["released"] == "true":
            return planned, Step(0, "", {})
        published = self.run(
            workspace,
            "publish",
            version,
            source,
            f"{IMAGE}@{digest}",
            env={"MOVE": planned.outputs["move"], "LEASES": planned.outputs["leases"]},
        )
        return planned, published

    def remote(self, tag: str) -> str:
        """The commit a tag of origin points at."""
        return git(self.origin, "rev-parse", f"refs/tags/{tag}^{{commit}}")

    def released_image(self, tag: str) -> str:
        text = git(self.origin, "show", f"refs/tags/{tag}:action.yml")
        return text.split("image: docker://", 1)[1].split()[0]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    origin, clone = tmp_path / "origin.git", tmp_path / "maintainer"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "init", "-q", "-b", "main", str(clone))
    git(clone, "remote", "add", "origin", str(origin))
    (clone / "action.yml").write_text(ACTION)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "the action")
    git(clone, "push", "-q", "origin", "main")
    return Repo(tmp_path, origin, clone)


@pytest.fixture
def gnupg() -> Iterator[Path]:
    """A throw-away signing key (no passphrase) in its own GNUPGHOME, short enough for the
    agent's socket path; the agent it starts is stopped afterwards."""
    if not shutil.which("gpg"):
        pytest.fail("gpg is needed to sign a tag (Debian: apt-get install gnupg)")
    home = Path(tempfile.mkdtemp(prefix="pfd-gpg-", dir="/tmp"))
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        subprocess.run(
            ["gpg", "--batch", "--passphrase", "", "--quick-generate-key",
             "Maintainer <m@example.com>", "ed25519", "sign", "never"],
            env=env, capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        yield home
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


# --- "already released?" --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lightweight", "annotated"])
def test_a_new_tag_is_not_released_yet(repo: Repo, kind: str) -> None:
    """The bug of issue 24: `ls-remote --refs` gave an annotated tag's object, never equal to
    GITHUB_SHA, so a fresh annotated tag passed for released and nothing was built."""
    source = repo.commit("fix")
    repo.tag("v1.2.3", source, kind)
    repo.push_tags("v1.2.3")
    step = repo.run(repo.checkout(source), "plan", "v1.2.3", source)
    assert step.code == 0, step.stdout
    assert step.outputs["released"] == "false"
    assert step.outputs["move"] == "v1.2 v1"
    assert (step.outputs["latest"], step.outputs["prerelease"]) == ("true", "false")
    tag_value = git(repo.origin, "rev-parse", "refs/tags/v1.2.3")
    assert (tag_value == source) is (kind == "lightweight")  # an annotated tag is an object
    assert step.outputs["leases"] == f"refs/tags/v1.2.3:{tag_value} refs/tags/v1.2: refs/tags/v1:"


def test_a_signed_tag_is_not_released_yet(repo: Repo, gnupg: Path) -> None:
    """`git tag -s`: an annotated tag object carrying a signature."""
    repo.gnupg = gnupg
    source = repo.commit("fix")
    repo.tag("v1.2.3", source, "signed")
    repo.push_tags("v1.2.3")
    tag_object = git(repo.origin, "cat-file", "-p", "refs/tags/v1.2.3")
    assert "-----BEGIN PGP SIGNATURE-----" in tag_object
    step = repo.run(repo.checkout(source), "plan", "v1.2.3", source)
    assert step.code == 0, step.stdout
    assert step.outputs["released"] == "false"
    # Released, then re-run: the signed tag was replaced by the release's annotated tag.
    _, published = repo.release("v1.2.3", source)
    assert published.code == 0, published.stdout
    again = repo.run(repo.checkout(source), "plan", "v1.2.3", source)
    assert again.code == 0 and again.outputs["released"] == "true", again.stdout


@pytest.mark.parametrize("kind", ["lightweight", "annotated"])
def test_a_rerun_after_the_release_only_checks_the_github_release(repo: Repo, kind: str) -> None:
    source = repo.commit("fix")
    repo.tag("v1.2.3", source, kind)
    repo.push_tags("v1.2.3")
    planned, published = repo.release("v1.2.3", source)
    assert planned.outputs["released"] == "false" and published.code == 0, published.stdout
    release_commit = repo.remote("v1.2.3")
    assert release_commit != source
    assert git(repo.origin, "rev-parse", f"{release_commit}^") == source
    assert repo.released_image("v1.2.3") == f"{IMAGE}@{DIGEST}"
    assert repo.remote("v1.2") == repo.remote("v1") == release_commit
    # The release tag is annotated: it names the source commit.
    assert f"Source commit: {source}" in git(repo.origin, "cat-file", "-p", "refs/tags/v1.2.3")

    rerun, _ = repo.release("v1.2.3", source)
    assert rerun.outputs["released"] == "true"
    assert "::notice title=Already released::" in rerun.stdout
    assert repo.remote("v1.2.3") == release_commit  # nothing moved


def test_the_release_commit_is_the_same_for_the_same_digest(repo: Repo) -> None:
    """The source commit's dates: a second attempt whose push was refused makes the same
    commit, so nothing differs but the push."""
    source = repo.commit("fix")
    repo.tag("v1.2.3", source)
    repo.push_tags("v1.2.3")
    stale = {"MOVE": "", "LEASES": f"refs/tags/v1.2.3:{git(repo.clone, 'rev-parse', 'main~1')}"}
    commits = []
    for _ in range(2):
        workspace = repo.checkout(source)
        step = repo.run(workspace, "publish", "v1.2.3", source, f"{IMAGE}@{DIGEST}", env=stale)
        assert step.code == 1 and "::error title=Tags changed meanwhile::" in step.stdout
        commits.append(git(workspace, "rev-parse", "HEAD"))
    assert commits[0] == commits[1]
    assert repo.remote("v1.2.3") == source  # refused: nothing moved


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_three_tags_pushed_at_once_each_release_and_floating_tags_end_on_the_newest(
    repo: Repo, order: tuple[int, int, int]
) -> None:
    """`git push origin v1.2.3 v1.2.4 v1.3.0` starts three runs; the workflow's concurrency
    (`queue: max`) runs them one at a time, in an order GitHub does not guarantee. Each
    is released, and the floating tags end where they must whatever the order."""
    versions = ["v1.2.3", "v1.2.4", "v1.3.0"]
    sources = {v: repo.commit(v) for v in versions}
    for version in versions:
        repo.tag(version, sources[version], "annotated")
    repo.push_tags(*versions)
    for index in order:
        version = versions[index]
        planned, published = repo.release(version, sources[version], "sha256:" + f"{index}" * 64)
        assert planned.outputs["released"] == "false"
        assert published.code == 0, published.stdout
    released = {v: repo.remote(v) for v in versions}
    for version in versions:
        assert git(repo.origin, "rev-parse", f"{released[version]}^") == sources[version]
    assert repo.remote("v1.2") == released["v1.2.4"]
    assert repo.remote("v1.3") == repo.remote("v1") == released["v1.3.0"]
    for version in versions:  # every re-run sees its release done
        assert repo.release(version, sources[version])[0].outputs["released"] == "true"


def test_a_tag_moved_between_plan_and_publish_moves_nothing(repo: Repo) -> None:
    """Two runs at once (no queue): v1.2.4's run moves `v1` after v1.2.3's run read it. The
    push of v1.2.3's run is refused whole: its version tag does not move either."""
    old, new = repo.commit("old"), repo.commit("new")
    repo.tag("v1.2.3", old)
    repo.tag("v1.2.4", new)
    repo.push_tags("v1.2.3")
    slow = repo.checkout(old)
    planned = repo.run(slow, "plan", "v1.2.3", old)
    assert planned.outputs["move"] == "v1.2 v1"
    repo.push_tags("v1.2.4")
    _, fast = repo.release("v1.2.4", new)
    assert fast.code == 0, fast.stdout
    before = git(repo.origin, "for-each-ref", "refs/tags")
    late = repo.run(
        slow, "publish", "v1.2.3", old, f"{IMAGE}@{DIGEST}",
        env={"MOVE": planned.outputs["move"], "LEASES": planned.outputs["leases"]},
    )  # fmt: skip
    assert late.code == 1
    assert "::error title=Tags changed meanwhile::" in late.stdout
    assert "Re-run this workflow" in late.stdout
    assert git(repo.origin, "for-each-ref", "refs/tags") == before  # all or nothing
    # The re-run reads the tags again: v1.2.4 is newer, so v1.2.3 moves no floating tag.
    planned, published = repo.release("v1.2.3", old)
    assert planned.outputs["move"] == "" and published.code == 0, published.stdout
    assert repo.remote("v1") == repo.remote("v1.2.4")
    assert git(repo.origin, "rev-parse", f"{repo.remote('v1.2.3')}^") == old


def test_a_tag_moved_to_another_commit_after_the_push_is_refused(repo: Repo) -> None:
    first, second = repo.commit("first"), repo.commit("second")
    repo.tag("v1.2.3", first)
    repo.push_tags("v1.2.3")
    workspace = repo.checkout(first)  # the run of the first push starts
    git(repo.clone, "tag", "-f", "v1.2.3", second)
    git(repo.clone, "push", "-q", "--force", "origin", "refs/tags/v1.2.3")
    step = repo.run(workspace, "plan", "v1.2.3", first)
    assert step.code == 1
    assert "::error title=Tag moved::" in step.stdout and second in step.stdout
    assert "released" not in step.outputs


def test_a_deleted_tag_is_refused(repo: Repo) -> None:
    source = repo.commit("fix")
    workspace = repo.checkout(source)
    step = repo.run(workspace, "plan", "v1.2.3", source)
    assert step.code == 1 and "::error title=Tag deleted::" in step.stdout


def test_a_tag_on_a_release_commit_is_refused(repo: Repo) -> None:
    """v1.2.4 tagged on v1.2.3's release commit (whose action.yml runs an image): not a
    source commit."""
    source = repo.commit("fix")
    repo.tag("v1.2.3", source)
    repo.push_tags("v1.2.3")
    repo.release("v1.2.3", source)
    git(repo.clone, "fetch", "-q", "--force", "origin", "refs/tags/v1.2.3:refs/tags/v1.2.3")
    release_commit = git(repo.clone, "rev-parse", "v1.2.3^{commit}")
    repo.tag("v1.2.4", release_commit)
    repo.push_tags("v1.2.4")
    step = repo.run(repo.checkout(release_commit), "plan", "v1.2.4", release_commit)
    assert step.code == 1 and "::error title=Not a source commit::" in step.stdout


def test_an_invalid_version_is_refused(repo: Repo) -> None:
    source = repo.commit("fix")
    step = repo.run(repo.checkout(source), "plan", "v1.2", source)
    assert step.code == 1 and "vMAJOR.MINOR.PATCH" in step.stdout


def test_no_arguments_prints_the_usage(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 2 and "plan VERSION SOURCE_SHA" in done.stderr


# --- the version's image never moves --------------------------------------------------------

SOURCE = "0123456789abcdef0123456789abcdef01234567"
D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def test_no_image_yet_is_built() -> None:
    assert release_state.image_decision(IMAGE, "v1.2.3", SOURCE, None, None) == {
        "digest": "",
        "tag-version": "false",
    }


def test_an_earlier_attempt_s_image_is_reused(capsys: pytest.CaptureFixture[str]) -> None:
    decided = release_state.image_decision(IMAGE, "v1.2.3", SOURCE, D1, D1)
    assert decided == {"digest": D1, "tag-version": "false"}
    assert "::notice title=Image reused::" in capsys.readouterr().out


def test_the_image_of_the_same_commit_is_tagged_not_rebuilt() -> None:
    """v1.2.3-rc.1 and v1.2.3 on one commit: the final reuses the candidate's image."""
    decided = release_state.image_decision(IMAGE, "v1.2.3", SOURCE, None, D2)
    assert decided == {"digest": D2, "tag-version": "true"}


@pytest.mark.parametrize("by_source", [None, D2])
def test_a_version_image_from_another_commit_is_never_repointed(by_source: str | None) -> None:
    with pytest.raises(release_state.Refusal) as refused:
        release_state.image_decision(IMAGE, "v1.2.3", SOURCE, D1, by_source)
    assert refused.value.title == "The version's image exists"
    assert "never moves" in refused.value.message and D1 in refused.value.message
