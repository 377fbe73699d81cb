"""The corpus (tests/corpus/projects: folders shaped like real repositories) read by us, and by
Prefect itself: flow names, descriptions and parameter schemas must be equal.

Prefect's answer comes from tests/corpus/oracle.py, which imports the files (so runs them) in
a subprocess: tests may run the corpus' code, the engine never does. The oracle runs under
the Python first on PATH and under Debian's own /usr/bin/python3 (3.11.2, same ABI, Prefect's
packages from this venv): both must agree with us.
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy.core.model import FlowFolder, pending_name
from prefect_flow_deploy.core.naming import BANNED_CHARACTERS
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.flows import find_flows
from prefect_flow_deploy.reading.schemas import RESERVED_PARAMETERS

from ...prefect_versions import newest_allowed

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
PROJECTS = CORPUS / "projects"
# Its module-level code writes marker files: the oracle never runs it there (tests/integration/test_no_user_code.py).
NOT_RUN = {"data/side_effects"}
# Flows whose name only running the file tells: the built image computes it (the plan shows
# pending_name); the rest of what we read must still equal Prefect's.
PENDING_NAMES = {("ops/daily_reports", "maybe"), ("ops/named_by_constants", "dated")}
# A type from a library (here Prefect's State): computed in the built image, not read here.
PENDING = {("data/frames", "frame")}
DEBIAN_PYTHON = "/usr/bin/python3"

NAME_CASES = [*sorted(RESERVED_PARAMETERS), "_x", "__x", "model_x", "schema", "dict", "x_", "json"]


def run_oracle(python: str, request: dict[str, list[str]]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if python == DEBIAN_PYTHON:  # this venv's packages, for the interpreter Debian ships
        env["PYTHONPATH"] = site.getsitepackages()[0]
        env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(
        [python, str(CORPUS / "oracle.py"), json.dumps(request)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def folders() -> dict[str, FlowFolder]:
    return {f.key: f for f in discover(PROJECTS)}


@pytest.fixture(scope="module")
def rule_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file per parameter name and per banned character, for Prefect to judge."""
    root = tmp_path_factory.mktemp("rules")
    for number, name in enumerate(NAME_CASES):
        (root / f"param_{number}.py").write_text(
            f"from prefect import flow\n\n\n@flow\ndef f({name}: int = 1):\n    pass\n"
        )
    for number, char in enumerate([*BANNED_CHARACTERS, "-", ".", " "]):
        (root / f"name_{number}.py").write_text(
            f"from prefect import flow\n\n\n@flow(name='a{char}b')\ndef f():\n    pass\n"
        )
    return root


def oracle_request(folders: dict[str, FlowFolder], rules: Path) -> dict[str, list[str]]:
    request = {
        str(folder.path): sorted(
            p.relative_to(folder.path).as_posix() for p in folder.path.rglob("*.py")
        )
        for key, folder in folders.items()
        if key not in NOT_RUN
    }
    request[str(rules)] = sorted(p.name for p in rules.glob("*.py"))
    return request


@pytest.fixture(scope="module")
def prefect_answers(folders: dict[str, FlowFolder], rule_files: Path) -> dict[str, Any]:
    return run_oracle(sys.executable, oracle_request(folders, rule_files))


def test_the_corpus_has_every_case(folders: dict[str, FlowFolder]) -> None:
    assert set(folders) >= {
        "sales/orders",
        "sales/leak_a",
        "sales/leak_b",
        "marketing/shapes",
        "marketing/detect",
        "data/frames",
        "data/side_effects",
        "ops/daily_reports",  # a dozen flows from factories, names from their arguments
        "ops/named_by_constants",  # names from a constants package: classes, enums, dicts
    }


def compare(folder: FlowFolder, answers: dict[str, Any]) -> None:
    ours = {(flow.file, flow.function): flow for flow in folder.flows}
    theirs = {
        (file, attribute): flow
        for file, flows in answers.items()
        if "error" not in flows
        for attribute, flow in flows.items()
    }
    assert set(ours) == set(theirs)
    for key, flow in ours.items():
        prefect = theirs[key]
        if (folder.key, flow.function) in PENDING_NAMES:
            assert flow.name == pending_name(flow.entrypoint) and flow.name_pending, key
            # its description too is the image's (tests/integration/test_factory_flows.py)
            assert flow.description is None, key
        else:
            assert flow.name == prefect["name"], key
            assert flow.description == prefect["description"], key
        if (folder.key, flow.function) in PENDING or flow.parameter_schema is None:
            assert (folder.key, flow.function) in PENDING | PENDING_NAMES, key
            assert flow.parameter_schema is None and flow.schema_pending
        elif newest_allowed():
            assert flow.schema_pending is None, (key, flow.schema_pending)
            assert flow.parameter_schema == prefect["schema"], key
        else:
            # Schemas are written as the newest allowed Prefect (and its pydantic) writes
            # them; an older one words some differently (Prefect 3.2: `**kwargs` a required
            # string, no model docstring as description), while a run's own Prefect checks
            # parameters against the function, not the schema. The parameters are the same.
            assert flow.parameter_schema is not None, key
            mine = flow.parameter_schema["properties"]
            its = prefect["schema"]["properties"]
            assert {n: p["position"] for n, p in mine.items()} == {
                n: p["position"] for n, p in its.items()
            }, key


