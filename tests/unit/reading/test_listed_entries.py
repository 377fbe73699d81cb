"""A folder the root prefect.yaml lists: the entries kept are those naming a flow of it."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.core.model import DeploymentConfig, FlowFolder, FlowSpec
from prefect_flow_deploy.reading.listed_entries import keep_listed


def test_an_entry_naming_no_flow_of_the_folder_is_an_error_at_its_line(tmp_path: Path) -> None:
    flow = FlowSpec("etl", "etl", "etl.py", 3, {"properties": {}})
    good = DeploymentConfig(entrypoint="etl.py:etl", name="daily", line=2)
    typo = DeploymentConfig(entrypoint="etl.py:etl_typo", name="typo", line=5)
    folder = FlowFolder(
        "x", "flows", tmp_path, [flow], prefect_yaml=tmp_path / "prefect.yaml",
        deployment_configs=[good, typo],
    )  # fmt: skip
    kept, [problem] = keep_listed(folder)
    assert kept == [good]
    assert (problem.severity, problem.line) == ("error", 5)
    assert problem.message.startswith("`entrypoint: etl.py:etl_typo` names no @flow")
