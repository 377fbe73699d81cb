"""A flow folder's modules, read and never imported: what a name means in a module (a class or
function of the folder, an alias, a library's name), following the folder's own imports,
relative ones and `from x import *` included; nothing outside the folder is visible."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.flows import find_flows
from prefect_flow_deploy.reading.python_source import (
    Alias,
    ClassRef,
    External,
    FolderSource,
    FunctionRef,
    Unreadable,
)
from tests.unit.reading.test_flows_corpus import run_oracle


def folder(tmp_path: Path, **files: str) -> FolderSource:
    for name, text in files.items():
        path = tmp_path / f"{name.replace('__', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return FolderSource(tmp_path)


def meaning(source: FolderSource, path: Path, expression: str) -> object:
    module = source.module_at(str(path.resolve()))
    assert module is not None
    return source.resolver.expr(module, ast.parse(expression, mode="eval").body)


def test_names_are_followed_through_the_folder_s_own_imports(tmp_path: Path) -> None:
    source = folder(
        tmp_path,
        flow="from models import Settings\nfrom lib.helpers import *\nfrom typing import Optional as Opt\n"
        "import datetime as dt\nLIMIT = 3\n",
        models="from pydantic import BaseModel\nclass Settings(BaseModel):\n    x: int = 1\n",
        lib____init__="",
        lib__helpers="from .shared import run\n",
        lib__shared="def run():\n    pass\n",
    )  # fmt: skip
    flow = tmp_path / "flow.py"
    settings = meaning(source, flow, "Settings")
    assert isinstance(settings, ClassRef) and settings.node.name == "Settings"
    assert settings.module.path.name == "models.py"
    run = meaning(source, flow, "run")
    assert isinstance(run, FunctionRef) and run.module.path.name == "shared.py"
    assert meaning(source, flow, "Opt") == External("typing.Optional")
    assert meaning(source, flow, "dt.date") == External("datetime.date")
    assert meaning(source, flow, "int") == External("int")
    limit = meaning(source, flow, "LIMIT")
    assert isinstance(limit, Alias) and ast.unparse(limit.value) == "3"
    base = ast.parse("BaseModel", mode="eval").body
    models = source.module_at(str((tmp_path / "models.py").resolve()))
    assert (
        models is not None and source.resolver.external_name(models, base) == "pydantic.BaseModel"
    )


def test_a_name_the_folder_does_not_define_is_unreadable(tmp_path: Path) -> None:
    source = folder(tmp_path, flow="x = 1\n")
    with pytest.raises(Unreadable, match=r"`missing` is not defined at the top of flow\.py"):
        meaning(source, tmp_path / "flow.py", "missing")


def test_each_folder_sees_only_its_own_modules(tmp_path: Path) -> None:
    one = folder(
        tmp_path / "one", flow="from helpers import Thing\n", helpers="class Thing: pass\n"
    )
    two = folder(tmp_path / "two", flow="from helpers import Thing\n")
    assert isinstance(meaning(one, tmp_path / "one" / "flow.py", "Thing"), ClassRef)
    assert meaning(two, tmp_path / "two" / "flow.py", "Thing") == External("helpers.Thing")


GUARDED = {  # module: whether `flow` there means Prefect's flow where the flow runs
    "tried": "try:\n    from prefect import flow, task as t\nexcept ImportError:\n    flow = None\n",
    "tuple": "try:\n    from prefect.flows import flow\n"
    "except (ImportError, ModuleNotFoundError):\n    def flow(fn):\n        return fn\n",
    "any_error": "try:\n    from prefect import flow\nexcept Exception:\n    flow = None\n",
    "rebound": "try:\n    from prefect import flow\nexcept ImportError:\n    pass\nflow = None\n",
    "other": "try:\n    from ujson import loads as flow\nexcept ImportError:\n    flow = None\n",
    "switched": "import os\nif os.environ.get('NO_PREFECT'):\n    flow = None\n"
    "else:\n    from prefect import flow\n",
}
PREFECTS = {"tried": "prefect.flow", "tuple": "prefect.flows.flow", "switched": "prefect.flow"}


def test_a_prefect_import_tried_or_chosen_for_a_stand_in_is_prefect_s(tmp_path: Path) -> None:
    """`try: from prefect import flow` / `except ImportError:` a stand-in (so the file runs
    without Prefect), or an `if` whose one branch imports Prefect's (PrefectHQ/canary-flows'
    `SKIP_PREFECT` switch): where the flow runs Prefect is installed and makes it a flow, so
    the name is Prefect's, as Prefect finds it. Only for Prefect's names, and a `try` only
    when its handlers catch a failed import alone; a later binding wins, as in Python."""
    source = folder(tmp_path, **GUARDED)
    for name in GUARDED:
        try:
            found: object = meaning(source, tmp_path / f"{name}.py", "flow")
        except Unreadable:
            found = None
        if name in PREFECTS:
            assert found == External(PREFECTS[name]), name
        else:
            assert not isinstance(found, External), (name, found)
    assert meaning(source, tmp_path / "tried.py", "t") == External("prefect.task")
    flows = tmp_path / "flows"
    flows.mkdir()
    code = "\n\n@flow(log_prints=True)\ndef f(n: int = 1):\n    pass\n"
    for name in ("tried", "switched"):
        (flows / f"{name}.py").write_text(GUARDED[name] + code)
    answers = run_oracle(sys.executable, {str(flows): ["tried.py", "switched.py"]})[str(flows)]
    for name in ("tried", "switched"):
        [flow], problems, _ = find_flows(flows / f"{name}.py", flows)
        prefect = answers[f"{name}.py"]["f"]
        assert problems == []
        assert (flow.name, flow.parameter_schema) == (prefect["name"], prefect["schema"])


WITH_BLOCKS = {  # a `with` body at the top runs when the module loads: its names are the module's
    "quiet": "import warnings\n\nwith warnings.catch_warnings():\n"
    "    warnings.simplefilter('ignore')\n    from prefect import flow\n\n\n"
    "@flow(log_prints=True)\ndef hello(name: str = 'world'):\n    print(name)\n",
    # marimo's notebooks import in `with app.setup:` and define functions under blocks too
    "inside": "import contextlib\n\nwith contextlib.nullcontext():\n    from prefect import flow\n"
    "    with contextlib.nullcontext():\n\n        @flow(name='in-a-block')\n"
    "        def nested(days: int = 3):\n            pass\n",
    "rebound": "import contextlib\nfrom prefect import flow\n\n\n@flow\ndef gone():\n    pass\n\n\n"
    "with contextlib.nullcontext():\n    gone = None\n",
    # of `if __name__ == "__main__":` only the else runs when Prefect loads the file
    "script": "from prefect import flow\n\nif __name__ == '__main__':\n    loaded = None\n"
    "else:\n\n    @flow\n    def loaded(x: int = 1):\n        pass\n",
}


def test_a_with_block_at_the_top_binds_as_the_module_s_load_runs_it(tmp_path: Path) -> None:
    """`with warnings.catch_warnings(): from prefect import flow` (and marimo's `with
    app.setup:`; orkapodavid/prefect_marimo_starter) always runs its body: the import, a
    flow defined there and a name rebound there are the module's, as Prefect's loader finds
    them (the oracle), not a choice made at run time (before: no flow found)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, code in WITH_BLOCKS.items():
        (flows / f"{name}.py").write_text(code)
    files = [f"{name}.py" for name in WITH_BLOCKS]
    answers = run_oracle(sys.executable, {str(flows): files})[str(flows)]
    for name in WITH_BLOCKS:
        found, problems, _ = find_flows(flows / f"{name}.py", flows)
        prefect = answers[f"{name}.py"]
        assert problems == [], (name, problems)
        assert {f.function: (f.name, f.parameter_schema) for f in found} == {
            attr: (answer["name"], answer["schema"]) for attr, answer in prefect.items()
        }, name
    assert set(answers["inside.py"]) == {"nested"} and answers["rebound.py"] == {}
    assert set(answers["script.py"]) == {"loaded"}