@pytest.mark.parametrize(
    "key",
    [
        "sales/orders",
        "sales/leak_a",
        "sales/leak_b",
        "marketing/shapes",
        "marketing/detect",
        "data/frames",
        "ops/daily_reports",
        "ops/named_by_constants",
    ],
)
def test_flows_names_descriptions_and_schemas_equal_prefects_own(
    key: str, folders: dict[str, FlowFolder], prefect_answers: dict[str, Any]
) -> None:
    folder = folders[key]
    compare(folder, prefect_answers[str(folder.path)])


def without_addresses(answers: dict[str, Any]) -> str:
    """The answers as JSON, without the memory addresses some messages hold (pydantic 2.10:
    "conflicts with member <function BaseModel.model_dump at 0x7f…>")."""
    return re.sub(r" at 0x[0-9a-f]+", "", json.dumps(answers, sort_keys=True))


def test_prefect_under_debian_python_agrees(
    folders: dict[str, FlowFolder], rule_files: Path, prefect_answers: dict[str, Any]
) -> None:
    """Debian's interpreter gives Prefect the same answers, so ours hold there too (the
    unit suite itself also runs under a Debian-python venv: see README, Tests)."""
    assert Path(DEBIAN_PYTHON).is_file()
    debian = run_oracle(DEBIAN_PYTHON, oracle_request(folders, rule_files))
    assert without_addresses(debian) == without_addresses(prefect_answers)
    for key, folder in folders.items():
        if key not in NOT_RUN:
            compare(folder, debian[str(folder.path)])


def test_folders_do_not_share_classes(folders: dict[str, FlowFolder]) -> None:
    """Two folders each with their own models.Settings: each flow gets its own."""
    [a], [b] = folders["sales/leak_a"].flows, folders["sales/leak_b"].flows
    assert a.parameter_schema is not None and b.parameter_schema is not None
    assert set(a.parameter_schema["definitions"]["Settings"]["properties"]) == {"limit"}
    assert set(b.parameter_schema["definitions"]["Settings"]["properties"]) == {"path"}


def test_factory_made_flows_are_read_with_their_names(folders: dict[str, FlowFolder]) -> None:
    """Issue 23: a decorator of the folder (`@team_flow`) and a dozen flows from a factory
    called at module level (`daily_sales = make_flow("sales", "0 6 * * *")`) are deployed as
    Prefect loads them (the oracle above); the factories' inner `@flow`s are no "flow inside
    a function"."""
    detect = folders["marketing/detect"]
    [made] = [f for f in detect.flows if f.function == "made_by_factory"]
    assert made.name == "team-made_by_factory" and not detect.failed
    reports = folders["ops/daily_reports"]
    assert len(reports.flows) == 12 and not reports.failed
    [pending] = [p for p in reports.problems]
    assert (pending.title, pending.line) == ("Flow name computed in the image", 16)
    assert "`make_either` has 2 returns" in pending.message


def test_names_from_constants_of_other_modules(folders: dict[str, FlowFolder]) -> None:
    folder = folders["ops/named_by_constants"]
    names = {f.function: f.name for f in folder.flows if not f.name_pending}
    assert names == {
        "daily": "ops-daily", "hourly": "ops-hourly", "audit": "ops-audit",
        "monthly": "ops-monthly", "weekly": "ops-weekly", "cleanup": "ops-cleanup",
        "yearly": "ops-yearly", "staged": "ops-prod",
    }  # fmt: skip
    assert not folder.failed


def test_pending_schema_says_why(folders: dict[str, FlowFolder]) -> None:
    [flow] = folders["data/frames"].flows
    assert flow.schema_pending is not None and "prefect" in flow.schema_pending


def test_parameter_names_prefect_refuses_are_errors_at_the_line(
    rule_files: Path, prefect_answers: dict[str, Any]
) -> None:
    answers = prefect_answers[str(rule_files)]
    for number, name in enumerate(NAME_CASES):
        path = rule_files / f"param_{number}.py"
        flows, problems, _ = find_flows(path, rule_files)
        refused = "error" in answers[path.name]
        assert refused == bool(problems), (name, answers[path.name])
        if refused:
            [problem] = problems
            assert problem.severity == "error" and problem.line == 5 and name in problem.message
            assert flows == []


def test_banned_flow_name_characters_are_errors_at_the_line(
    rule_files: Path, prefect_answers: dict[str, Any]
) -> None:
    answers = prefect_answers[str(rule_files)]
    names = sorted(rule_files.glob("name_*.py"))
    assert len(names) == len(BANNED_CHARACTERS) + 3
    for path in names:
        flows, problems, _ = find_flows(path, rule_files)
        refused = "error" in answers[path.name]
        assert refused == bool(problems), answers[path.name]
        if refused:
            assert "InvalidNameError" in answers[path.name]["error"]
            [problem] = problems
            assert problem.severity == "error" and problem.line == 4
        else:
            [flow] = flows
            assert flow.name == answers[path.name]["f"]["name"]
