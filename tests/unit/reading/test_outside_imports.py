"""A flow file's top-level import of a module of the repository outside its folder is said
before the build, once per file and module."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.outside_imports import OUTSIDE

from .test_discovery import make

FLOW = "from prefect import flow\n{imports}\n\n@flow\ndef deadpool():\n    pass\n"


def test_a_root_package_a_flow_file_imports_is_said_before_the_build(tmp_path: Path) -> None:
    """broepke/prefect-dka: `from utilities.… import` on 7 lines passed validate and plan
    ("0 errors"); deploy refused the folder after its build (trial b 4). One warning per
    file and module, naming the other lines; a package, a module of the folder, one
    imported inside a function, and a file no flow is in are not said."""
    root = tmp_path
    (root / ".git").mkdir()
    make(root, "utilities/__init__.py", "")
    make(root, "projects/p/common.py", "X = 1\n")
    imports = (
        "import pandas\nimport helpers\nfrom utilities.slack import send\n"
        "from utilities import db\nimport common\n"
        "def later():\n    from utilities import other\n"
    )
    make(root, "projects/p/dp/flow.py", FLOW.format(imports=imports))
    make(root, "projects/p/dp/helpers.py", "import utilities\n")
    [folder] = discover(root / "projects", None, "acme/x")
    said = [
        (p.file.name, p.line, p.severity, p.message) for p in folder.problems if p.title == OUTSIDE
    ]
    assert [(f, line, s) for f, line, s, _ in said] == [
        ("flow.py", 4, "warning"), ("flow.py", 6, "warning")
    ]  # fmt: skip
    assert said[0][3].startswith(
        "flow.py imports `utilities` (also at line 5), which is utilities/ in the repository"
    )
    assert said[1][3].startswith("flow.py imports `common`, which is projects/p/common.py")


def test_the_folder_itself_by_its_path_is_not_said_here(tmp_path: Path) -> None:
    """Prefect's layout, `from flows.helpers import …` in flows/: the build's check says
    what to import instead; the folder is no module outside it."""
    (tmp_path / ".git").mkdir()
    make(
        tmp_path, "prefect.yaml", "deployments:\n- name: d\n  entrypoint: flows/flow.py:deadpool\n"
    )
    make(tmp_path, "flows/flow.py", FLOW.format(imports="from flows.helpers import x"))
    make(tmp_path, "flows/helpers.py", "x = 1\n")
    [folder] = discover(tmp_path, None, "acme/x")
    assert not [p for p in folder.problems if p.title == OUTSIDE]


def test_what_the_folder_or_the_image_has_is_not_said(tmp_path: Path) -> None:
    """Trial 2026-12-05 round 8: `from prefect import flow` beside a root `prefect/` folder
    of deployment files (victor-floriano/ba882), a helper the folder has and the root has
    too (nikagos/de-zoomcamp, Cam0505/CamOnPrefect after copying it in), one beside a flow
    file in a subfolder, a stdlib name, and Prefect's layout with the flow at the root
    (the folder is the root): each was warned as outside the folder; none is."""
    (tmp_path / ".git").mkdir()
    make(tmp_path, "prefect/deployment.yaml", "x: 1\n")
    make(tmp_path, "logging/__init__.py", "")
    make(tmp_path, "helpers.py", "X = 1\n")
    make(tmp_path, "sibling.py", "X = 1\n")
    make(tmp_path, "projects/p/dp/helpers.py", "X = 1\n")
    make(tmp_path, "projects/p/dp/sub/sibling.py", "X = 1\n")
    imports = "import logging\nimport helpers\n"
    make(tmp_path, "projects/p/dp/flow.py", FLOW.format(imports=imports))
    make(
        tmp_path,
        "projects/p/dp/sub/other.py",
        FLOW.format(imports="import sibling").replace("deadpool", "other"),
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    assert not [p for p in folder.problems if p.title == OUTSIDE]
    root = tmp_path / "root-layout"
    (root / ".git").mkdir(parents=True)
    make(root, "prefect.yaml", "deployments:\n- name: d\n  entrypoint: flow.py:deadpool\n")
    make(root, "flow.py", FLOW.format(imports="import helper"))
    make(root, "helper.py", "X = 1\n")
    [folder] = discover(root, None, "acme/x")
    assert not [p for p in folder.problems if p.title == OUTSIDE]


def test_a_namespace_package_of_the_repository_is_said_too(tmp_path: Path) -> None:
    """CBIIT/prefect-toolkit (trial round 9, a 3): `from src.commons.submval import …`,
    with no `__init__.py` in src/ or src/commons/ (namespace packages, which the checkout's
    top on sys.path imports): validate and plan said nothing, the build's check refused the
    folders. A folder without Python files (data, docs) is no module."""
    (tmp_path / ".git").mkdir()
    make(tmp_path, "common/db/conn.py", "def connect():\n    pass\n")
    make(tmp_path, "data/orders.csv", "a,b\n")
    imports = "from common.db.conn import connect\nimport data\n"
    make(tmp_path, "projects/p/etl/flow.py", FLOW.format(imports=imports))
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    said = [(p.line, p.message) for p in folder.problems if p.title == OUTSIDE]
    assert [line for line, _ in said] == [2], said
    assert said[0][1].startswith("flow.py imports `common`, which is common/ in the repository")
