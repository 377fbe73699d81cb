"""Deployments made in code are said, with the settings prefect.yaml should carry instead."""

from __future__ import annotations

import ast
from pathlib import Path

from prefect_flow_deploy.reading import prefect_layout
from prefect_flow_deploy.reading.code_deployments import code_deployments
from prefect_flow_deploy.reading.discovery import discover

from .test_discovery import make

SERVED = """from prefect import flow, serve
from prefect.client.schemas.schedules import CronSchedule


@flow
def sync() -> None:
    pass


if __name__ == "__main__":
    serve(
        sync.to_deployment(
            name="sync", description="Sync", schedules=[CronSchedule(cron="0 6 * * *")]
        )
    )
    sync.serve(name="s", cron="0 7 * * *", parameters={"x": 1})
    sync.deploy(name="d", work_pool_name="pool", image="img")
    app.serve(host="0.0.0.0")  # not Prefect's: no deployment setting
"""


def test_each_deployment_made_in_code_is_a_warning_at_its_call(tmp_path: Path) -> None:
    """AuckeBos/bunq-ynab-connect: `serve(sync.to_deployment(schedules=…))` gave the flow
    its schedule; moved here, the flow deployed without it and nothing said so."""
    make(tmp_path, "p/sync/flow.py", SERVED)
    [folder] = discover(tmp_path)
    said = [(p.line, p.message) for p in folder.problems if p.title == "Deployment made in code"]
    assert [line for line, _ in said] == [12, 16, 17]
    assert said[0][1].startswith("`.to_deployment(…)` sets `name`, `description`, `schedules`")
    assert "`cron`" in said[1][1] and "`parameters`" in said[1][1]
    assert "`work_pool_name`" in said[2][1] and "prefect.yaml" in said[2][1]
    assert [f.name for f in folder.flows] == ["sync"] and not folder.failed


def test_a_flow_file_that_makes_no_deployment_has_nothing_said(tmp_path: Path) -> None:
    make(tmp_path, "p/plain/flow.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    [folder] = discover(tmp_path)
    assert folder.problems == ()


def test_a_call_on_a_flow_an_entry_deploys_is_a_leftover_said_nothing(tmp_path: Path) -> None:
    """Engelbert107/Looking-into-Prefect: the folder's prefect.yaml already deploys the flow
    with the settings `.deploy(…)` gives; the warning told the user to do what was done.
    A call on a flow no entry names (here `other`) is still said."""
    text = SERVED.replace(
        "@flow\ndef sync", "@flow\ndef other() -> None:\n    pass\n\n\n@flow\ndef sync"
    )
    text += "other.with_options(name='o').deploy(name='o', work_pool_name='pool')\n"
    make(tmp_path, "p/sync/flow.py", text)
    make(tmp_path, "p/sync/prefect.yaml", "deployments:\n- name: s\n  entrypoint: flow.py:sync\n")
    [folder] = discover(tmp_path)
    said = [p for p in folder.problems if p.title == "Deployment made in code"]
    assert [(p.line, p.flow) for p in said] == [(24, "flow.py:other")]


def test_a_root_script_of_prefect_s_layout_that_deploys_in_code_is_said(tmp_path: Path) -> None:
    """ABZ-Aaron/prefect-server-test (trial round 8 a 4): a root deploy.py of
    `flow.from_source(…).deploy(schedule=…, parameters=…)` beside the root prefect.yaml lost
    its schedule without a word (only flow folders were read for such calls). A file an
    entry names is read as a flow file, not as a script."""
    (tmp_path / ".git").mkdir()
    make(tmp_path, "prefect.yaml", "deployments:\n- name: d\n  entrypoint: flow.py:sync\n")
    make(tmp_path, "flow.py", SERVED)
    make(
        tmp_path,
        "deploy.py",
        "from prefect import flow\n\nflow.from_source('.', 'flow.py:sync').deploy(\n"
        "    name='d', schedule={'cron': '0 6 * * *'}, work_pool_name='pool'\n)\n",
    )
    layout = prefect_layout.read(tmp_path / "prefect.yaml", tmp_path / "projects", "acme/x")
    assert layout is not None
    said = [(p.file.name, p.line) for p in layout.notes if p.title == "Deployment made in code"]
    assert said == [("deploy.py", 3)]
    # mfonekpo/deploy-test (trial round 10 b 4): not "deployed with its defaults", which is
    # the folder layout's rule; in Prefect's layout only the entries' flows are deployed
    [note] = [p for p in layout.notes if p.title == "Deployment made in code"]
    assert "else with its defaults" not in note.message
    assert "only the flows the entries name are deployed" in note.message


def test_a_deployment_of_code_kept_elsewhere_is_said_as_such(tmp_path: Path) -> None:
    """Trial round 9 (minor): `flow.from_source("https://github.com/…").deploy(…)` deploys
    another repository's flow, and the warning told to move its settings into this folder's
    prefect.yaml. A local source ('.') keeps the usual advice."""
    calls = [
        "flow.from_source('https://github.com/acme/other.git', 'a.py:a').deploy(name='a', cron='0 6 * * *')",
        "flow.from_source(source=GitRepository(url='git@github.com:acme/b.git'), entrypoint='b.py:b')"
        ".deploy(name='b', work_pool_name='pool')",
        "flow.from_source(RemoteStorage('s3://bucket/flows'), 'c.py:c').deploy(name='c', cron='* * * * *')",
        "flow.from_source('.', 'd.py:d').deploy(name='d', cron='0 7 * * *')",
    ]  # fmt: skip
    path = tmp_path / "deploy.py"
    said = code_deployments(ast.parse("\n".join(calls)), path)
    assert [p.message.split(", code kept outside")[0].split(" from ")[-1] for p in said[:3]] == [
        "https://github.com/acme/other.git",
        "git@github.com:acme/b.git",
        "s3://bucket/flows",
    ]
    assert "Put them in the flow folder's prefect.yaml" in said[3].message
    assert all("code kept outside" not in p.message for p in said[3:])


def test_a_source_held_in_a_module_constant_is_code_kept_elsewhere_too(tmp_path: Path) -> None:
    """Adedayo19/spotify-data-logger (trial round 11 a 10): `SOURCE_REPO = "https://…"`,
    then `flow.from_source(source=SOURCE_REPO, …).deploy(…)`, the usual way to write it, got
    the advice to add an entry for a file that holds no flow. A constant rebound to
    something else is not read as the URL."""
    text = (
        "SOURCE_REPO = 'https://github.com/acme/other-repo.git'\nLOCAL: str = '.'\n"
        "flow.from_source(source=SOURCE_REPO, entrypoint='a.py:a').deploy(name='a', cron='0 6 * * *')\n"
        "flow.from_source(LOCAL, 'b.py:b').deploy(name='b', cron='0 7 * * *')\n"
        "LATER = 'https://github.com/acme/x.git'\nLATER = make()\n"
        "flow.from_source(LATER, 'c.py:c').deploy(name='c', cron='0 8 * * *')\n"
    )
    said = code_deployments(ast.parse(text), tmp_path / "deploy.py")
    assert ["code kept outside" in p.message for p in said] == [True, False, False]
    assert "from https://github.com/acme/other-repo.git" in said[0].message
