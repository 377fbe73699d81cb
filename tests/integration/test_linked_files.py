"""What goes into an image is what the flow folder holds, links included (on the real
stack): a file of the folder that is a symlink to another file of the repository went into
the image as a dangling link (it deployed, and failed at run time with ModuleNotFoundError).
Its target is copied into the build context, and counts in the content tag; a link to a
folder outside the flow folder is an error at the link."""

from __future__ import annotations

import docker
import pytest

from ..conftest import Scenario, Stack, write_flow
from ..helpers import deploy, plan

pytestmark = pytest.mark.stack


def test_a_file_linked_from_elsewhere_in_the_repository_is_copied_into_the_image(
    stack: Stack, scenario: Scenario
) -> None:
    shared = scenario.root.parent / "lib"
    shared.mkdir()
    (shared / "common.py").write_text("GREETING = 'hello from lib'\n")
    folder = write_flow(scenario.folder("p", "one"), "one", body="return GREETING")
    (folder / "flow.py").write_text(
        "from common import GREETING\n" + (folder / "flow.py").read_text()
    )
    (folder / "common.py").symlink_to("../../../lib/common.py")

    done = deploy(scenario, stack)
    [row] = done.results
    assert row.status == "created" and row.image, row.error
    image = row.image
    code = f"/opt/prefect/flows/{scenario.project('p')}/one"
    printed = docker.from_env().containers.run(
        image, ["python", "-c", "import common; print(common.GREETING)"],
        working_dir=code, entrypoint=[], remove=True,
    )  # fmt: skip
    assert printed.decode().strip() == "hello from lib"

    # The target's content is part of the content tag: a change of it rebuilds.
    (shared / "common.py").write_text("GREETING = 'changed in lib'\n")
    again = plan(scenario, stack)
    assert again.images[0].action == "build" and again.images[0].tag != image.rpartition(":")[2]
    assert again.images[0].reason == "changed: common.py"


def test_a_link_to_a_folder_outside_the_flow_folder_is_an_error_at_the_link(
    stack: Stack, scenario: Scenario
) -> None:
    shared = scenario.root.parent / "lib"
    shared.mkdir()
    (shared / "helpers.py").write_text("X = 1\n")
    folder = write_flow(scenario.folder("p", "two"), "two")
    (folder / "lib").symlink_to("../../../lib")
    write_flow(scenario.folder("p", "fine"), "fine")

    planned = plan(scenario, stack)
    broken = next(f for f in planned.folders if f.name == "two")
    [problem] = [p for p in broken.problems if p.severity == "error"]
    assert problem.file == folder / "lib"
    assert "is a symlink to a folder outside the flow folder" in problem.message
    assert {i.folder.name: i.action for i in planned.images} == {"fine": "build"}
