"""dockerignore.py is the Docker SDK's own .dockerignore matcher (docker.utils.build), here so
that reading a folder needs no SDK: on one tree, every pattern set gives the same files."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.utils.build import exclude_paths as sdk_exclude_paths

from prefect_flow_deploy.reading.dockerignore import exclude_paths, translate

FILES = [
    "flow.py", "Dockerfile", ".dockerignore", ".env", "README.md", "data/big.csv",
    "data/keep/small.csv", "src/pkg/__init__.py", "src/pkg/mod.py", "src/pkg/__pycache__/m.pyc",
    "docs/a.md", "docs/deep/b.md", "Tests/UPPER.txt", "weird[1].txt", "x?y.txt", ".venv/bin/python",
]  # fmt: skip
PATTERNS = [
    [],
    ["*.md"],
    ["**/*.md", "!README.md"],
    ["data", "!data/keep"],
    ["data/", "!data/keep/small.csv"],
    ["**/__pycache__", "*.pyc", ".venv"],
    ["src/**", "!src/pkg/mod.py"],
    ["*", "!flow.py"],
    ["./docs/../docs/deep"],
    ["tests"],  # case-insensitive, as the SDK matches
    ["weird[0-9].txt", "x?y.txt"],
    ["weird[!1].txt", "[", "a/**/b"],
    ["  .env  ", "#not a comment here", "/README.md/"],
    ["Dockerfile", ".dockerignore"],  # never excluded
    ["**"],
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("context")
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    (root / "link").symlink_to("src")
    return root


@pytest.mark.parametrize("patterns", PATTERNS, ids=[" ".join(p) or "none" for p in PATTERNS])
def test_the_same_files_as_the_docker_sdk(tree: Path, patterns: list[str]) -> None:
    ours = exclude_paths(str(tree), list(patterns))
    assert ours == sdk_exclude_paths(str(tree), list(patterns), dockerfile="Dockerfile")
    assert "Dockerfile" in ours and ".dockerignore" in ours


def test_translate_stops_single_stars_at_slashes() -> None:
    assert translate("*.md") == r"^[^/]*\.md$"
    assert translate("a/**/b") == "^a/(.*/)?b$"
