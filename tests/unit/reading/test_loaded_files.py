"""Which files of a folder a flow run loads, and what is not judged of the others."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.loaded_files import LOAD, NOTHING, LoadRisk, load_risk
from prefect_flow_deploy.reading.python_source import FolderSource
from prefect_flow_deploy.rules.decide import plan
from tests.unit.rules.test_decide import OPTIONS, inputs

from .test_discovery import make


def test_a_file_no_flow_loads_is_not_judged_as_if_a_run_did(tmp_path: Path) -> None:
    """hegdehog/data-engineering-zoomcamp-2023: a Prefect 2 deploy script beside the flow,
    which no flow imports, failed the folder (`prefect deploy` deploys its flow); a test's
    conftest.py asked for pytest in the image. A module a flow imports, even inside a
    function, is still judged: a run loads it."""
    make(
        tmp_path,
        "p/etl/flow.py",
        "from prefect import flow\n@flow\ndef etl():\n    import helpers\n",
    )
    make(
        tmp_path, "p/etl/helpers.py", "import pandas\nfrom prefect.deployments import Deployment\n"
    )
    make(tmp_path, "p/etl/deploy.py", "from prefect.deployments import Deployment\nimport boto3\n")
    make(tmp_path, "p/etl/tests/conftest.py", "import pytest\n")
    [folder] = discover(tmp_path)
    said = {(p.file.name, p.severity) for p in folder.problems if p.title == "Removed in Prefect 3"}
    assert said == {("helpers.py", "error"), ("deploy.py", "warning")}
    [script] = [p for p in folder.problems if p.file.name == "deploy.py"]
    assert "no flow of the folder imports this file, so no run does" in script.message
    # said from the finding alone (Problem.cause), without the error's own advice
    assert script.message.startswith("`from prefect.deployments import Deployment`: Prefect 3")
    assert "Prefect 3 removed it, so" not in script.message
    assert {(i.file, i.module) for i in folder.imports if i.module != "prefect"} == {
        ("flow.py", "helpers"), ("helpers.py", "pandas")  # not boto3, nor pytest
    }  # fmt: skip


def test_a_file_that_is_not_python_and_that_no_flow_loads_is_a_warning(tmp_path: Path) -> None:
    """BryanWille/br381-risk-pipeline (trial round 10 a 3): `create_bronze.py` holds SQL and
    nothing imports it; its syntax error failed the folder (Prefect loads only the
    entrypoint's file). It is a warning now, the folder's flow deploys. Still errors: such a
    file a flow imports (at the top or inside a function), one naming a flow (its flows
    would go undeployed unseen), and a folder with no other flow file."""
    sql = "CREATE TABLE IF NOT EXISTS bronze.raw (\n  id INT\n);\n"
    flow = "from prefect import flow\n{imports}\n\n@flow\ndef etl():\n    return 1\n"
    make(tmp_path, "p/alone/flow.py", flow.format(imports=""))
    make(tmp_path, "p/alone/create_bronze.py", sql)
    make(tmp_path, "p/imported/flow.py", flow.format(imports="import create_bronze"))
    make(tmp_path, "p/imported/create_bronze.py", sql)
    make(tmp_path, "p/later/flow.py", flow.format(imports="def f():\n    from sql import x"))
    make(tmp_path, "p/later/sql/x.py", sql)
    make(tmp_path, "p/named/flow.py", flow.format(imports=""))
    make(tmp_path, "p/named/broken_flow.py", "from prefect import flow\n@flow\ndef f(:\n")
    make(tmp_path, "p/only/create_bronze.py", sql)
    said = {
        f.name: [(p.file.name, p.severity) for p in f.problems if p.title == "Python syntax error"]
        for f in discover(tmp_path)
    }
    assert said == {
        "alone": [("create_bronze.py", "warning")],
        "imported": [("create_bronze.py", "error")],
        "later": [("x.py", "error")],
        "named": [("broken_flow.py", "error")],
        "only": [("create_bronze.py", "error")],
    }
    [alone] = [f for f in discover(tmp_path) if f.name == "alone"]
    assert [f.name for f in alone.flows] == ["etl"] and not alone.failed
    [warning] = [p for p in alone.problems if p.severity == "warning"]
    assert warning.message.startswith("syntax error (as Python ")
    assert "no flow of the folder imports this file and it names no flow" in warning.message
    assert "Fix the file, or" not in warning.message  # the error's advice, not the warning's


def test_a_dockerfile_by_another_name_is_said_not_to_be_read(tmp_path: Path) -> None:
    """nateadewynters-prog/prefect-prod's folders build from `Dockerfile.brandwatch` (by
    docker-compose): the default recipe was built instead, without a word, and every run
    crashed. `docker build <folder>` would not read it either: a warning, at the file."""
    make(tmp_path, "p/a/flow.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    for name in (
        "Dockerfile.brandwatch",
        "api.Dockerfile",
        "Containerfile",
        "Dockerfile.dockerignore",
    ):
        make(tmp_path, f"p/a/{name}", "FROM x\n")
    make(tmp_path, "p/a/sub/Dockerfile.dev", "FROM x\n")  # not the folder's top: no build reads it
    [folder] = discover(tmp_path)
    said = [p.file.name for p in folder.problems if p.title == "Dockerfile not read"]
    assert said == ["Containerfile", "Dockerfile.brandwatch", "api.Dockerfile"]
    make(tmp_path, "p/a/Dockerfile", "FROM x\nCOPY . .\n")  # the folder's own: nothing to say
    [folder] = discover(tmp_path)
    assert not [p for p in folder.problems if p.title == "Dockerfile not read"]


def test_a_removed_import_of_one_flow_file_fails_that_file_s_flows_alone(tmp_path: Path) -> None:
    """Stjefan/prefect-flows (trial b 8): `from prefect.filesystems import GitHub` in c.py
    failed the folder (its clean a.py and b.py too), as one row `-/<project>`. c.py's flows
    fail, each by its name, and the others deploy; when another flow file loads c.py, its
    error is theirs too, and the folder fails as before."""
    flow = "from prefect import flow\n\n\n@flow\ndef {0}():\n    pass\n"
    make(tmp_path, "p/f/a.py", flow.format("a"))
    make(tmp_path, "p/f/b.py", flow.format("b"))
    make(tmp_path, "p/f/c.py", "from prefect.filesystems import GitHub\n" + flow.format("c"))
    [folder] = discover(tmp_path)
    assert not folder.failed and folder.flow_error("c.py:c")
    actions = {
        d.full_name: (d.action, d.error or "") for d in plan(inputs(folder), OPTIONS).deployments
    }
    assert actions["a/p"] == ("create", "") and actions["b/p"] == ("create", "")
    assert actions["c/p"][0] == "failed" and "Prefect 3 removed it" in actions["c/p"][1]
    make(tmp_path, "p/f/a.py", "import c\n" + flow.format("a"))
    [folder] = discover(tmp_path)
    assert folder.failed


def test_a_file_whose_top_may_raise_is_loaded_in_the_image(tmp_path: Path) -> None:
    """Cam0505/CamOnPrefect (`ROOT = find_project_root()`), domoench/prefect-df (`import
    git`), tekumara/prefect-demo (`asyncio.run(…)`, `1/0`): each raised when loaded and every
    run of the deployment crashed (trial round 8 a 1, b 2). Definitions, stdlib and Prefect
    imports, literals, a `__main__` or `TYPE_CHECKING` block and calls that cannot raise run
    nothing that can; a file calling its own flow at its top is not loaded (the check would
    run that flow); one whose only risk is a library's import imports that alone."""
    head = '"""Doc."""\nimport os\nfrom prefect import flow, task\n\n@flow(name="x")\ndef etl():\n    pass\n'
    quiet = [
        "", "N = 3\nNAMES = ['a', ('b', 1)]\n", "helper = task(os.getcwd)\n",
        "if __name__ == '__main__':\n    etl()\n", "class Config:\n    url = os.environ['X']\n",
        "import logging\nlogger = logging.getLogger(__name__)\nURL = os.getenv('URL', 'x')\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n",
    ]  # fmt: skip
    loud = [
        "ROOT = find_project_root()\n", "from .helpers import x\n",
        "x = 1 / 0\n", "import asyncio\nasyncio.run(main())\n", "load_dotenv()\n",
        "KEY = os.environ['API_KEY']\n", "import git\nload_dotenv()\n",
        "URL = os.getenv(compute())\n",
    ]  # fmt: skip
    path = tmp_path / "flow.py"
    for tail in quiet:
        path.write_text(head + tail)
        assert load_risk(FolderSource(tmp_path), path, {"etl"}) == NOTHING, tail
    for tail in loud:
        path.write_text(head + tail)
        assert load_risk(FolderSource(tmp_path), path, {"etl"}) == LOAD, tail
    path.write_text(head + "x = 1 / 0\netl()\n")
    assert load_risk(FolderSource(tmp_path), path, {"etl"}) == NOTHING
    path.write_text("import git\nimport pandas as pd\nfrom git.repo import Repo, Blob\n" + head)
    assert load_risk(FolderSource(tmp_path), path, {"etl"}) == LoadRisk(
        libraries=(("git", ()), ("git.repo", ("Blob", "Repo")), ("pandas", ()))
    )


