"""A name a flow file imports from its folder's own module that the module never binds
(imported_names.py), with Prefect's loader as the oracle: each case is a flow file of one
folder, loaded as a run loads it; the files reading says fail are exactly those Prefect
cannot load, and the modules that may bind more than their source shows are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.imported_names import TITLE

from .test_discovery import make

FLOW = "\nfrom prefect import flow\n\n\n@flow\ndef {name}():\n    return 1\n"
MODULES = {
    "helpers.py": "def helper():\n    return 1\n\n# def missing_name(): …\n",
    "consts.py": "A, B = 1, 2\nfor X in [1]:\n    pass\nwith open(__file__) as F:\n    pass\n"
    "(W := 3)\ntry:\n    import json as J\nexcept ImportError:\n    J = None\n",
    "starry.py": "from json import *\n",
    "lazy.py": "def __getattr__(name):\n    return 1\n",
    "globs.py": "globals()['G'] = 1\n",
    "setter.py": "import sys\n\n\ndef _bind():\n    setattr(sys.modules[__name__], 'S', 1)\n\n\n_bind()\n",
    "pkg/__init__.py": "",
    "pkg/sub.py": "X = 1\n",
    "ns/__init__.py": "",
    "ns/inner/x.py": "X = 1\n",
}
IMPORTS = {
    "missing": "from helpers import helper, missing_name",
    "present": "from helpers import helper",
    "bound": "from consts import A, B, X, F, W, J",
    "star": "from starry import dumps",
    "lazy": "from lazy import anything",
    "globs": "from globs import G",
    "setter": "from setter import S",
    "submodule": "from pkg import sub",
    "namespace": "from ns import inner",
    "guarded": "try:\n    from helpers import nope\nexcept ImportError:\n    nope = None",
    "nested": "def later():\n    from helpers import nope_later",
}


def test_reading_fails_exactly_the_files_prefect_cannot_load(tmp_path: Path) -> None:
    folder = tmp_path / "p" / "f"
    for relative, text in MODULES.items():
        make(folder, relative, text)
    for name, imports in IMPORTS.items():
        make(folder, f"use_{name}.py", imports + "\n" + FLOW.format(name=name))
    [read] = discover(tmp_path)
    said = [p for p in read.problems if p.title == TITLE]
    assert [(p.file.name, p.line, p.flow) for p in said] == [
        ("use_missing.py", 1, "use_missing.py:*")
    ]
    assert said[0].message.startswith(
        "`from helpers import missing_name`: helpers.py binds no `missing_name`"
    )
    assert not read.failed  # the folder's other flows deploy
    loads = (
        "import sys\nfrom prefect.flows import load_flow_from_entrypoint as load\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n        load(f'use_{name}.py:{name}', use_placeholder_flow=False)\n"
        "    except Exception as exc:\n        print(name, type(exc.__cause__).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", loads, *IMPORTS], cwd=folder, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PREFECT_SERVER_EPHEMERAL_ENABLED": "false"},
    )  # fmt: skip
    assert done.stdout.splitlines() == ["missing ImportError"], done.stderr


def test_each_module_imported_is_judged_once_a_run(tmp_path: Path) -> None:
    """Counted, not timed: ten flow files importing one module walk it once."""
    from unittest import mock

    from prefect_flow_deploy.reading import imported_names

    folder = tmp_path / "p" / "f"
    make(folder, "helpers.py", MODULES["helpers.py"])
    for n in range(10):
        make(folder, f"f{n}.py", "from helpers import helper\n" + FLOW.format(name=f"f{n}"))
    with mock.patch.object(
        imported_names, "_bound_names", wraps=imported_names._bound_names
    ) as walked:
        discover(tmp_path)
    assert walked.call_count == 1
