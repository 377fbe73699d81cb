"""No flow folder found (layout_advice.py): exit 3, what the repository holds instead and
what to do, through the commands a user runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.layout_advice import found_instead

FLOW = "from prefect import flow\n\n\n@flow\ndef f{n}() -> None:\n    pass\n"


def make(root: Path, count: int, folder: str = "flows") -> None:
    (root / ".git").mkdir(exist_ok=True)
    (root / folder).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (root / folder / f"f{n}.py").write_text(FLOW.format(n=n))
    (root / folder / "helpers.py").write_text("def helper():\n    pass\n")


def test_a_dozen_flows_under_flows_are_named_with_what_to_do(tmp_path: Path) -> None:
    make(tmp_path, 12)
    message = found_instead(tmp_path / "projects", None)
    assert message.startswith("no flow folder found: there is no folder ")
    assert "Found instead: 12 .py files with a @flow under flows/" in message
    project = tmp_path.name
    assert f"`mkdir -p projects/{project} && git mv flows projects/{project}/flows`" in message
    assert "--projects-root" in message
    # adopt moves only what a prefect.yaml or a workflow names: not offered for these
    # (before: "run adopt", and adopt answered "nothing to adopt")
    assert "run `prefect-flow-deploy adopt`" not in message


def test_the_move_copies_the_root_requirements_the_folder_lacks(tmp_path: Path) -> None:
    """uuboyscy/tjr101 (trial round 10): after the suggested `git mv src projects/tjr/src`,
    pandas was only in the root requirements.txt, and three flows were refused after their
    build. The suggested move copies it in; a folder with its own is left alone."""
    make(tmp_path, 2)
    (tmp_path / "requirements.txt").write_text("pandas\n")
    message = found_instead(tmp_path / "projects", None, "acme/data-flows")
    assert (
        "`mkdir -p projects/data-flows && git mv flows projects/data-flows/flows`, then "
        "`cp requirements.txt projects/data-flows/flows/`"
    ) in message
    (tmp_path / "flows" / "requirements.txt").write_text("pandas\n")
    assert "cp requirements.txt" not in found_instead(tmp_path / "projects", None, "acme/x")


def test_the_project_it_suggests_is_named_as_the_repository_the_run_acts_as(
    tmp_path: Path,
) -> None:
    """A checkout in a folder of another name (cityofaustin/atd-prefect cloned as
    `cityofaustin+atd-prefect`): the run acts as the remote's repository, and the project
    it suggests is named so, not as the folder."""
    make(tmp_path, 2)
    message = found_instead(tmp_path / "projects", None, "acme/data-flows")
    assert "`mkdir -p projects/data-flows && git mv flows projects/data-flows/flows`" in message


def test_the_move_it_gives_makes_a_flow_folder(tmp_path: Path) -> None:
    """The command in the message, run as given, leaves a layout discovery reads."""
    from prefect_flow_deploy.reading.discovery import discover

    make(tmp_path, 2)
    message = found_instead(tmp_path / "projects", None)
    command = message.split("(`", 1)[1].split("`)", 1)[0]
    subprocess.run(command.replace("git mv", "mv"), shell=True, cwd=tmp_path, check=True)
    folders = discover(tmp_path / "projects", None, "acme/x")
    assert [(f.key, len(f.flows)) for f in folders] == [(f"{tmp_path.name}/flows", 2)]


def test_the_move_takes_the_folder_that_holds_the_flows_and_their_requirements(
    tmp_path: Path,
) -> None:
    """MarcoTulioGT/iac_gcp_prefect (trial round 11 b 8): prefect/flows/database.py and
    prefect/flows/requirements.txt; the hint moved prefect/, leaving the requirements below
    the flow folder's top, unread, and the build refused the flow. The folder that holds the
    flows and their requirements.txt moves; run as given, its requirements are read."""
    from prefect_flow_deploy.reading.discovery import discover

    flows = tmp_path / "prefect" / "flows"
    flows.mkdir(parents=True)
    (flows / "database.py").write_text(
        "import psycopg2\nfrom prefect import flow\n\n@flow\ndef my_flow(): pass\n"
    )
    (flows / "requirements.txt").write_text("psycopg2-binary\n")
    (tmp_path / "prefect" / "main.tf").write_text("")
    message = found_instead(tmp_path / "projects", None, "acme/marco")
    command = message.split("(`", 1)[1].split("`", 1)[0]
    assert command == "mkdir -p projects/marco && git mv prefect/flows projects/marco/flows"
    subprocess.run(command.replace("git mv", "mv"), shell=True, cwd=tmp_path, check=True)
    [folder] = discover(tmp_path / "projects", None, "acme/marco")
    assert (folder.key, folder.requirements) == ("marco/flows", folder.path / "requirements.txt")


def test_a_prefect_yaml_without_deployments_and_a_register_workflow_are_named(
    tmp_path: Path,
) -> None:
    make(tmp_path, 1)
    (tmp_path / "prefect.yaml").write_text("name: x\n")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "deploy.yml").write_text("steps:\n- run: prefect register --project sales -p x\n")
    message = found_instead(tmp_path / "projects", tmp_path / "prefect.yaml")
    assert "prefect.yaml without a named `deployments:` entry" in message
    assert ".github/workflows/deploy.yml, which runs `prefect register --project`" in message
    assert "run `prefect-flow-deploy adopt` (`--dry-run` first) to move the folders" in message


def test_a_relative_projects_root_and_prefect_yaml_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate` from the repository with the defaults: both paths relative (before: a
    ValueError traceback from Path.relative_to; found on a repository whose prefect.yaml
    holds only `prefect init`'s unnamed entry)."""
    make(tmp_path, 1)
    (tmp_path / "prefect.yaml").write_text("deployments:\n- name: null\n  entrypoint: null\n")
    monkeypatch.chdir(tmp_path)
    message = found_instead(Path("projects"), Path("prefect.yaml"))
    assert "; prefect.yaml without a named `deployments:` entry." in message