def test_the_folder_s_modules_a_flow_file_imports_are_judged_alike(tmp_path: Path) -> None:
    """A helper of definitions adds its libraries; one whose top runs code, takes a name it
    does not bind or is imported relatively makes Prefect load the flow. Bench/run.py's
    flows (a helper module, tabulate) were each loaded with Prefect: 2.8 s per folder."""
    flow = tmp_path / "flow.py"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import yaml\n")
    (pkg / "sub.py").write_text("from tabulate import tabulate\n\ndef fmt():\n    pass\n")
    (tmp_path / "helpers.py").write_text(
        '"""Doc."""\nimport humanize\n\ndef decorate():\n    pass\n'
    )
    (tmp_path / "loud.py").write_text("import os\nKEY = os.environ['KEY']\n\ndef f():\n    pass\n")

    def risk(head: str) -> LoadRisk:
        flow.write_text(head + "\nfrom prefect import flow\n\n@flow\ndef etl():\n    pass\n")
        return load_risk(FolderSource(tmp_path), flow, {"etl"})

    assert risk("from helpers import decorate") == LoadRisk(libraries=(("humanize", ()),))
    assert risk("import helpers\nimport pkg.sub") == LoadRisk(
        libraries=(("humanize", ()), ("tabulate", ("tabulate",)), ("yaml", ()))
    )
    assert risk("from pkg import sub") == risk("from pkg.sub import fmt")
    for head in ["from helpers import missing", "from loud import f", "from pkg.sub import *"]:
        assert risk(head) == LOAD, head
