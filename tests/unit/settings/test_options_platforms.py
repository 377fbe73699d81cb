"""The platforms setting: read and checked once, and part of the content tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.reading.build_context import ContextFile, content_tag
from prefect_flow_deploy.settings.options import Options

FILES = [ContextFile("flow.py", "ab" * 32, False)]


def test_platforms_are_normalised_and_checked(tmp_path: Path) -> None:
    options = Options(
        projects_root=tmp_path, registry="localhost:5000/x", platforms=" linux/ARM64, linux/amd64 "
    ).validate()
    assert options.platforms == "linux/amd64,linux/arm64"
    assert options.platform_list == ("linux/amd64", "linux/arm64")
    with pytest.raises(ConfigurationError, match="os/architecture"):
        Options(projects_root=tmp_path, registry="r.io/x", platforms="arm64").validate()
    with pytest.raises(ConfigurationError, match="manifest list in a registry"):
        Options(projects_root=tmp_path, platforms="linux/amd64,linux/arm64").validate()
    # One platform needs no registry: a local image for it.
    Options(projects_root=tmp_path, platforms="linux/arm64").validate()


def test_the_content_tag_covers_the_platforms_and_keeps_the_default_tags() -> None:
    default, inputs = content_tag(FILES, "FROM x", {}, {"x": "sha256:1"})
    assert "platforms" not in inputs  # tags made before platforms existed stay the same
    both, _ = content_tag(
        FILES, "FROM x", {}, {"x": "sha256:1"}, platforms=("linux/amd64", "linux/arm64")
    )
    reordered, _ = content_tag(
        FILES, "FROM x", {}, {"x": "sha256:1"}, platforms=("linux/arm64", "linux/amd64")
    )
    one, _ = content_tag(FILES, "FROM x", {}, {"x": "sha256:1"}, platforms=("linux/amd64",))
    assert len({default, both, one}) == 3 and both == reordered