def test_an_empty_repository_says_how_to_start(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "projects").mkdir()
    message = found_instead(tmp_path / "projects", None)
    assert "holds no <project>/<flow folder>/" in message
    assert "prefect-flow-deploy new PROJECT FOLDER" in message


def test_validate_and_plan_exit_3_with_it(tmp_path: Path) -> None:
    """The issue's case: a Prefect repository whose flows no prefect.yaml lists, checked
    with `projects-root: .` (before: two warnings, "validated 0 flow folders", exit 0)."""
    make(tmp_path, 4)
    for command in (
        ["validate", "--projects-root", "."],
        ["validate"],
        ["plan", "--projects-root", "."],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "prefect_flow_deploy.cli", *command],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 3, (command, done.stderr)
        assert "4 .py files with a @flow under flows/" in done.stderr
        assert "validated 0 flow folders" not in done.stderr


def test_a_subfolder_prefect_yaml_with_entries_is_named_with_its_projects_root(
    tmp_path: Path,
) -> None:
    """A flows/prefect.yaml deployed with `--prefect-file` (trial D 4): read as Prefect's
    layout with `--projects-root flows`, which the advice now says first."""
    make(tmp_path, 1)
    (tmp_path / "flows" / "prefect.yaml").write_text(
        "deployments:\n\n  # the flows\n  - name: f\n    entrypoint: flows/f0.py:f0\n"
    )
    message = found_instead(tmp_path / "projects", None)
    assert "flows/prefect.yaml with `deployments:` entries" in message
    assert "To deploy them: set projects-root to flows (`--projects-root flows`)" in message
    (tmp_path / "flows" / "prefect.yaml").write_text("deployments: []\n")
    assert "--projects-root flows" not in found_instead(tmp_path / "projects", None)


def test_run_from_a_folder_of_the_checkout_it_says_where_the_flow_folders_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stjefan/prefect-flows, validate run from projects/stj/flows (trial b 5): it advised
    `git mv projects projects/<repo>/projects`, the right tree moved into itself."""
    make(tmp_path, 1, "projects/p/f")
    monkeypatch.chdir(tmp_path / "projects" / "p" / "f")
    message = found_instead(Path("projects"), None)
    assert "git mv" not in message
    assert f"its flow folders are under {tmp_path / 'projects'}" in message
    assert f"from the repository's top ({tmp_path}), or set --projects-root ../.." in message


def test_prefect_1_flows_alone_are_to_be_ported_first(tmp_path: Path) -> None:
    """bertrandlalo/prefect_jobs (trial b 10): only Prefect 1 flows, no workflow registering
    them; the first step offered was a prefect.yaml, which cannot deploy them."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "etl.py").write_text(
        "from prefect import Flow\nwith Flow('x') as f:\n    pass\n"
    )
    message = found_instead(tmp_path / "projects", None)
    assert "To deploy them: port them to Prefect 3 first (https://docs.prefect.io/v3/" in message
    assert "; then give the repository a prefect.yaml" in message


