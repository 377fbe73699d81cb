"""The flows of one file as Prefect's loader finds them, read without running it: `@flow`
resolved to Prefect's own, `flow(...)(fn)`, `.with_options(...)`, the last binding of a name
winning; a flow in a class or inside a function is said at its line."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from prefect_flow_deploy.reading.flow_file_reader import FileReader
from prefect_flow_deploy.reading.python_source import FolderSource


def read(tmp_path: Path, source: str) -> FileReader:
    path = tmp_path / "flows.py"
    text = textwrap.dedent(source)
    path.write_text(text)
    folder = FolderSource(tmp_path)
    reader = FileReader(path, "flows.py", folder, folder.add(path, ast.parse(text)))
    reader.read()
    return reader


def test_every_form_prefect_loads_is_a_flow_named_by_prefect_s_rule(tmp_path: Path) -> None:
    reader = read(
        tmp_path,
        """
        from prefect import flow
        import prefect

        @flow
        def daily_sales(day: str = "today"):
            "Sum the day's sales."

        @prefect.flow(name="hourly")
        def hourly_sales():
            pass

        def plain(x: int):
            pass

        made = flow(name="made")(plain)
        again = daily_sales.with_options(name="again")
        """,
    )
    found = {f.function: (f.name, f.entrypoint, f.line) for f in reader.flows}
    assert found == {
        "daily_sales": ("daily-sales", "flows.py:daily_sales", 6),  # the line of the def
        "hourly_sales": ("hourly", "flows.py:hourly_sales", 10),
        "made": ("made", "flows.py:made", 16),
        "again": ("again", "flows.py:again", 17),
    }
    [daily] = [f for f in reader.flows if f.function == "daily_sales"]
    assert daily.description == "Sum the day's sales."
    assert daily.parameter_schema is not None
    assert daily.parameter_schema["properties"]["day"]["default"] == "today"
    assert reader.problems == []


def test_a_flow_decorator_that_is_not_prefect_s_is_not_a_flow(tmp_path: Path) -> None:
    reader = read(tmp_path, "from mylib import flow\n\n@flow\ndef f():\n    pass\n")
    assert reader.flows == []


def test_the_last_binding_of_a_name_wins_as_in_python(tmp_path: Path) -> None:
    reader = read(
        tmp_path,
        """
        from prefect import flow

        @flow
        def etl():
            pass

        etl = None
        """,
    )
    assert reader.flows == []
