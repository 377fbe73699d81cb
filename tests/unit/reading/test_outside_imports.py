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
        "flow.py imports `utilities` (also at line 5), which is utilities in the repository"
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