def test_the_move_says_to_import_by_name_when_the_files_import_their_folder_by_path(
    tmp_path: Path,
) -> None:
    """tker-78/trading-etl (trial round 8 b 5): flows in src/ import `src.utils`; after
    the `git mv src projects/<repo>/src` offered, validate passed and the build refused
    every flow. The advice says what the move asks of the imports."""
    make(tmp_path, 2, "src")
    (tmp_path / "src" / "f0.py").write_text("from src.helpers import helper\n" + FLOW.format(n=0))
    message = found_instead(tmp_path / "projects", None, "acme/etl")
    assert (
        "`mkdir -p projects/etl && git mv src projects/etl/src`; its files import `src.…` by "
        "its path from the root: after the move, import its modules by their names within "
        "the folder"
    ) in message
    (tmp_path / "src" / "f0.py").write_text(FLOW.format(n=0))
    assert "its files import" not in found_instead(tmp_path / "projects", None, "acme/etl")
    # madridmarco/data-extraction-soccer-leagues (trial round 9 b 2): a `prefect/` folder's
    # `from prefect.states import …` is Prefect's, not the folder's.
    make(tmp_path, 3, "prefect")
    (tmp_path / "prefect" / "f0.py").write_text(
        "from prefect.states import Completed\n" + FLOW.format(n=0)
    )
    message = found_instead(tmp_path / "projects", None, "acme/etl")
    assert "git mv prefect projects/etl/prefect`" in message and "its files import" not in message


def test_a_prefect_yaml_below_a_flow_folder_s_top_is_said_not_to_be_read(
    tmp_path: Path,
) -> None:
    """SteffRhes/prefect_experiments (trial round 9 b 9): after the move the advice gave,
    etl/daily/prefect.yaml sat inside the flow folder etl, unread: the flow got a default
    deployment without its schedule and parameters, unsaid."""
    from prefect_flow_deploy.reading.discovery import discover

    folder = tmp_path / "projects" / "p" / "etl"
    (folder / "daily").mkdir(parents=True)
    (folder / "daily" / "flow.py").write_text(FLOW.format(n=0))
    (folder / "daily" / "prefect.yaml").write_text(
        "deployments:\n- name: nightly\n  entrypoint: flow.py:flow_0\n"
    )
    [found] = discover(tmp_path / "projects")
    [said] = [p for p in found.problems if p.file == folder / "daily" / "prefect.yaml"]
    assert said.severity == "warning" and said.message.startswith(
        "daily/prefect.yaml is not read: only the flow folder's own prefect.yaml is"
    )
    assert "projects/<project>/daily/" in said.message


def test_flows_with_their_prefect_yaml_a_level_down_move_as_a_project(tmp_path: Path) -> None:
    """SteffRhes/prefect_experiments (trial round 9 b 9): `git mv etl projects/<repo>/etl`
    buried etl/daily/prefect.yaml inside the flow folder etl; etl is the project."""
    (tmp_path / "etl" / "daily").mkdir(parents=True)
    (tmp_path / "etl" / "daily" / "flow.py").write_text(FLOW.format(n=0))
    (tmp_path / "etl" / "daily" / "prefect.yaml").write_text("deployments: []\n")
    message = found_instead(tmp_path / "projects", None, "acme/x")
    assert "`mkdir -p projects && git mv etl projects/etl`: the project etl" in message


def test_flow_files_at_the_root_are_moved_with_what_they_need(tmp_path: Path) -> None:
    """spedersen/prefect-kubernetes (trial round 10 b 5): root flows were to move "into
    projects/<p>/<folder>/", nothing said of the root requirements.txt or their modules."""
    make(tmp_path, 2, folder=".")
    (tmp_path / "requirements.txt").write_text("pandas\n")
    message = found_instead(tmp_path / "projects", None, "acme/x")
    assert (
        "move them into `projects/x/<folder>/`, with a copy of requirements.txt and the "
        "modules they import"
    ) in message


def test_a_requirements_txt_below_the_flow_folder_s_top_is_said_not_to_be_read(
    tmp_path: Path,
) -> None:
    """MarcoTulioGT/iac_gcp_prefect (trial round 11 b 8): prefect/flows/requirements.txt in
    the flow folder prefect/ was never installed, said only after the build as a missing
    module. A warning at the file when the folder has no requirements.txt of its own nor a
    Dockerfile (which may install it); not for the folder's own."""
    from prefect_flow_deploy.reading.discovery import discover

    flow = "from prefect import flow\n\n@flow\ndef f(): pass\n"
    for name in ("nested", "own", "built"):
        (tmp_path / "p" / name / "flows").mkdir(parents=True)
        (tmp_path / "p" / name / "flows" / "etl.py").write_text(flow)
        (tmp_path / "p" / name / "flows" / "requirements.txt").write_text("psycopg2-binary\n")
    (tmp_path / "p" / "own" / "requirements.txt").write_text("pandas\n")
    (tmp_path / "p" / "built" / "Dockerfile").write_text("FROM python:3.12\nCOPY . .\n")
    said = {
        f.name: [(p.file, p.severity) for p in f.problems if p.title == "requirements.txt not read"]
        for f in discover(tmp_path)
    }
    nested = tmp_path / "p" / "nested" / "flows" / "requirements.txt"
    assert said == {"nested": [(nested, "warning")], "own": [], "built": []}
