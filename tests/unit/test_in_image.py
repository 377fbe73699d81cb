"""The programs that run inside an image (src/prefect_flow_deploy/in_image/): they keep to
Python 3.9's grammar (the oldest Python of a prefecthq/prefect:3 base), need nothing of this
package, and do what the engine reads from them. The checks run them as the builder does:
their source passed to `python -c` with a JSON argument."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_flow_deploy import in_image
from prefect_flow_deploy.docker.image_programs import in_image_program
from prefect_flow_deploy.in_image import check_image, import_check

PROGRAMS = sorted(Path(in_image.__file__).parent.glob("*.py"))
OLDEST_PYTHON = (3, 9)


def test_there_are_the_programs_the_builder_and_the_dockerfile_run() -> None:
    # prefect_names: a part of check_image, inlined into its text (in_image_program)
    assert {p.stem for p in PROGRAMS} == {
        "__init__",
        "check_image",
        "import_check",
        "prefect_names",
    }


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_each_program_parses_with_the_oldest_image_python_s_grammar(program: Path) -> None:
    ast.parse(program.read_text(), str(program), feature_version=OLDEST_PYTHON)


def test_that_grammar_check_rejects_newer_syntax() -> None:
    newer = "match x:\n    case 1:\n        pass\n"  # 3.10
    with pytest.raises(SyntaxError):
        ast.parse(newer, feature_version=OLDEST_PYTHON)


@pytest.mark.parametrize("name", ["check_image", "import_check"])
def test_no_program_imports_this_package(name: str) -> None:
    """The image has none of it: a program gets only its text (its parts inlined) and its
    argument. Judged on the text sent into the image, parsed with the oldest grammar."""
    text = in_image_program(name)
    for node in ast.walk(ast.parse(text, feature_version=OLDEST_PYTHON)):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}:{node.lineno} imports relatively"
            assert not (node.module or "").startswith("prefect_flow_deploy"), name
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("prefect_flow_deploy") for a in node.names)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_a_file_imports_of_this_package_only_a_part_it_is_given_inlined(program: Path) -> None:
    """A part, at the top level, on one line the inlining replaces; nothing else."""
    parts = {p.stem for p in PROGRAMS} - {"__init__"}
    tree = ast.parse(program.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "prefect_flow_deploy"
        ):
            assert node in tree.body and node.lineno == node.end_lineno, program.name
            assert node.module.removeprefix("prefect_flow_deploy.in_image.") in parts
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("prefect_flow_deploy") for a in node.names)


def run(name: str, argument: dict[str, object], cwd: Path) -> str:
    done = start(name, argument, cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(name: str, argument: dict[str, object], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", in_image_program(name), json.dumps(argument)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def code_folder(root: Path) -> dict[str, str]:
    (root / "lib").mkdir(parents=True)
    (root / "flow.py").write_text("import lib.helpers\n")
    (root / "lib" / "helpers.py").write_text("X = 1\n")
    return {"flow.py": sha("import lib.helpers\n"), "lib/helpers.py": sha("X = 1\n")}


def test_the_check_finds_the_code_where_the_candidates_say_and_the_missing_modules(
    tmp_path: Path,
) -> None:
    code = tmp_path / "app"
    files = code_folder(code)
    environment = check_image.prefect_environment()
    out = json.loads(
        run(
            "check_image",
            {
                "files": files,
                "candidates": ["", str(tmp_path / "nowhere"), str(code)],
                "modules": ["json", "lib", "no_such_module_pfd"],
                "verified": [environment],  # its worker command: the tests below
            },
            cwd=tmp_path,
        )
    )
    # `lib` is found in the code directory (put first on the path, as a flow run has it).
    assert out == {
        "prefect": check_image.prefect_version(),
        "code_dir": str(code),
        "cwd": str(tmp_path),
        "missing": ["no_such_module_pfd"],
        "prefect_missing": [],
        "environment": environment,
    }
    assert out["prefect"]  # this venv has Prefect


def test_the_environment_digest_follows_python_prefect_and_what_prefect_requires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check asks the worker's command once per environment a run meets: the digest
    must change with Prefect or any distribution it requires, and only then."""
    from importlib import metadata

    first = check_image.prefect_environment()
    assert first == check_image.prefect_environment() and len(first) == 64
    real = metadata.distribution

    def older_pydantic(name: str) -> metadata.Distribution:
        found = real(name)
        if name.lower() != "pydantic":
            return found
        return type(
            "Old", (), {"metadata": found.metadata, "version": "2.0.0", "requires": found.requires}
        )()  # type: ignore[return-value]

    monkeypatch.setattr(metadata, "distribution", older_pydantic)
    assert check_image.prefect_environment() != first


