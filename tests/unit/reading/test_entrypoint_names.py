"""A root prefect.yaml entry naming a flow by another name than its definition's: an alias in
its file, a flow imported from a sibling module. Prefect loads the module's attribute, so it
deploys that flow; so do we, as that entrypoint, with what Prefect reads of it (the oracle,
tests/corpus/oracle.py, imports the files). A name that is no flow stays an error."""

from __future__ import annotations

import sys
from pathlib import Path

from prefect_flow_deploy.core.model import ImagePlan
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.rules.specs import deployment_specs
from prefect_flow_deploy.settings.options import Options
from tests.unit.reading.test_flows_corpus import run_oracle

ETL = '''from prefect import flow


@flow(name="nightly-etl")
def etl(days: int = 1, label: str = "x") -> None:
    """Load the data.

    Args:
        days: how far back
    """


def helper() -> None:
    pass


made = flow(helper, name="made-here")
first = etl
second = first  # a chain of names
'''
MAIN = """from etl import etl as run, made
from etl import helper
"""
ENTRIES = {
    "alias": "flows/etl.py:second",
    "imported": "flows/main.py:run",
    "imported-made": "flows/main.py:made",
    "own": "flows/etl.py:etl",
    "not-a-flow": "flows/main.py:helper",
}


def repository(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    entries = "".join(f"- name: {n}\n  entrypoint: {e}\n" for n, e in ENTRIES.items())
    (tmp_path / "prefect.yaml").write_text(f"deployments:\n{entries}")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "etl.py").write_text(ETL)
    (tmp_path / "flows" / "main.py").write_text(MAIN)
    return tmp_path


def test_an_alias_or_an_import_deploys_the_flow_it_names(tmp_path: Path) -> None:
    root = repository(tmp_path)
    [folder] = discover(root, None, "acme/x")
    flows = {f.entrypoint: f for f in folder.flows}
    assert sorted(flows) == ["etl.py:etl", "etl.py:second", "main.py:made", "main.py:run"]
    prefect = run_oracle(sys.executable, {str(root / "flows"): ["etl.py", "main.py"]})
    answers = prefect[str(root / "flows")]
    for entrypoint, flow in flows.items():
        file, _, attribute = entrypoint.partition(":")
        theirs = answers[file][attribute]
        assert (flow.name, flow.description) == (theirs["name"], theirs["description"])
        assert flow.parameter_schema == theirs["schema"], entrypoint
    assert flows["main.py:run"].line == 1  # where the entry's file binds the name
    # the entry naming no flow is kept: the plan fails it alone, by its name (trial round
    # 11 b 11: it failed the folder), below
    assert not folder.failed
    image = ImagePlan(folder, f"r/{folder.project}/{folder.name}", "tag", {})
    specs, problems = deployment_specs(folder, image, Options(registry="r"))
    [error] = problems
    assert "names 'flows/main.py:helper', which is not a @flow" in error.message
    assert error.flow == "helper/not-a-flow"  # said by the plan, alone
    assert sorted((s.full_name, s.entrypoint) for s in specs) == [
        ("helper/not-a-flow", "flows/main.py:helper"),  # its failed row, as written
        ("made-here/imported-made", "main.py:made"),
        ("nightly-etl/alias", "etl.py:second"),
        ("nightly-etl/imported", "main.py:run"),
        ("nightly-etl/own", "etl.py:etl"),
    ]


def test_an_alias_is_no_second_flow_of_a_folder(tmp_path: Path) -> None:
    """In the folder layout each flow deploys once, by its definition."""
    folder_path = tmp_path / "projects" / "p" / "f"
    folder_path.mkdir(parents=True)
    (folder_path / "etl.py").write_text(ETL)
    [folder] = discover(tmp_path / "projects")
    assert sorted(f.entrypoint for f in folder.flows) == ["etl.py:etl", "etl.py:made"]
    assert not [p for p in folder.problems if p.severity == "error"]


def test_a_folder_prefect_yaml_entry_deploys_a_flow_by_another_name(tmp_path: Path) -> None:
    """What `adopt` writes from Prefect's layout: the folder's own prefect.yaml names a flow
    its `__init__.py` re-exports (trial 2026-12-05, D 2: refused in this layout, accepted in
    Prefect's). The entry deploys it as Prefect loads it; its definition gets no default
    deployment of its own (it is named), a flow no entry names still does."""
    folder_path = tmp_path / "projects" / "p" / "f"
    folder_path.mkdir(parents=True)
    (folder_path / "etl.py").write_text(ETL)
    (folder_path / "__init__.py").write_text("from .etl import etl\n")
    (folder_path / "prefect.yaml").write_text(
        "deployments:\n- name: via-init\n  entrypoint: __init__.py:etl\n"
    )
    [folder] = discover(tmp_path / "projects")
    assert not folder.problems
    assert sorted(f.entrypoint for f in folder.flows) == ["__init__.py:etl", "etl.py:made"]
    prefect = run_oracle(sys.executable, {str(folder_path): ["__init__.py"]})
    theirs = prefect[str(folder_path)]["__init__.py"]["etl"]
    [flow] = [f for f in folder.flows if f.file == "__init__.py"]
    assert (flow.name, flow.parameter_schema) == (theirs["name"], theirs["schema"])
    image = ImagePlan(folder, "r/p/f", "tag", {})
    specs, problems = deployment_specs(folder, image, Options(registry="r"))
    assert problems == []
    assert sorted(s.full_name for s in specs) == ["made-here/p", "nightly-etl/via-init"]
