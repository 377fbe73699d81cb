"""What of a file's flows Prefect cannot deploy where they are, said at their lines: a flow
in a class or inside a function, a `flow` an if/try binds only one way to Prefect's."""

from __future__ import annotations

import os
from pathlib import Path

from prefect_flow_deploy.reading.flow_file_problems import ENCLOSED_FLOW_TITLES
from tests.unit.reading.test_flow_file_reader import read


def test_flows_prefect_cannot_load_by_entrypoint_are_said_at_their_line(tmp_path: Path) -> None:
    reader = read(
        tmp_path,
        """
        from prefect import flow

        class Jobs:
            @flow
            def method(self):
                pass

        def outer():
            @flow
            def inner():
                pass
            return inner
        """,
    )
    assert reader.flows == []
    assert [(p.title, p.line) for p in reader.problems] == [
        (ENCLOSED_FLOW_TITLES[0], 6),
        (ENCLOSED_FLOW_TITLES[1], 11),
    ]


def test_a_flow_decorator_bound_at_run_time_is_said_at_its_line(tmp_path: Path) -> None:
    """`flow` bound by a `try` that catches more than a failed import, one way to Prefect's:
    not read as a flow (which binding wins is a run-time fact), said at the function. A `try`
    whose `except ImportError:` puts a stand-in in its place, or an `if` choosing one, is
    Prefect's flow (python_source.Module.guarded), said nothing."""
    switched = read(
        tmp_path,
        """
        import os
        try:
            from prefect import flow
        except Exception:
            def flow(fn):
                return fn

        @flow
        def extract(n: int = 1):
            pass
        """,
    )
    assert switched.flows == []
    [warning] = switched.problems
    assert (warning.line, warning.severity, warning.title) == (10, "warning", "Flow not readable")
    assert "Import Prefect's flow unconditionally" in warning.message
    tried = read(
        tmp_path,
        """
        try:
            from prefect import flow
        except ImportError:
            def flow(fn):
                return fn

        @flow
        def extract(n: int = 1):
            pass
        """,
    )
    assert [f.entrypoint for f in tried.flows] == ["flows.py:extract"] and tried.problems == []
    chosen = read(
        tmp_path,
        """
        import os
        if os.environ.get("SKIP_PREFECT") == "true":
            def flow(*_, **__):
                return lambda fn: fn
        elif os.environ.get("OTHER"):
            flow = None
        else:
            from prefect import flow

        @flow
        def extract(n: int = 1):
            pass
        """,
    )
    assert [f.entrypoint for f in chosen.flows] == ["flows.py:extract"] and chosen.problems == []


def test_a_flow_called_at_the_file_s_top_is_a_warning_at_the_call(tmp_path: Path) -> None:
    """Trial round 9 b 10: `top()` at the top, no `__main__` guard: each deployment run
    imported the file and ran the flow once more (two flow runs a run), unsaid."""
    from prefect_flow_deploy.reading.discovery import discover

    (tmp_path / "p" / "f").mkdir(parents=True)
    (tmp_path / "p" / "f" / "flow.py").write_text(
        "import asyncio\nfrom prefect import flow\n\n\n@flow\ndef top(n: int = 1):\n    print(n)\n"
        "\n\ntop()\nasyncio.run(top())\nprint('x')\nif __name__ == '__main__':\n    top()\n"
    )
    [folder] = discover(tmp_path)
    said = [(p.line, p.severity) for p in folder.problems if p.title == "Flow run at import"]
    assert said == [(10, "warning"), (11, "warning")]


def test_a_relative_import_above_the_flow_file_is_said_where_prefect_fails_to_load_it(
    tmp_path: Path,
) -> None:
    """Trial round 10 a 1 (louisgogo/prefect): `from ..tasks.t import helper` in
    flows/main.py passed validate and failed after a 90 s build, said at the `@flow`.
    Prefect's loader is the oracle, run here on each file from the folder (the working
    directory of a run): the files it fails to load at every load are the errors, a
    one-dot import beside the file loads, and the suggested import loads."""
    import subprocess
    import sys

    from prefect_flow_deploy.reading.discovery import discover

    folder = tmp_path / "p" / "f"
    for package in ("flows", "tasks"):
        (folder / package).mkdir(parents=True)
        (folder / package / "__init__.py").write_text("")
    (folder / "tasks" / "t.py").write_text("def helper():\n    return 1\n")
    (folder / "flows" / "beside.py").write_text("def near():\n    return 2\n")
    flow = "\n\n@flow\ndef {name}():\n    return 1\n"
    files = {
        "up.py": "from prefect import flow\nfrom ..tasks.t import helper\n" + flow,
        "suggested.py": "from prefect import flow\nfrom tasks.t import helper\n" + flow,
        "near.py": "from prefect import flow\nfrom .beside import near\n" + flow,
        "later.py": "from prefect import flow\n\n\ndef f():\n    from ..tasks import t\n" + flow,
    }
    for name, text in files.items():
        (folder / "flows" / name).write_text(text.format(name=name[:-3]))
    [read] = discover(tmp_path)
    said = sorted(
        (p.file.name, p.line, p.severity, p.message.split("`")[-2])
        for p in read.problems
        if p.title == "Relative import beyond the flow file"
    )
    assert said == [
        ("later.py", 5, "warning", "from tasks import t"),
        ("up.py", 2, "error", "from tasks.t import helper"),  # the import to write instead
    ]
    loads = (
        "import sys\nfrom prefect.flows import load_flow_from_entrypoint as load\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n        load(f'flows/{name}.py:{name}', use_placeholder_flow=False)\n"
        "        print(name, 'loads')\n"
        "    except Exception as exc:\n        print(name, type(exc.__cause__).__name__)\n"
    )
    names = [n[:-3] for n in files]
    done = subprocess.run(
        [sys.executable, "-c", loads, *names], cwd=folder, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PREFECT_SERVER_EPHEMERAL_ENABLED": "false"},
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "up ImportError", "suggested loads", "near loads", "later loads"
    ], done.stderr  # fmt: skip
