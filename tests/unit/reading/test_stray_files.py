"""Files directly in a project folder (stray_files.py): each said with where it belongs."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.reading.stray_files import warn_strays

from .test_discovery import make


def test_each_stray_file_gets_the_advice_for_what_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kevingrismore/cicd-example-workspaces (trial round 10 a 7): a prefect.yaml beside the
    flow folders was told to be a base image's packages; what is lost is its entries. A
    requirements.txt keeps the packages' advice; a flow file is not deployed."""
    make(tmp_path, "p/prefect.yaml", "deployments:\n- name: daily\n  entrypoint: f/flow.py:hi\n")
    make(tmp_path, "p/requirements.txt", "pandas\n")
    make(tmp_path, "p/loose.py", "from prefect import flow\n@flow\ndef loose(): pass\n")
    warn_strays(tmp_path / "p")
    lines = capsys.readouterr().err.splitlines()
    [yaml_said] = [line for line in lines if "prefect.yaml is directly" in line]
    assert "its entries' names, schedules and parameters are not deployed" in yaml_said
    assert "(`flow.py:main`, not `<folder>/flow.py:main`)" in yaml_said
    assert "base image" not in yaml_said
    [requirements] = [line for line in lines if "requirements.txt is directly" in line]
    assert "build a base image once and give it as base-image" in requirements
    assert any("loose.py is directly in the project folder p/, so it is not deployed" in line
               for line in lines)  # fmt: skip
