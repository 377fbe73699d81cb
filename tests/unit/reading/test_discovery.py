import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from prefect_flow_deploy.core.errors import NoFlowFoldersError
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.discovery import discover
from prefect_flow_deploy.reading.recipes import recipe_for
from prefect_flow_deploy.reading.requirements import requirements_problems
from prefect_flow_deploy.settings.options import Options
from tests.corpus import scaled

FLOW = '''
from prefect import flow
import prefect
from prefect import flow as prefect_flow
import pandas as pd  # not installed here: discovery must not import it


@flow
def plain(x: int = 1):
    pass


@flow(name="named-flow", log_prints=True)
def renamed(day: str = "mon", n: int = 3) -> None:
    """Does things.

    Args:
        day: which day
    """


@prefect.flow
def via_module():
    pass


@prefect.flow(retries=2)
async def async_one(frame: pd.DataFrame | None = None):
    pass


@prefect_flow
def aliased():
    pass


def not_a_flow():
    pass
'''


def make(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_finds_every_decorator_form_without_importing(tmp_path: Path) -> None:
    make(tmp_path, "proj/folder/flows.py", FLOW)
    [folder] = discover(tmp_path)
    names = {f.name: f for f in folder.flows}
    assert set(names) == {"plain", "named-flow", "via-module", "async-one", "aliased"}
    assert names["named-flow"].entrypoint == "flows.py:renamed"
    schema = names["named-flow"].parameter_schema
    assert schema["properties"]["day"]["default"] == "mon"
    assert schema["properties"]["day"]["description"] == "which day"
    assert schema["properties"]["n"]["type"] == "integer"
    assert folder.problems == ()


def test_skips_hidden_private_and_cache_folders(tmp_path: Path) -> None:
    for rel in (
        "p/.hidden/f.py",
        "p/_private/f.py",
        "p/__pycache__/f.py",
        ".p/x/f.py",
        "p/real/f.py",
    ):
        make(tmp_path, rel, "from prefect import flow\n@flow\ndef f(): pass\n")
    assert [f.key for f in discover(tmp_path)] == ["p/real"]


def test_missing_requirements_is_fine_and_files_are_noted(tmp_path: Path) -> None:
    make(tmp_path, "p/a/f.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    make(tmp_path, "p/b/f.py", "from prefect import flow\n@flow\ndef g(): pass\n")
    make(tmp_path, "p/b/requirements.txt", "tabulate\n")
    make(tmp_path, "p/b/Dockerfile", "FROM x\n")
    a, b = discover(tmp_path)
    assert a.requirements is None and a.dockerfile is None and not a.failed
    assert b.requirements is not None and b.dockerfile is not None


def test_a_lower_case_dockerfile_is_the_folders_dockerfile_as_for_docker(tmp_path: Path) -> None:
    """`docker build` falls back to `dockerfile` (reading/dockerfile.py says where): the folder
    is built from it, with everything its context holds, not from the default recipe."""
    make(tmp_path, "p/a/f.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    make(tmp_path, "p/a/dockerfile", "FROM x\nCOPY . .\n")
    make(tmp_path, "p/a/.dockerignore", "dockerfile\n")  # Docker sends it all the same
    [folder] = discover(tmp_path)
    assert folder.dockerfile == tmp_path / "p" / "a" / "dockerfile"
    recipe = recipe_for(folder, Options(base_image="b"))
    assert recipe.dockerfile_text is None and "dockerfile" in recipe.files


@pytest.mark.parametrize("listed", ["deployments: []\n", "deployments:\n# - name: off\n"])
def test_a_prefect_yaml_listing_no_deployments_deploys_nothing(tmp_path: Path, listed: str) -> None:
    """prefeitura-rio/prefect_rj_iplanrio switched 11 pipelines off by commenting out every
    entry: `prefect deploy` deploys none of them, and this tool made each flow's default
    deployment without a word. Now nothing, and a warning at the key saying so."""
    make(tmp_path, "p/off/flow.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    make(tmp_path, "p/off/prefect.yaml", "name: off\n" + listed)
    [folder] = discover(tmp_path)
    assert folder.flows == () and not folder.failed
    [warning] = folder.problems
    assert (warning.severity, warning.line) == ("warning", 2)
    assert warning.message.startswith("`deployments:` lists none, so nothing here is deployed")


def test_folder_without_flow_is_a_warning(tmp_path: Path) -> None:
    make(tmp_path, "p/empty/util.py", "def helper(): pass\n")
    [folder] = discover(tmp_path)
    assert not folder.failed
    assert [p.severity for p in folder.problems] == ["warning"]
    assert "no @flow" in folder.problems[0].message


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = make(
        tmp_path, "p/broken/flow.py", "from prefect import flow\n\n@flow\ndef f(:\n    pass\n"
    )
    [folder] = discover(tmp_path)
    assert folder.failed
    [problem] = folder.problems
    assert problem.file == path and problem.line == 4
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert problem.message.startswith(f"syntax error (as Python {python} reads it): ")
    assert "run prefect-flow-deploy on that Python" in problem.message  # newer grammar


def test_prefect1_flow_gets_a_porting_error(tmp_path: Path) -> None:
    path = make(
        tmp_path,
        "p/old/flow.py",
        "from prefect import Flow, task\n\n@task\ndef t(): pass\n\nwith Flow('old') as flow:\n    t()\n",
    )
    [folder] = discover(tmp_path)
    assert folder.failed
    problem = folder.problems[0]
    assert problem.file == path and problem.line == 6  # the `with Flow(...)`
    assert "Prefect 1" in problem.message and "@flow" in problem.message


def test_flow_imported_to_type_a_hook_is_prefect_3(tmp_path: Path) -> None:
    make(
        tmp_path,
        "p/hooks/flow.py",
        "from prefect import Flow, flow\n\n\ndef notify(f: Flow, run, state) -> None:\n"
        "    pass\n\n\n@flow(on_failure=[notify])\ndef main() -> None:\n    pass\n",
    )
    [folder] = discover(tmp_path)
    assert folder.problems == ()
    assert [f.name for f in folder.flows] == ["main"]


def test_flow_names_from_module_constants_are_read_without_running_code(
    tmp_path: Path,
) -> None:
    make(
        tmp_path,
        "p/x/flow.py",
        "from prefect import flow\nTEAM = 'sales'\nPREFIX: str = f'{TEAM}-'\n\n"
        "@flow(name=PREFIX + 'daily')\ndef a(): pass\n\n"
        "@flow(name=f'{TEAM}-weekly', description='Weekly ' + TEAM)\ndef b(): pass\n",
    )
    [folder] = discover(tmp_path)
    assert not folder.problems
    assert [(f.name, f.description) for f in folder.flows] == [
        ("sales-daily", None),
        ("sales-weekly", "Weekly sales"),
    ]


def test_a_name_from_the_environment_is_an_error_and_a_computed_one_is_left_to_the_image(
    tmp_path: Path,
) -> None:
    make(
        tmp_path,
        "p/x/flow.py",
        "import os\nfrom prefect import flow\nNAME = 'a'\nNAME = NAME.upper()\n\n"
        "@flow(name=os.environ['FLOW'])\ndef f(): pass\n\n"
        "@flow(name=f'{NAME}-x')\ndef g(): pass\n\n"
        "@flow(name=f'{NAME!r:>10}')\ndef h(): pass\n",
    )
    [folder] = discover(tmp_path)
    [error] = [p for p in folder.problems if p.severity == "error"]
    assert error.line == 6 and "from the environment" in error.message
    computed = [p for p in folder.problems if p.title == "Flow name computed in the image"]
    assert [p.line for p in computed] == [9, 12]
    assert [(f.function, f.name) for f in folder.flows] == [
        ("g", "<flow.py:g>"),
        ("h", "<flow.py:h>"),
    ]
    assert folder.failed  # as before, for f; g and h would be named in the built image


def test_duplicate_flow_names_fail_only_those_flows_each_at_its_line(tmp_path: Path) -> None:
    a = make(tmp_path, "p/x/a.py", "from prefect import flow\n@flow(name='same')\ndef a(): pass\n")
    b = make(
        tmp_path, "p/x/b.py", "from prefect import flow\n\n@flow(name='same')\ndef b(): pass\n"
    )
    make(tmp_path, "p/x/c.py", "from prefect import flow\n@flow\ndef other(): pass\n")
    [folder] = discover(tmp_path)
    assert not folder.failed  # the folder's other flow still deploys
    assert [(p.file, p.line, p.flow) for p in folder.problems] == [
        (a, 3, "a.py:a"),
        (b, 4, "b.py:b"),
    ]
    assert "2 flows are named 'same' (a.py:3 and b.py:4)" in folder.problems[0].message
    assert folder.flow_error("a.py:a") and folder.flow_error("b.py:b")
    assert folder.flow_error("c.py:other") is None


def test_last_definition_wins_as_in_python(tmp_path: Path) -> None:
    make(
        tmp_path,
        "p/x/flow.py",
        "from prefect import flow\n\n@flow(name='first')\ndef main(): pass\n\n"
        "@flow(name='second')\ndef main(x: int = 1): pass\n\n"
        "@flow\ndef gone(): pass\n\ngone = 3\n",
    )
    [folder] = discover(tmp_path)
    assert [(f.name, f.line) for f in folder.flows] == [("second", 7)]
    assert folder.problems == ()


def test_pattern_filters_on_project_and_folder(tmp_path: Path) -> None:
    for rel in ("sales/orders/f.py", "sales/refunds/f.py", "ops/orders/f.py"):
        make(tmp_path, rel, "from prefect import flow\n@flow\ndef f(): pass\n")
    assert [f.key for f in discover(tmp_path, "^sales/")] == ["sales/orders", "sales/refunds"]
    assert [f.key for f in discover(tmp_path, "orders")] == ["ops/orders", "sales/orders"]


def test_each_folder_is_handed_on_as_soon_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`on_read` hears of each folder returned (the filtered out, never) before the next is
    read: gather asks the registry about it while the next are read. Both layouts."""
    from prefect_flow_deploy.reading import discovery

    events: list[str] = []
    reading = discovery.read_folder

    def read_folder(project: str, path: Path, *args: object, **kwargs: object) -> object:
        events.append(f"read {path.name}")
        return reading(project, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(discovery, "read_folder", read_folder)
    for rel in ("sales/orders/f.py", "sales/refunds/f.py", "ops/orders/f.py"):
        make(tmp_path / "projects", rel, "from prefect import flow\n@flow\ndef f(): pass\n")
    found = discover(tmp_path / "projects", "orders", on_read=lambda f: events.append(f.key))
    assert [f.key for f in found] == ["ops/orders", "sales/orders"]
    assert events == ["read orders", "ops/orders", "read orders", "sales/orders"]

    events.clear()
    make(tmp_path, "flows/a.py", "from prefect import flow\n@flow\ndef a(): pass\n")
    make(tmp_path, "etl/b.py", "from prefect import flow\n@flow\ndef b(): pass\n")
    make(tmp_path, "prefect.yaml", "deployments:\n- {name: a, entrypoint: flows/a.py:a}\n"
         "- {name: b, entrypoint: etl/b.py:b}\n")  # fmt: skip
    found = discover(tmp_path, on_read=lambda f: events.append(f"{f.key} {len(f.flows)}"))
    assert [e for e in events if not e.startswith("read ")] == [
        f"{f.key} {len(f.flows)}" for f in found
    ]
    assert [e.split()[0] for e in events] == ["read", found[0].key, "read", found[1].key]


def test_helper_modules_in_subfolders_are_scanned(tmp_path: Path) -> None:
    make(tmp_path, "p/x/pkg/inner.py", "from prefect import flow\n@flow\ndef inner(): pass\n")
    [folder] = discover(tmp_path)
    assert [f.entrypoint for f in folder.flows] == ["pkg/inner.py:inner"]


def test_byte_order_mark_is_fine(tmp_path: Path) -> None:
    (tmp_path / "p" / "x").mkdir(parents=True)
    (tmp_path / "p" / "x" / "flow.py").write_bytes(
        b"\xef\xbb\xbffrom prefect import flow\n@flow\ndef f(): pass\n"
    )
    [folder] = discover(tmp_path)
    assert [f.name for f in folder.flows] == ["f"]


def test_declared_encodings_are_read_and_undeclared_bytes_are_errors_at_their_line(
    tmp_path: Path,
) -> None:
    declared = tmp_path / "p" / "declared" / "flow.py"
    undeclared = tmp_path / "p" / "undeclared" / "flow.py"
    for path in (declared, undeclared):
        path.parent.mkdir(parents=True)
    declared.write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom prefect import flow\n\n"
        b"@flow(name='caf\xe9')\ndef f(): pass\n"
    )
    undeclared.write_bytes(b"from prefect import flow\n# caf\xe9\n@flow\ndef g(): pass\n")
    by_name = {f.name: f for f in discover(tmp_path)}
    assert [f.name for f in by_name["declared"].flows] == ["caf\u00e9"]
    [problem] = by_name["undeclared"].problems
    assert (problem.file, problem.line) == (undeclared, 2)
    assert "not UTF-8 (byte 0xe9 on line 2)" in problem.message and "coding:" in problem.message


def test_a_null_byte_is_a_syntax_error(tmp_path: Path) -> None:
    make(tmp_path, "p/x/flow.py", "from prefect import flow\x00\n")
    [folder] = discover(tmp_path)
    assert folder.failed and "null bytes" in folder.problems[0].message


def test_flow_file_at_project_level_warns_and_no_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    make(tmp_path, "projects/sales/stray.py", "import prefect\n@prefect.flow\ndef f(): pass\n")
    with pytest.raises(NoFlowFoldersError) as raised:
        discover(tmp_path / "projects")
    assert raised.value.exit_code == 3
    assert "Found instead: 1 .py file with a @flow under projects/" in str(raised.value)
    assert "stray.py is directly in the project folder sales/" in capsys.readouterr().err


def test_build_files_at_project_level_are_read_by_no_build_and_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Dockerfile or requirements.txt meant for the whole project (tig0826/prefect-workflow
    keeps one Dockerfile for all of dqx/): warned, the folders read as usual."""
    make(tmp_path, "dqx/Dockerfile", "FROM python:3.11-slim\n")
    make(tmp_path, "dqx/requirements.txt", "pandas\n")
    make(tmp_path, "dqx/get_price/flow.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    [folder] = discover(tmp_path)
    assert folder.dockerfile is None and folder.requirements is None and not folder.problems
    err = capsys.readouterr().err
    for name in ("Dockerfile", "requirements.txt"):
        assert f"{name} is directly in the project folder dqx/, where nothing reads it" in err
    assert "prefect.yaml is directly" not in err


def test_requirements_reaching_outside_the_folder_are_errors_with_their_line(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "p" / "f"
    (folder / "local_pkg").mkdir(parents=True)
    (folder / "local_pkg" / "setup.py").write_text("")
    (folder / "pyproject.toml").write_text("[project]\nname = 'f'\n")
    (folder / "base.txt").write_text("tabulate\n")
    requirements = folder / "requirements.txt"
    requirements.write_text(
        "-r base.txt\n"  # inside: fine
        "-r ../../common.txt\n"
        "--constraint=../constraints.txt\n"
        "-e .\n"  # the folder itself: fine
        "-e ../shared_lib\n"
        "mylib @ file:../mylib\n"
        "other @ file:///opt/wheels/other.whl\n"
        "--extra-index-url https://pypi.internal/simple\n"
        "pkg @ https://example.com/pkg.whl  # a URL is fine\n"
        "./local_pkg\n"
        "../sibling_pkg\n"
    )
    problems, names_files = requirements_problems(requirements)
    assert names_files
    assert [p.line for p in problems] == [2, 3, 5, 6, 7, 11]
    assert all(p.file == requirements and p.severity == "error" for p in problems)
    assert (
        "../../common.txt" in problems[0].message
        and "outside the flow folder" in problems[0].message
    )


def test_a_description_that_is_not_a_literal_is_a_warning_at_its_line(tmp_path: Path) -> None:
    """Prefect would register the expression's value, which only running the code tells: say
    so at the line (the docstring is used) rather than silently use the docstring."""
    path = make(
        tmp_path,
        "p/x/flow.py",
        "from prefect import flow\nimport docs\n\n\n"
        "@flow(description=docs.text('daily'))\ndef main():\n    '''Docstring.'''\n",
    )
    [folder] = discover(tmp_path)
    [flow] = folder.flows
    assert flow.description == "Docstring."
    [problem] = folder.problems
    assert (problem.severity, problem.file, problem.line) == ("warning", path, 5)
    assert "description=" in problem.message and "docstring" in problem.message


def _bad_entries(tmp_path: Path) -> Path:
    """A repository beside a folder outside it, with one of each entry that used to stop the
    run or leak into an image (issue 15), and one good folder."""
    root = tmp_path / "repo" / "projects"
    make(root, "p/good/flow.py", "from prefect import flow\n\n@flow\ndef good(): pass\n")
    make(tmp_path, "outside/flowdir/flow.py", "from prefect import flow\n\n@flow\ndef o(): pass\n")
    make(tmp_path, "outside/token.txt", "secret\n")
    make(root, "p/badname/flow.py", "from prefect import flow\n\n@flow\ndef b(): pass\n")
    (root / "p" / "badname").joinpath(os.fsdecode(b"data\xff.txt")).write_bytes(b"x")
    (root / "p" / "linked").symlink_to(tmp_path / "outside" / "flowdir")
    make(root, "p/filelink/flow.py", "from prefect import flow\n\n@flow\ndef f(): pass\n")
    (root / "p" / "filelink" / "token.txt").symlink_to("../../../../outside/token.txt")
    (root / "p" / "loop1").symlink_to("loop2")
    (root / "p" / "loop2").symlink_to("loop1")
    make(root, "p/inner/flow.py", "from prefect import flow\n\n@flow\ndef i(): pass\n")
    (root / "p" / "inner" / "again").symlink_to("again")
    return root


def test_no_entry_stops_discovery_and_none_leaves_the_repository(tmp_path: Path) -> None:
    root = _bad_entries(tmp_path)
    folders = {f.key: f for f in discover(root)}
    assert not folders["p/good"].problems and folders["p/good"].flows
    expected = {
        "p/badname": (root / "p" / "badname", "p/badname/data\\xff.txt is not valid UTF-8"),
        "p/linked": (root / "p" / "linked", "outside the repository"),
        "p/filelink": (root / "p" / "filelink" / "token.txt", "outside the repository"),
        "p/loop1": (root / "p" / "loop1", "p/loop1 is a symlink loop (-> loop2)"),
        "p/loop2": (root / "p" / "loop2", "symlink loop"),
        "p/inner": (root / "p" / "inner" / "again", "p/inner/again is a symlink loop"),
    }
    for key, (file, words) in expected.items():
        folder = folders[key]
        assert folder.failed and not folder.flows, key
        (problem,) = folder.problems
        assert problem.file == file and words in problem.message, (key, problem)
    assert "Copy what it needs into the repository" in folders["p/linked"].problems[0].message


def test_what_the_build_leaves_out_is_not_judged(tmp_path: Path) -> None:
    """A laptop's virtual environment in a flow folder links its interpreter out of the
    repository. The default recipe leaves `.venv` out of the build (RECIPE_IGNORES), a
    folder's .dockerignore what it names: none of it reaches an image, so none of it fails
    the folder. Where the build does receive such a link (a Dockerfile's context without a
    .dockerignore, an exception in one), it still does."""
    root = tmp_path / "repo" / "projects"
    outside = make(tmp_path, "outside/python3.11", "an interpreter\n")
    code = "from prefect import flow\n\n@flow\ndef f(): pass\n"
    dockerfile = "FROM python:3.11-slim\nCOPY . /app\n"
    links = {
        "p/default": ".venv/bin/python3",  # the default recipe
        "p/ignored": "env/bin/python3",  # a Dockerfile, env/ in its .dockerignore
        "p/sent": ".venv/bin/python3",  # a Dockerfile, no .dockerignore: sent
        "p/excepted": "env/keep/python3",  # env/ ignored but env/keep brought back
    }
    for key, link in links.items():
        make(root, f"{key}/flow.py", code)
        (root / key / link).parent.mkdir(parents=True)
        (root / key / link).symlink_to(outside)
    for key in ("p/ignored", "p/sent", "p/excepted"):
        make(root, f"{key}/Dockerfile", dockerfile)
    make(root, "p/ignored/.dockerignore", "env/\n")
    make(root, "p/excepted/.dockerignore", "env\n!env/keep\n")
    folders = {f.key: f for f in discover(root)}
    for key in ("p/default", "p/ignored"):
        assert not folders[key].problems and folders[key].flows, folders[key].problems
        context = recipe_for(folders[key], Options(base_image="base:1")).files
        assert not [path for path in context if path.startswith((".venv", "env"))], context
    for key in ("p/sent", "p/excepted"):
        (problem,) = folders[key].problems
        assert problem.file == root / key / links[key], problem
        assert "outside the repository" in problem.message
        assert "leave it out of the build (.dockerignore)" in problem.message


def test_an_unlistable_project_keeps_its_place(tmp_path: Path) -> None:
    root = tmp_path / "repo" / "projects"
    make(root, "good/f/flow.py", "from prefect import flow\n\n@flow\ndef good(): pass\n")
    (root / "looped").symlink_to("looped")
    folders = {f.key: f for f in discover(root)}
    assert folders["looped/*"].failed and folders["good/f"].flows


def test_copy_sources_the_flow_folder_lacks_are_errors_at_their_line(tmp_path: Path) -> None:
    """The build context is the flow folder: a Dockerfile written for the repository root
    (as mortenoh/prefect-examples' are) fails in BuildKit with 'failed to walk … no such
    file or directory'; said before building, at the line, with what to write instead."""
    (tmp_path / ".git").mkdir()
    make(tmp_path, "packages/shared/setup.py", "")
    make(tmp_path, "projects/p/f/flow.py", "from prefect import flow\n@flow\ndef f(): pass\n")
    make(tmp_path, "projects/p/f/conf/a.yaml", "")
    dockerfile = make(
        tmp_path,
        "projects/p/f/Dockerfile",
        "FROM base\n"
        "COPY packages/shared /tmp/shared\n"  # 2: in the repository, outside the folder
        "COPY projects/p/f/flow.py /opt/flow.py\n"  # 3: the folder's own file, from the root
        "COPY ../common /opt/common\n"  # 4: leaves the context
        "COPY nothing.txt /opt/\n"  # 5: nowhere
        "COPY ./projects/p/f /opt/f\n"  # 6: the folder itself, from the root
        "COPY . /opt/prefect/flows/f\n"  # the folder's own paths, / and .. clamped as BuildKit
        "COPY ./conf/a.yaml /conf/../conf/ /flow.py /opt/\n",
    )
    [folder] = discover(tmp_path / "projects")
    assert folder.failed
    found = {p.line: p.message for p in folder.problems}
    assert {p.file for p in folder.problems} == {dockerfile}
    assert sorted(found) == [2, 3, 4, 5, 6]
    assert "the flow folder projects/p/f/, has no 'packages/shared'" in found[2]
    assert "packages/shared is in the repository but outside the flow folder" in found[2]
    assert found[3].endswith("not the repository root: write it as `flow.py`.")
    assert "(a path cannot leave the build context)" in found[4]
    assert found[5].endswith("has no 'nothing.txt'. Paths in COPY and ADD are relative to the "
                             "flow folder, not the repository root.")  # fmt: skip
    assert found[6].endswith("root: it names the flow folder itself, which is `.` here.")


def cyclic_garbage(read: Callable[[], object]) -> int:
    """Objects `read` leaves that only the cycle collector frees (gc.collect's count)."""
    gc.collect()
    gc.disable()
    try:
        read()
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize("folders", [3, 30])
def test_reading_leaves_no_cyclic_garbage(tmp_path: Path, folders: int) -> None:
    """Reading a folder, and making its recipe, frees all it made as it goes: a cycle (a
    nested function that calls itself, a resolver and its source holding each other, a
    kept exception's traceback) held each folder's parsed modules until the cycle
    collector ran, and its scans cost the 1,000-folder plan a tenth of its CPU. The real
    shapes (tests/corpus) for N and 10·N folders: 0 each time (127,850 objects for 1,000
    synthetic folders before)."""
    scaled.write(tmp_path, folders)
    discover(tmp_path)  # what the first read imports is made once, not per folder
    with file_reads.one_read_each():
        assert cyclic_garbage(lambda: discover(tmp_path)) == 0
        found = discover(tmp_path)
        options = Options(base_image="localhost:5000/prefect:3")
        readable = [f for f in found if f.flows and not f.failed]
        assert len(readable) >= folders - 1  # the corpus's one folder of unreadable flows
        assert cyclic_garbage(lambda: [recipe_for(f, options) for f in readable]) == 0


def test_a_prefect_2_pin_fails_a_default_recipe_folder_before_its_build(tmp_path: Path) -> None:
    """Only where the default recipe installs the pin over the base image's Prefect 3; a
    folder with a Dockerfile of its own is judged by its built image (image_check.py), and
    warned before its build (trial round 11 b 14)."""
    root = tmp_path / "repo" / "projects"
    for name in ("plain", "own"):
        make(root, f"p/{name}/flow.py", "from prefect import flow\n\n@flow\ndef f(): pass\n")
        make(root, f"p/{name}/requirements.txt", "pandas\nprefect>=2.10,<3\n")
    make(root, "p/own/Dockerfile", "FROM python:3.11-slim\nCOPY . /app\n")
    folders = {f.key: f for f in discover(root)}
    (problem,) = folders["p/plain"].problems
    assert (problem.line, problem.severity) == (2, "error")
    assert "installs Prefect 2 over the base image's Prefect 3" in problem.message
    (warned,) = folders["p/own"].problems
    assert (warned.line, warned.severity) == (2, "warning") and not folders["p/own"].failed
    assert "allows no Prefect 3: if the folder's Dockerfile installs this file" in warned.message
