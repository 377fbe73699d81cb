"""Names two folders or two flows would share: the image of two folders, the deployment of two
flows. Each one involved fails, pointing at its folder, flow or prefect.yaml entry; the
others go ahead."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prefect_flow_deploy.core.model import FlowFolder, FlowSpec
from prefect_flow_deploy.rules.collisions import image_collisions, name_collisions
from prefect_flow_deploy.settings.options import Options

FLOW = FlowSpec("etl", "etl", "flow.py", 3, {})


def folder(root: Path, project: str, name: str, flows: bool = True) -> FlowFolder:
    return FlowFolder(project, name, root / project / name, [FLOW] if flows else [])


def test_two_folders_that_become_one_image_both_fail(tmp_path: Path) -> None:
    upper, lower = folder(tmp_path, "sales", "Daily"), folder(tmp_path, "sales", "daily")
    other = folder(tmp_path, "sales", "weekly")
    no_flows = folder(tmp_path, "sales", "DAILY", flows=False)  # never an image
    found = image_collisions([upper, lower, other, no_flows], Options(registry="reg.io/acme"))
    assert set(found) == {"sales/Daily", "sales/daily"}
    [problem] = found["sales/daily"]
    assert (problem.title, problem.file) == ("Image name collision", lower.path)
    assert problem.message == (
        "sales/Daily and sales/daily both become the image reg.io/acme/sales/daily; rename one folder."
    )


def test_a_folder_with_nothing_to_name_an_image_after_fails_alone(tmp_path: Path) -> None:
    bad, good = folder(tmp_path, "sales", "__"), folder(tmp_path, "sales", "daily")
    found = image_collisions([bad, good], Options())
    assert set(found) == {"sales/__"}
    assert [p.title for p in found["sales/__"]] == ["Image name"]


def spec(key: str, full_name: str, source: Path | None, line: int | None) -> Any:
    return SimpleNamespace(
        folder_key=key, full_name=full_name, source_file=source, source_line=line,
        entrypoint="flow.py:etl",
    )  # fmt: skip


def test_two_deployments_of_one_name_both_fail_at_their_source(tmp_path: Path) -> None:
    one, two = folder(tmp_path, "sales", "one"), folder(tmp_path, "sales", "two")
    specs = {
        "sales/one": [spec("sales/one", "etl/sales", one.path / "flow.py", 3)],
        "sales/two": [
            spec("sales/two", "etl/sales", two.path / "prefect.yaml", 5),
            spec("sales/two", "other/sales", two.path / "flow.py", 9),
        ],
    }
    found = name_collisions(specs, {"sales/one": one, "sales/two": two})
    assert set(found) == {"sales/one", "sales/two"}
    [at_two] = found["sales/two"]
    # the deployment of that name only, not its flow's others (trial round 11 a 11)
    assert (at_two.file, at_two.line, at_two.title, at_two.flow) == (
        two.path / "prefect.yaml", 5, "Name collision", "etl/sales",
    )  # fmt: skip
    assert at_two.message.startswith(
        "the deployment etl/sales is defined twice (flow.py:3 in sales/one and "
        "prefect.yaml:5 in sales/two)"
    )
    in_one_file = {"sales/two": [spec("sales/two", "etl/d", two.path / "prefect.yaml", n)
                                 for n in (12, 8)]}  # fmt: skip
    [first, _] = name_collisions(in_one_file, {"sales/two": two})["sales/two"]
    assert "is defined twice (lines 8 and 12 of prefect.yaml)" in first.message


def test_a_deployment_without_a_source_is_placed_at_its_folder(tmp_path: Path) -> None:
    one = folder(tmp_path, "sales", "one")
    specs = {"sales/one": [spec("sales/one", "etl/sales", None, None)] * 2}
    [problem, _] = name_collisions(specs, {"sales/one": one})["sales/one"]
    assert "(sales/one)" in problem.message


def test_flows_of_one_name_in_one_folder_said_by_reading_are_not_said_again(
    tmp_path: Path,
) -> None:
    """ua-snap/prefect (trial round 10 b 1): two `process_dtr` flows of one folder gave 4
    errors, reading's and this rule's, each at both lines. Reading's stay alone; a third
    flow of that name in another folder of the project is still this rule's, for all."""
    from dataclasses import replace

    from prefect_flow_deploy.core.model import DUPLICATE_FLOW_NAME, Problem

    def said(flow: str) -> Problem:
        return Problem("error", "2 flows …", tmp_path, 3, DUPLICATE_FLOW_NAME, flow=flow)

    one = replace(folder(tmp_path, "sales", "one"), problems=[said("a.py:etl"), said("b.py:etl")])
    pair = [spec("sales/one", "etl/sales", one.path / f, 3) for f in ("a.py", "b.py")]
    for each, file in zip(pair, ("a.py", "b.py"), strict=True):
        each.entrypoint = f"{file}:etl"
    assert name_collisions({"sales/one": pair}, {"sales/one": one}) == {}
    two = folder(tmp_path, "sales", "two")
    third = {"sales/two": [spec("sales/two", "etl/sales", two.path / "flow.py", 3)]}
    found = name_collisions({"sales/one": pair, **third}, {"sales/one": one, "sales/two": two})
    assert [len(found[k]) for k in ("sales/one", "sales/two")] == [2, 1]
