"""What a flow file imports that the image must hold: absolute imports of modules outside the
standard library, at module level or in a function, never the optional ones (guarded by
`except ImportError`, under `if TYPE_CHECKING`); names Prefect 3 removed, said apart."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.third_party_imports import ThirdPartyImports

from .test_discovery import make


def read(source: str) -> ThirdPartyImports:
    found = ThirdPartyImports("flows/etl.py")
    found.visit(ast.parse(textwrap.dedent(source)))
    return found


def test_third_party_imports_are_collected_but_not_optional_ones(tmp_path: Path) -> None:
    make(
        tmp_path,
        "p/x/flow.py",
        "import os, json\nimport pandas as pd\nfrom sqlalchemy.orm import Session\nfrom . import sibling\n"
        "from helpers import render\ntry:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n"
        "from prefect import flow\n\n@flow\ndef f():\n    import requests\n",
    )
    [folder] = discover(tmp_path)
    found = {(i.module, i.line) for i in folder.imports}
    assert found == {
        ("pandas", 2),
        ("sqlalchemy", 3),
        ("helpers", 5),
        ("prefect", 13),
        ("requests", 17),
    }


def test_guards_that_do_not_catch_import_errors_leave_the_import_required() -> None:
    found = read(
        """
        try:
            import yaml
        except ValueError:
            yaml = None
        try:
            import ujson
        except (KeyError, ModuleNotFoundError):
            ujson = None
        try:
            import toml
        except:  # noqa: E722
            toml = None
        """
    )
    assert [(i.module, i.line, i.file) for i in found.found] == [("yaml", 3, "flows/etl.py")]


def test_imports_in_expressions_and_the_standard_library_are_not_collected() -> None:
    found = read(
        """
        from __future__ import annotations
        import os.path, collections.abc
        lazy = lambda: __import__("numpy")
        class Loader:
            def load(self):
                from boto3.session import Session
        """
    )
    assert [(i.module, i.line) for i in found.found] == [("boto3", 7)]


def test_prefect_names_are_checked_in_the_image_and_removed_ones_said_apart() -> None:
    found = read(
        """
        from prefect.deployments import Deployment
        from prefect.tasks import task_input_hash
        def later():
            from prefect.deployments import Deployment
        """
    )
    prefect = [(i.module, i.line, i.path, i.name, i.nested) for i in found.found]
    assert ("prefect", 3, "prefect.tasks", "task_input_hash", False) in prefect
    assert [(line, nested) for line, _, _, nested in found.removed] == [(2, False), (5, True)]
    assert found.removed[0][1] == "from prefect.deployments import Deployment"


MAIN_BLOCK = """\
from prefect import flow


@flow
def etl() -> int:
    return 1


if __name__ == "__main__":
    import not_installed_anywhere
    from prefect.results import _Result  # gone from Prefect 3
    etl = None
else:
    import tabulate
"""


def test_what_only_running_the_file_as_a_script_imports_is_not_the_image_s_to_hold(
    tmp_path: Path,
) -> None:
    """`if __name__ == "__main__":` never runs when Prefect loads a flow file (under another
    module name; the oracle below loads it so and gets the flow): its imports are not
    required of the image, nor are its bindings the module's (PrefectHQ/canary-flows'
    flows/flow-results.py: such an import of a name Prefect 3.9 lacks failed all 25 of its
    deployments). Its `else:` does run."""
    from tests.unit.reading.test_flows_corpus import run_oracle

    found = read(MAIN_BLOCK)
    assert [(i.module, i.line) for i in found.found] == [("prefect", 1), ("tabulate", 14)]
    assert found.removed == []
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "etl.py").write_text(MAIN_BLOCK.replace("import tabulate", "pass"))
    answers = run_oracle(sys.executable, {str(tmp_path / "flows"): ["etl.py"]})
    assert set(answers[str(tmp_path / "flows")]["etl.py"]) == {"etl"}
    make(tmp_path / "repo", "p/x/flow.py", MAIN_BLOCK)
    [folder] = discover(tmp_path / "repo")
    assert [f.function for f in folder.flows] == ["etl"] and not folder.failed


def test_imports_after_a_change_of_sys_path_at_the_top_are_marked() -> None:
    """CamilleLarpin/pea-pme-pulse: `sys.path.insert(0, str(Path(__file__).parent.parent))`,
    then `from flows.x import …`: where Python finds `flows` is known only by loading the
    file (the image check loads it, docker/image_check.py). Before the change, and a change
    inside a function (it runs later, if ever), leave an import as it is."""
    found = read(
        """
        import sys
        import pandas
        from pathlib import Path

        def later():
            sys.path.append("/elsewhere")

        import numpy
        sys.path.insert(0, str(Path(__file__).parent.parent))
        from flows.helpers import greet

        def f():
            import requests
        """
    )
    marked = {i.module: i.after_path_change for i in found.found}
    assert marked == {"pandas": False, "numpy": False, "flows": True, "requests": True}


def test_every_way_of_changing_sys_path_marks_what_follows() -> None:
    for change in (
        "sys.path.append('..')",
        "sys.path.extend(['..'])",
        "sys.path = ['..', *sys.path]",
        "sys.path[:0] = ['..']",
        "sys.path += ['..']",
        "site.addsitedir('..')",
        "if True:\n    sys.path.insert(0, '..')",
    ):
        found = read(f"import sys, site\nimport before\n{change}\nimport after\n")
        assert {i.module: i.after_path_change for i in found.found} == {
            "before": False, "after": True
        }, change  # fmt: skip
