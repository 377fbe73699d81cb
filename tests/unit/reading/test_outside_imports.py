"""A flow file's top-level import of a module of the repository outside its folder is said
before the build, once per file and module."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.outside_imports import FOLDER_BY_PATH, OUTSIDE

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


def test_the_folder_itself_by_its_path_is_said_before_the_build(tmp_path: Path) -> None:
    """Baskakovs/idx (trial round 11 a 1): Prefect's layout, `from idx import get_logger`
    and `from idx.download import …` in src/idx/main.py (entrypoint `src/idx/main.py:main`):
    validate and plan said nothing, deploy refused it after a 13 s build. A warning at the
    first import of each flow file (the build's check makes it an error), with what to write
    instead, `__init__.py`'s names included; a module of that name in the folder, an import
    inside a function and a file no flow is in are not said."""
    (tmp_path / ".git").mkdir()
    entries = "".join(
        f"- name: {n}\n  entrypoint: src/{n}.py:deadpool\n"
        for n in ("idx/main", "own/main", "plain/main", "plain/moved")
    )
    make(tmp_path, "prefect.yaml", f"deployments:\n{entries}")
    imports = "from idx import get_logger\nfrom idx.download import fetch\nimport idx.parse"
    make(tmp_path, "src/idx/__init__.py", "def get_logger(): ...\n")
    make(tmp_path, "src/idx/main.py", FLOW.format(imports=imports))
    make(tmp_path, "src/idx/download.py", "from idx import get_logger\n")  # no flow in it
    make(tmp_path, "src/own/main.py", FLOW.format(imports="import own\ndef f():\n    import own"))
    make(tmp_path, "src/own/own.py", "x = 1\n")  # `import own` finds this, in the image too
    make(tmp_path, "src/plain/main.py", FLOW.format(imports="def f():\n    from plain import x"))
    # After a change of sys.path only loading the file tells (the image check does)
    moved = "import sys\nsys.path.insert(0, '..')\nfrom plain.x import y\nimport utilities"
    make(tmp_path, "utilities/__init__.py", "")
    make(tmp_path, "src/plain/moved.py", FLOW.format(imports=moved))
    said = {
        f.name: [(p.file.name, p.line, p.severity, p.message) for p in f.problems
                 if p.title == FOLDER_BY_PATH]
        for f in discover(tmp_path, None, "acme/x")
    }  # fmt: skip
    assert [(n, [w[:3] for w in s]) for n, s in sorted(said.items())] == [
        ("idx", [("main.py", 2, "warning")]), ("own", []), ("plain", [])
    ]  # fmt: skip
    message = said["idx"][0][3]
    assert message.startswith("main.py imports `idx` (also at lines 3, 4), the flow folder itself")
    assert "not `import idx.helpers`; what `idx/__init__.py` defines, from a module" in message
    assert not [p for f in discover(tmp_path, None, "acme/x") for p in f.problems
                if p.title == OUTSIDE]  # fmt: skip


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
