"""Entries of the repository that used to stop the whole run (a traceback, nothing deployed)
or to carry files from outside the repository into an image (issue 15): each is now an
error of its folder at the entry, and the other folders deploy."""

from __future__ import annotations

import os
import shutil

import pytest

from ..conftest import Scenario, Stack, write_flow
from ..helpers import read_deployment
from .test_cli import cli, common

pytestmark = pytest.mark.stack


def test_bad_entries_fail_at_the_entry_and_the_rest_deploys(
    stack: Stack, scenario: Scenario
) -> None:
    p, q = scenario.project("p"), scenario.project("q")
    write_flow(scenario.folder("p", "good"), "good")
    write_flow(scenario.folder("q", "kept"), "kept")
    first = cli("deploy", *common(scenario, stack), "--repository", "acme/flows")
    assert first.returncode == 0, first.stderr

    outside = scenario.root.parent.parent / "outside"
    write_flow(outside / "flowdir", "outer")
    (outside / "token.txt").write_text("not for the image\n")
    # A file whose name is not UTF-8 (a UnicodeEncodeError in the content tag before).
    badname = write_flow(scenario.folder("p", "badname"), "badname")
    badname.joinpath(os.fsdecode(b"data\xff.txt")).write_bytes(b"x")
    # A flow folder that is a link out of the repository (built with the outside files before).
    scenario.folder("p", "linked").symlink_to(outside / "flowdir")
    # A file link out of the repository.
    filelink = write_flow(scenario.folder("p", "filelink"), "filelink")
    (filelink / "token.txt").symlink_to(outside / "token.txt")
    # A symlink loop in a project folder (an OSError out of discovery before).
    scenario.folder("p", "loop1").symlink_to("loop2")
    scenario.folder("p", "loop2").symlink_to("loop1")
    # A project that cannot be listed any more: its deployments are not pruned.
    shutil.rmtree(scenario.root / q)
    (scenario.root / q).symlink_to(q)
    # The good folder changed: it must still build and deploy.
    good = scenario.folder("p", "good")
    good.joinpath("flow.py").write_text(good.joinpath("flow.py").read_text() + "# v2\n")

    run = cli("deploy", "--prune", *common(scenario, stack), "--repository", "acme/flows")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert f"{p}/good\tgood/{p}\timage built\tupdated" in run.stderr
    at = scenario.root  # each error is annotated at the entry, then names it in the message
    for where, advice in (
        (f"{at / p / 'badname'}: {p}/badname: the name projects/{p}/badname/data\\xff.txt is not valid UTF-8", "rename it"),
        (f"{at / p / 'linked'}: {p}/linked: projects/{p}/linked is a symlink to {outside / 'flowdir'}", "Copy what it needs"),
        (f"{at / p / 'filelink' / 'token.txt'}: {p}/filelink: projects/{p}/filelink/token.txt is a symlink to", "outside the repository"),
        (f"{at / p / 'loop1'}: {p}/loop1: projects/{p}/loop1 is a symlink loop (-> loop2)", "remove the link"),
        (f"{at / q}: {q}/*: projects/{q} is a symlink loop (-> {q})", "remove the link"),
    ):  # fmt: skip
        line = next((x for x in run.stderr.splitlines() if x.startswith(f"error: {where}")), None)
        assert line is not None and advice in line, (where, run.stderr)
    assert read_deployment(f"kept/{q}").id  # kept, though --prune and its project unreadable
    assert "outer" not in run.stderr.replace(str(outside), "")  # the outside flow never read