def _fake_prefect(directory: Path, script: str) -> None:
    prefect = directory / "prefect"
    prefect.write_text(f"#!/bin/sh\n{script}\n")
    prefect.chmod(0o755)


def test_the_worker_s_command_is_run_and_what_it_printed_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prefect flow-run execute` is what the Docker worker runs (BaseJobConfiguration.
    _base_flow_run_command, Prefect 3.1 to 3.9): jakekaplan/demo-flows' pinned Prefect 3.4.6
    imported on Python 3.11 but its CLI did not (importlib_metadata), and every run crashed
    after a check that passed. Here a `prefect` on PATH stands for the image's (the real
    one: tests/integration/test_deploy.py)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_prefect(tmp_path, 'test "$*" = "flow-run execute --help" && exit 0; exit 9')
    assert check_image.worker_command() is None
    _fake_prefect(
        tmp_path,
        "echo Traceback >&2; echo \"ModuleNotFoundError: No module named 'x'\" >&2; exit 1",
    )
    assert check_image.worker_command() == "Traceback\nModuleNotFoundError: No module named 'x'"
    (tmp_path / "prefect").unlink()
    assert check_image.worker_command() == "there is no `prefect` command on the PATH"


CHAINED = """
import sys
def load():
    try:
        raise ImportError("cannot import name 'sentinel' from 'typing_extensions'")
    except ImportError as exc:
        raise ImportError("Cannot import module 'prefect.cli.flow_run'") from exc
def resolve():
    load()
def parse():
    resolve()
parse()
"""


def test_a_chained_cause_of_the_worker_s_command_is_kept_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial round 11 a 3: Prefect 3.9's CLI loads `flow-run` through cyclopts, whose
    ImportError (`raise … from e`) was all the last six lines held; the cause, a pin of
    typing_extensions the image's anyio cannot import from, was cut off. Python's own
    chained traceback here (a real interpreter as the `prefect` script)."""
    script = tmp_path / "chained.py"
    script.write_text(CHAINED)
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_prefect(tmp_path, f'exec {sys.executable} {script} "$@"')
    printed = check_image.worker_command()
    assert printed is not None
    lines = printed.splitlines()
    assert lines[0] == "ImportError: cannot import name 'sentinel' from 'typing_extensions'"
    assert lines[-1] == "ImportError: Cannot import module 'prefect.cli.flow_run'"


# Names Prefect 2 code imports (found in public flow repositories) and names Prefect 3 has.
PREFECT_NAMES = [
    ("prefect.orion.schemas.states", "Completed"),
    ("prefect.orion.api.server", "ORION_API_VERSION"),
    ("prefect.packaging", "FilePackager"),
    ("prefect.results", "PersistedResult"),
    ("prefect.results", "PersistedResultBlob"),
    ("prefect.tasks.secrets", "PrefectSecret"),
    ("prefect.blocks.system", "Secret"),
    ("prefect.logging", "get_run_logger"),
    ("prefect.artifacts", "create_markdown_artifact"),
    ("prefect.deployments", "run_deployment"),
    ("prefect.client.schemas.filters", "FlowRunFilter"),
    ("prefect.states", "Completed"),
    ("prefect.context", "get_run_context"),
    ("prefect.runtime", "flow_run"),
    ("prefect.concurrency.sync", "concurrency"),
    ("prefect.variables", "Variable"),
    ("prefect.cache_policies", "INPUTS"),
    ("prefect.client.orchestration", "get_client"),
    ("prefect.utilities.annotations", "quote"),
    ("prefect.engine", "signals"),  # gone, behind getattr_migration: told since 2026-12-05
    # behind Prefect's lazy `__getattr__` (its `_public_api` table, getattr_migration's
    # MOVED_IN_V3): told (Stjefan/prefect-flows' DeploymentImage passed, every run crashed)
    ("prefect", "flow"),
    ("prefect", "get_run_logger"),
    ("prefect", "NoSuchThing"),
    ("prefect.deployments", "DeploymentImage"),
    ("prefect.filesystems", "LocalFileSystem"),
    ("prefect.filesystems", "GitHub"),
    ("prefect.deployments.deployments", "load_flow_from_flow_run"),  # moved: it imports
    ("prefect.deployments.deployments", "Deployment"),
]


# The oracle: each `from <module> import <name>` tried; prints those that fail.
IMPORT_PROBE = """
import json, sys
failed = []
for module, name in json.loads(sys.argv[1]):
    try:
        exec(f"from {module} import {name}")
    except ImportError:
        failed.append([module, name])
print(json.dumps(failed))
"""


def test_names_from_prefect_are_judged_from_the_image_s_prefect_source_as_an_import_would(
    tmp_path: Path,
) -> None:
    """The oracle: `from <module> import <name>` under this venv's Prefect, in a process of
    its own. What the check flags must fail there; what it passes that fails must be one it
    cannot tell from the source."""
    code = tmp_path / "app"
    files = code_folder(code)
    names = [list(p) for p in PREFECT_NAMES]
    argument = {"files": files, "candidates": [str(code)], "modules": [], "prefect_names": names}
    out = json.loads(run("check_image", argument, cwd=tmp_path))
    flagged = {tuple(p) for p in out["prefect_missing"]}
    answer = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", IMPORT_PROBE, json.dumps(PREFECT_NAMES)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    gone = {tuple(p) for p in json.loads(answer.stdout.splitlines()[-1])}
    assert flagged == {
        ("prefect.orion.schemas.states", ""),
        ("prefect.orion.api.server", ""),
        ("prefect.packaging", ""),
        ("prefect.results", "PersistedResult"),
        ("prefect.results", "PersistedResultBlob"),
        ("prefect.tasks.secrets", ""),
        ("prefect", "NoSuchThing"),
        ("prefect.deployments", "DeploymentImage"),
        ("prefect.filesystems", "GitHub"),
        ("prefect.deployments.deployments", "Deployment"),
        ("prefect.engine", "signals"),
    }
    said = {(m, n) for m, n in PREFECT_NAMES if (m, n) in flagged or (m, "") in flagged}
    assert said <= gone  # nothing flagged that imports
    assert gone == said  # every one that fails is told


def test_a_candidate_holding_some_of_the_files_is_the_code_dir_with_those_it_lacks(
    tmp_path: Path,
) -> None:
    """Heipa37/Prefect_DBT_Docker (trial round 9 a 6): `COPY flows flows` under a WORKDIR holds
    three of the folder's four flow files; the folder's four flows failed."""
    (tmp_path / "app" / "flows").mkdir(parents=True)
    (tmp_path / "app" / "flows" / "inner.py").write_text("x = 1\n")
    files = {"flows/inner.py": sha("x = 1\n"), "top.py": sha("y = 2\n")}
    candidates = [str(tmp_path / "none"), str(tmp_path / "app")]
    assert check_image.code_dir(files, candidates, root=str(tmp_path / "none")) is None
    assert check_image.partly(files, candidates) == (str(tmp_path / "app"), ["top.py"])
    assert check_image.partly(files, [str(tmp_path / "none")]) == (None, [])


def test_a_file_with_other_content_is_not_the_folder_s(tmp_path: Path) -> None:
    files = code_folder(tmp_path / "app")
    (tmp_path / "app" / "lib" / "helpers.py").write_text("X = 2\n")
    assert not check_image.holds(str(tmp_path / "app"), files)
    assert check_image.code_dir(files, [str(tmp_path / "app")], root=str(tmp_path)) is None


def test_without_a_candidate_the_filesystem_is_searched_skipping_system_dirs(
    tmp_path: Path,
) -> None:
    files = code_folder(tmp_path / "srv" / "code")
    code_folder(tmp_path / "etc" / "copy")  # skipped, as /etc is in an image
    code_folder(tmp_path / "venv" / "site-packages" / "pkg")  # skipped by name
    assert check_image.search(files, root=str(tmp_path)) == str(tmp_path / "srv" / "code")
    (tmp_path / "srv" / "code" / "flow.py").unlink()
    assert check_image.search(files, root=str(tmp_path)) is None


FLOW = (
    "from prefect import flow\n\n@flow\ndef hello(name: str = 'world', times: int = 2):\n"
    "    print(name)\n\nprint('module-level output')\n"
)


def test_asked_with_the_check_the_schemas_follow_its_line_prefect_s_or_why_not(
    tmp_path: Path,
) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    (tmp_path / "broken.py").write_text("raise SystemExit('no config')\n")
    argument = {
        "files": {"flow.py": sha(FLOW)},
        "candidates": [str(tmp_path)],
        "entrypoints": ["flow.py:hello", "broken.py:main"],
    }
    lines = run("check_image", argument, cwd=Path("/")).strip().splitlines()
    assert json.loads(lines[0])["code_dir"] == str(tmp_path)  # the check's line comes first
    assert lines[1] == "module-level output"
    assert lines[-1].startswith(check_image.MARKER)
    answer = json.loads(lines[-1].removeprefix(check_image.MARKER))
    assert answer["broken.py:main"] == {
        "error": "SystemExit: no config",
        "environment": False,
        "at": ["broken.py", 1],
    }
    properties = answer["flow.py:hello"]["schema"]["properties"]
    assert properties["name"]["default"] == "world"
    assert properties["times"]["type"] == "integer"
    assert answer["flow.py:hello"]["name"] == "hello"  # Prefect's own name of the flow


NO_NETWORK_AT_IMPORT = {
    # psycopg's OperationalError is no OSError; libpq's words are in its message
    "db.py": "class OperationalError(Exception):\n    pass\n\n"
    'raise OperationalError(\'connection to server at "172.17.0.1", port 5432 failed: '
    "Network is unreachable')\n",
    "wrapped.py": "try:\n    raise ConnectionRefusedError(111, 'refused')\n"
    "except OSError as exc:\n    raise RuntimeError('the store is down') from exc\n",
    "plain.py": "raise ValueError('invalid literal for int()')\n",
}


def test_a_load_that_needs_the_network_is_the_environment_s(tmp_path: Path) -> None:
    """jwc20/prefect (trial round 11 a 7): `create_engine(…)` and a query at import raised
    psycopg's OperationalError (no OSError) under the check's `--network none`, and the flow
    was refused as unloadable while its runs, with the network, started. A client's error
    carrying the OS error's words, or raised from an OSError, is the environment's (a
    warning); a plain error is not."""
    for name, text in NO_NETWORK_AT_IMPORT.items():
        (tmp_path / name).write_text(text)
    argument = {
        "code_dir": str(tmp_path),
        "entrypoints": [f"{n[:-3]}.py:f" for n in NO_NETWORK_AT_IMPORT],
    }
    lines = run("check_image", argument, cwd=Path("/")).strip().splitlines()
    answer = json.loads(lines[-1].removeprefix(check_image.MARKER))
    said = {entrypoint: a["environment"] for entrypoint, a in answer.items()}
    assert said == {"db.py:f": True, "wrapped.py:f": True, "plain.py:f": False}


def test_asked_for_schemas_alone_it_loads_them_from_the_given_directory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(check_image, "check", lambda args: pytest.fail("ran the check"))
    monkeypatch.setattr(check_image, "schemas", lambda d, e, i: {e[0]: {"schema": {"dir": d}}})
    check_image.main({"code_dir": "/app", "entrypoints": ["flow.py:hello"]})
    out = capsys.readouterr().out
    assert out == check_image.MARKER + '{"flow.py:hello": {"schema": {"dir": "/app"}}}\n'


@pytest.mark.parametrize(
    "found", [{"prefect": None, "code_dir": "/app"}, {"prefect": "3.9.1", "code_dir": None}]
)
def test_without_prefect_or_the_code_no_flow_is_loaded(
    found: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check fails such an image anyway: nothing of the repository runs for it."""
    monkeypatch.setattr(check_image, "check", lambda args: {**found, "cwd": "/", "missing": []})
    monkeypatch.setattr(check_image, "schemas", lambda *a: pytest.fail("loaded the flows"))
    check_image.main({"files": {}, "candidates": [], "entrypoints": ["flow.py:hello"]})
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {**found, "cwd": "/", "missing": []}
    ]


def test_a_flow_whose_risk_is_its_libraries_imports_them_alone_and_prefect_tells_a_failure(
    tmp_path: Path,
) -> None:
    """Prefect is imported only when an import fails (the first such flow): most flow files
    import a library or two above their definitions, and loading each with Prefect cost
    2.8 s of a folder's check (bench-quick, 847e510). Names are looked up as `from x import
    y` does: an attribute, else a submodule."""
    (tmp_path / "okmod").mkdir()
    (tmp_path / "okmod" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "okmod" / "sub.py").write_text("Y = 2\n")
    (tmp_path / "gitlike.py").write_text("raise ImportError('Bad git executable')\n")
    flow = "{head}\nfrom prefect import flow\n\n@flow\ndef {name}():\n    pass\n"
    for name, head in [("good", "from okmod import X, sub"), ("bad", "import gitlike"),
                       ("badname", "from okmod import Z")]:  # fmt: skip
        (tmp_path / f"{name}.py").write_text(flow.format(head=head, name=name))
    imports = {
        "good.py:good": [["okmod", ["X", "sub"]]],
        "bad.py:bad": [["gitlike", []]],
        "badname.py:badname": [["okmod", ["Z"]]],
    }
    program = Path(check_image.__file__)
    script = (
        "import json, runpy, sys\n"
        f"g = runpy.run_path({str(program)!r})\n"
        "out = g['schemas'](sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]))\n"
        "print(json.dumps(out))\nprint('prefect' in sys.modules)\n"
    )

    def load(*entrypoints: str) -> tuple[dict[str, Any], str]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path), json.dumps(entrypoints),
             json.dumps(imports)],
            capture_output=True, text=True, cwd="/", timeout=120, check=True,
        )  # fmt: skip
        answer, imported = done.stdout.strip().splitlines()[-2:]
        return json.loads(answer), imported

    assert load("good.py:good") == ({"good.py:good": {"imported": True}}, "False")
    answers, imported = load("good.py:good", "bad.py:bad", "badname.py:badname")
    assert imported == "True" and answers["good.py:good"] == {"imported": True}
    assert "Bad git executable" in answers["bad.py:bad"]["error"], answers
    assert answers["bad.py:bad"]["environment"] is False
    assert "cannot import name 'Z'" in answers["badname.py:badname"]["error"], answers


def test_loading_that_takes_too_long_is_ended_by_the_watchdog(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(600)\n")
    argument = {"code_dir": str(tmp_path), "entrypoints": ["slow.py:f"], "seconds": 1}
    done = start("check_image", argument, cwd=Path("/"))
    # faulthandler's exit is _exit(1); on a loaded machine the second can pass while Prefect
    # is still importing, and dumping the traceback there may end the process by SIGSEGV
    # instead (-11): ended by the watchdog either way, which is what the builder reads.
    assert done.returncode in (1, -11), done.stderr
    assert any(line.startswith("Timeout (") for line in done.stderr.splitlines()), done.stderr
    assert check_image.MARKER not in done.stdout


def test_the_import_check_names_the_package_s_modules_and_what_they_import(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import sub\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "mod.py").write_text(
        "import json, os.path\nfrom email.message import Message\n"
        "def later():\n    import csv\n    from .x import y\n"
    )
    assert import_check.module_names(tmp_path) == {
        "pkg",
        "pkg.sub",
        "pkg.sub.mod",
        "json",
        "os.path",
        "email.message",
        "csv",  # inside a function too; the relative import is the package's own
    }


def test_the_import_check_tells_which_modules_do_not_import() -> None:
    good, bad = import_check.try_imports(["json", "no_such_module_pfd"])
    assert good == ["json"]
    assert bad == ["no_such_module_pfd: ModuleNotFoundError: No module named 'no_such_module_pfd'"]
    assert json.__file__ in import_check.loaded_sources(str(Path(json.__file__).parent))


def test_the_import_check_precompiles_the_listed_sources_for_any_mtime(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    listed = tmp_path / "loaded"
    listed.write_text(f"{source}\n")
    import_check.main("compile", listed)
    compiled = Path(importlib.util.cache_from_source(str(source))).read_bytes()
    assert int.from_bytes(compiled[4:8], "little") == 0b01  # hash-based, unchecked (PEP 552)


def test_where_loading_raised_is_the_deepest_line_of_the_folder_s_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial round 10 a 5: `os.getenv("SCOPES").split(",")` at src/utils/auth.py:3, imported
    by the flow file, was said at the `@flow`. Loaded by Prefect's loader (whose ScriptError
    wraps the user's exception, its file named relatively), the line is auth.py's; a frame
    outside the working directory (a library) is never it."""
    from prefect.exceptions import ScriptError
    from prefect.flows import load_flow_from_entrypoint

    (tmp_path / "pfd_raising" / "utils").mkdir(parents=True)
    (tmp_path / "pfd_raising" / "utils" / "auth.py").write_text(
        "import os\n\nSCOPES = os.getenv('PFD_UNSET_FOR_TEST').split(',')\n"
    )
    (tmp_path / "flow.py").write_text(
        "from prefect import flow\nfrom pfd_raising.utils import auth\n\n\n@flow\ndef f():\n    pass\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ScriptError) as raised:
        load_flow_from_entrypoint("flow.py:f", use_placeholder_flow=False)
    assert check_image.raised_at(raised.value.user_exc) == [
        os.path.join("pfd_raising", "utils", "auth.py"),
        3,
    ]
    try:
        json.loads("{")
    except ValueError as exc:
        assert check_image.raised_at(exc) is None  # the standard library's lines only
