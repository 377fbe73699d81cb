"""A repository in Prefect's own layout (prefect_layout.py, read by discovery): a root
prefect.yaml's entries deployed from an image of their entrypoint's folder, with the folder
layout's rules; each mistake at its entry's line."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from prefect_flow_deploy.commands.validate import validate
from prefect_flow_deploy.reading import prefect_layout
from prefect_flow_deploy.reading.discovery import UNREADABLE_PROJECT, discover
from prefect_flow_deploy.rules.specs import deployment_specs
from prefect_flow_deploy.settings.options import Options

FLOW = "from prefect import flow\n\n\n@flow\ndef {name}(n: int = 1) -> int:\n    return n\n"
ROOT_YAML = """\
build:
- prefect_docker.deployments.steps.build_docker_image: {{image_name: x, tag: latest}}
deployments:
- name: daily-etl
  entrypoint: flows/etl.py:etl
  schedules: [{{cron: "0 6 * * *"}}]
- name: hello
  entrypoint: flows/hello.py:hello
- name: sales-report
  entrypoint: flows/sales/report.py:report
{extra}"""


def repository(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(ROOT_YAML.format(extra=extra))
    for relative, name in (
        ("flows/etl.py", "etl"), ("flows/hello.py", "hello"), ("flows/sales/report.py", "report"),
    ):  # fmt: skip
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(FLOW.format(name=name))
    with (tmp_path / "flows" / "hello.py").open("a") as file:
        file.write("\n\n@flow\ndef helper() -> None:\n    pass\n")  # no entry names it
    return tmp_path


@pytest.mark.parametrize(
    ("relative", "names"),
    [("", ("acme", "acme")), ("flows", ("acme", "flows")), ("flows/sales", ("flows", "sales")),
     ("src/flows/sales", ("src", "flows-sales"))],
)  # fmt: skip
def test_folder_names(relative: str, names: tuple[str, str]) -> None:
    assert prefect_layout.folder_names(PurePosixPath(relative), "acme") == names


def test_the_repository_name_names_the_project(tmp_path: Path) -> None:
    assert prefect_layout.repository_name("acme/data-flows", tmp_path) == "data-flows"
    assert prefect_layout.repository_name(None, tmp_path) == tmp_path.name
    # trial round 9 (minor): `--projects-root flows` of a checkout without a remote named the
    # project `flows`, one name for every such repository pushing to one registry
    (tmp_path / "checkout" / ".git").mkdir(parents=True)
    (tmp_path / "checkout" / "flows").mkdir()
    assert prefect_layout.repository_name(None, tmp_path / "checkout" / "flows") == "checkout"


@pytest.mark.parametrize("projects_root", [".", "projects"])
def test_each_entry_deploys_from_its_folder_s_image(tmp_path: Path, projects_root: str) -> None:
    """`projects-root: .`, or a `projects/` that is missing: the same folders."""
    root = repository(tmp_path)
    folders = {f.key: f for f in discover(root / projects_root, None, "acme/data-flows")}
    assert sorted(folders) == ["data-flows/flows", "flows/sales"]
    flows = folders["data-flows/flows"]
    assert flows.path == root / "flows" and flows.prefect_yaml == root / "prefect.yaml"
    assert sorted(f.entrypoint for f in flows.flows) == ["etl.py:etl", "hello.py:hello"]
    warnings = [p for p in flows.problems if p.severity == "warning"]
    assert [p.line for p in warnings if p.title == "prefect.yaml"] == [1]  # build: ignored
    specs, problems = deployment_specs(flows, _image(flows), Options(registry="r"))
    assert problems == []
    assert sorted((s.full_name, s.entrypoint, s.source_line) for s in specs) == [
        ("etl/daily-etl", "etl.py:etl", 4), ("hello/hello", "hello.py:hello", 7)
    ]  # fmt: skip
    [etl] = [s for s in specs if s.flow_name == "etl"]
    assert etl.schedules and etl.schedules[0]["cron"] == "0 6 * * *"
    assert "folder:data-flows/flows" in etl.tags


def test_a_root_requirements_txt_outside_a_folder_is_a_warning(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "requirements.txt").write_text("httpx\n")
    folders = discover(root, None, "acme/x")
    for folder in folders:
        [warning] = [p for p in folder.problems if p.title == "Build file outside the flow folder"]
        assert warning.file == root / "requirements.txt" and "run `prefect-flow-deploy adopt`" in (
            warning.message
        )


def test_a_root_dockerfile_in_either_case_is_a_warning_that_adopt_does_not_copy(
    tmp_path: Path,
) -> None:
    """Docker reads `dockerfile` when there is no `Dockerfile` (reading/dockerfile.py), so a
    lower-case one at the root is outside the folders' build contexts too (Axioq/wolf-tracks:
    no warning). adopt copies requirements.txt only: the advice does not send there."""
    root = repository(tmp_path)
    (root / "dockerfile").write_text("FROM python:3.12\nCOPY . .\n")
    for folder in discover(root, None, "acme/x"):
        [warning] = [p for p in folder.problems if p.title == "Build file outside the flow folder"]
        assert warning.file == root / "dockerfile" and warning.message.startswith("dockerfile is")
        relative = folder.path.relative_to(root).as_posix()
        assert "adopt" not in warning.message and f"Copy it into {relative}/" in warning.message


def test_a_root_pyproject_listing_packages_is_a_warning_one_of_tool_settings_is_not(
    tmp_path: Path,
) -> None:
    """vsoeiro/prefect-template (trial round 9 b 1): a root pyproject.toml's dependencies
    were left out of the images without a word, where a root requirements.txt is warned."""
    root = repository(tmp_path)
    pyproject = root / "pyproject.toml"
    for text in ("[tool.ruff]\nline-length = 100\n", "[project]\nname = 'x'\ndependencies = []\n",
                 "[tool.poetry.dependencies]\npython = '^3.11'\n"):  # fmt: skip
        pyproject.write_text(text)
        assert not [p for f in discover(root, None, "acme/x") for p in f.problems
                    if p.file == pyproject], text  # fmt: skip
    for text in ("[project]\nname = 'x'\ndependencies = [\n  # data\n  'pandas',\n]\n",
                 "[tool.poetry.dependencies]\npython = '^3.11'\npandas = '^2'\n"):  # fmt: skip
        pyproject.write_text(text)
        for folder in discover(root, None, "acme/x"):
            [warning] = [p for p in folder.problems if p.file == pyproject]
            relative = folder.path.relative_to(root).as_posix()
            assert f"in {relative}/requirements.txt" in warning.message, text


def test_entry_mistakes_are_errors_at_their_line(tmp_path: Path) -> None:
    extra = (
        "- name: gone\n  entrypoint: flows/gone.py:gone\n"  # 11: no such file
        "- name: typo\n  entrypoint: flows/etl.py:etl_typo\n"  # 13: no such flow
        "- name: outside\n  entrypoint: ../elsewhere/x.py:x\n"  # 15: outside
        "- name: nowhere\n"  # 17: no entrypoint
    )
    root = repository(tmp_path, extra)
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    flows = folders["x/flows"]
    errors = sorted((p.line, p.message) for p in flows.problems if p.severity == "error")
    assert [line for line, _ in errors] == [11]
    assert "there is no file flows/gone.py" in errors[0][1]
    # an entry naming no flow of its file is kept: it fails alone, by its name, when planned
    # (rules.specs; trial round 11 b 11: it failed the folder)
    assert "etl_typo" in {(c.entrypoint or "").rpartition(":")[2] for c in flows.deployment_configs}
    unplaced = folders[f"x/{UNREADABLE_PROJECT}"]  # its project's deployments are kept
    assert sorted(p.line for p in unplaced.problems) == [15, 17]
    assert folders["flows/sales"].failed is False


def test_a_module_path_entrypoint_is_named_as_its_file(tmp_path: Path) -> None:
    """`prefect deploy` also takes `entrypoint: flows.etl:etl`, a module it imports from where
    it runs (Ben-Epstein/extract-anything; Prefect's load_flow_from_entrypoint: no `.py`, so
    `import_object`). This tool builds from the file's folder, so such an entry is an error
    at its line that names the file to write, when the repository has it."""
    extra = (
        "- name: module\n  entrypoint: flows.etl:etl\n"  # 11
        "- name: package\n  entrypoint: flows.sales:report\n"  # 13: no flows/sales/__init__.py
        "- name: dotted\n  entrypoint: no.such.module:x\n"  # 15
    )
    root = repository(tmp_path, extra)
    (root / "flows" / "__init__.py").write_text("")
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    problems = sorted((p.line, p.message) for p in folders[f"x/{UNREADABLE_PROJECT}"].problems)
    assert [line for line, _ in problems] == [11, 13, 15]
    assert problems[0][1].endswith("a module path, which this tool does not read (it builds "
                                   "the image of the file's folder): write it as `flows/etl.py:etl`.")  # fmt: skip
    assert problems[1][1].endswith(
        "write it as `<path>/<file>.py:<function>`, relative to the root."
    )
    assert problems[2][1].endswith(
        "write it as `<path>/<file>.py:<function>`, relative to the root."
    )


def test_an_absolute_entrypoint_is_pointed_at_the_file_it_ends_with(tmp_path: Path) -> None:
    """ppatrzyk/rss-store (trial round 9, minor): `/flows/feed.py:update_all`, written for a
    container where the code was mounted at /flows, was refused without the path to write."""
    extra = (
        "- name: mounted\n  entrypoint: /code/flows/etl.py:etl\n"  # 11
        "- name: lost\n  entrypoint: /code/gone.py:gone\n"  # 13
    )
    root = repository(tmp_path, extra)
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    problems = sorted((p.line, p.message) for p in folders[f"x/{UNREADABLE_PROJECT}"].problems)
    assert problems == [
        (11, "`entrypoint: /code/flows/etl.py:etl`: the file is outside the repository, so no "
             "image can hold it. Its path here is `flows/etl.py`: write `flows/etl.py:etl`, "
             "relative to the root."),
        (13, "`entrypoint: /code/gone.py:gone`: the file is outside the repository, so no "
             "image can hold it."),
    ]  # fmt: skip


def test_a_file_named_in_another_case_is_pointed_at(tmp_path: Path) -> None:
    """EWECORP/PREFECT_DIARCO names scripts/pull/sincronizar_oc_recepcion.py, whose file is
    Sincronizar_OC_recepcion.py: one on Windows, two names on Linux, where the image runs."""
    root = repository(tmp_path, "- name: cased\n  entrypoint: flows/ETL.py:etl\n")  # line 11
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    [problem] = [p for p in folders["x/flows"].problems if p.severity == "error"]
    assert problem.line == 11
    assert "there is no file flows/ETL.py (etl.py there differs only in case" in problem.message


def test_a_folder_whose_only_entry_is_wrong_says_that_alone(tmp_path: Path) -> None:
    """The entry's error says why nothing deploys; "no @flow function found … decorate it"
    beside it pointed at a file that has one (seen on MTES-MCT/qualicharge's layout)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: etl\n  entrypoint: flows/etl.py:etl\n  tags: 5\n"
    )
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "etl.py").write_text(FLOW.format(name="etl"))
    [folder] = discover(tmp_path, None, "acme/x")
    assert [(p.severity, p.line) for p in folder.problems] == [("error", 4)]


def test_a_root_prefect_yaml_without_deployments_leaves_the_folder_layout(tmp_path: Path) -> None:
    (tmp_path / "prefect.yaml").write_text("name: x\npull: []\n")
    folder = tmp_path / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(FLOW.format(name="daily"))
    assert [f.key for f in discover(tmp_path / "projects")] == ["sales/daily"]


def test_an_entry_inside_projects_is_read_from_its_folder_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(FLOW.format(name="daily"))
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: d\n  entrypoint: projects/sales/daily/flow.py:daily\n"
    )
    assert [f.key for f in discover(tmp_path / "projects")] == ["sales/daily"]
    assert "move this entry there (this one is not read)" in capsys.readouterr().err


def test_validate_counts_the_root_layout(tmp_path: Path) -> None:
    root = repository(tmp_path)
    outcome = validate(Options(projects_root=root, repository="acme/x"))
    assert (len(outcome.folders), outcome.flows, outcome.errors) == (2, 3, 0)


def _image(folder):  # type: ignore[no-untyped-def]
    from prefect_flow_deploy.core.model import ImagePlan

    return ImagePlan(folder, f"r/{folder.project}/{folder.name}", "tag", {})


def test_two_flows_of_one_name_under_two_entries_are_two_deployments(tmp_path: Path) -> None:
    """As `prefect deploy` registers them (one flow name, two deployments); seen in a real
    repository (2026-12-05). Two flows of one name no entry names would share the folder's
    deployment: still an error, at each."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: by-api\n  entrypoint: flows/a.py:by_api\n"
        "- name: by-file\n  entrypoint: flows/b.py:by_file\n"
    )
    (tmp_path / "flows").mkdir()
    for file, name in (("a", "by_api"), ("b", "by_file")):
        text = f"from prefect import flow\n\n\n@flow(name='Domains')\ndef {name}() -> None:\n    pass\n"
        (tmp_path / "flows" / f"{file}.py").write_text(text)
        (tmp_path / "plain" / "projects" / "p" / "f").mkdir(parents=True, exist_ok=True)
        (tmp_path / "plain" / "projects" / "p" / "f" / f"{name}.py").write_text(text)
    [folder] = discover(tmp_path, None, "acme/x")
    assert folder.problems == ()
    specs, problems = deployment_specs(folder, _image(folder), Options(registry="r"))
    assert problems == []
    assert sorted(s.full_name for s in specs) == ["Domains/by-api", "Domains/by-file"]
    [plain] = discover(tmp_path / "plain" / "projects")
    assert [p.title for p in plain.problems] == ["Duplicate flow name"] * 2


TEMPLATE_ENTRY = (  # what `prefect init` writes, often left in place
    "- name:\n  version:\n  tags: []\n  description:\n  schedule: {}\n  flow_name:\n"
    "  entrypoint:\n  parameters: {}\n  work_pool:\n    name:\n    work_queue_name:\n"
    "    job_variables: {}\n"
)


def test_an_unnamed_entry_is_skipped_as_prefect_deploy_skips_it(tmp_path: Path) -> None:
    """`prefect deploy --all` without a prompt prints "Discovered unnamed deployment.
    Skipping..." and deploys the rest (seen with a real repository's prefect.yaml,
    2026-12-05): a warning at the entry here, the others deployed."""
    root = repository(tmp_path, TEMPLATE_ENTRY + "- entrypoint: flows/etl.py:etl\n")
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    problems = [p for f in folders.values() for p in f.problems]
    assert not [p for p in problems if p.severity == "error"]
    skipped = sorted(p.line or 0 for p in problems if "has no `name:`" in p.message)
    assert skipped == [11, 23]
    names = sorted(c.name or "" for f in folders.values() for c in f.deployment_configs)
    assert names == ["daily-etl", "hello", "sales-report"]


def test_a_root_file_of_unnamed_entries_only_leaves_the_folder_layout(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text("deployments:\n" + TEMPLATE_ENTRY)
    folder = tmp_path / "projects" / "p" / "f"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(FLOW.format(name="f"))
    assert [f.key for f in discover(tmp_path / "projects", None, "acme/x")] == ["p/f"]


SUBFOLDER_YAML = """\
deployments:
- name: stars
  entrypoint: flows/stars.py:stars
  schedules: [{cron: "0 6 * * *"}]
- name: missing
  entrypoint: flows/gone.py:gone
"""


def test_a_subfolder_prefect_yaml_written_from_the_checkout_top_is_read(tmp_path: Path) -> None:
    """yuting1214/Prefect-PostgreSQL keeps flows/prefect.yaml and deploys it with `prefect
    deploy --prefect-file flows/prefect.yaml` from the top, so its entrypoints are written
    from there (Prefect reads them from where it runs). With `--projects-root flows` each
    was "there is no folder flows" (trial D 4); an entry naming no file either way still
    fails at its line."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "prefect.yaml").write_text(SUBFOLDER_YAML)
    (tmp_path / "flows" / "stars.py").write_text(FLOW.format(name="stars"))
    folders = discover(tmp_path / "flows", None, "acme/pg")
    [folder] = [f for f in folders if f.flows]
    assert [(c.name, c.entrypoint) for c in folder.deployment_configs] == [
        ("stars", "stars.py:stars")
    ]
    assert [f.entrypoint for f in folder.flows] == ["stars.py:stars"]
    errors = [p for f in folders for p in f.problems if p.severity == "error"]
    assert [(e.line, e.message) for e in errors] == [
        (5, "`entrypoint: flows/gone.py:gone`: there is no folder flows.")
    ]


def test_prefect_yaml_folders_deployed_each_with_its_projects_root_are_distinct_folders(
    tmp_path: Path,
) -> None:
    """Naxofon/RoDL (trial round 11 b 12): connectors/<loader>/prefect/prefect.yaml, each
    deployed with its own --projects-root, were all the folder `<repository>/<repository>`:
    each run saw the other loaders' deployments as its folder's, orphaned, and --prune
    deleted them. The prefect.yaml's own folder is named by its path from the checkout's
    top (flows/ → `<repository>/flows`); at the top, `<repository>/<repository>` as before."""
    (tmp_path / ".git").mkdir()
    for loader in ("alpha", "beta"):
        folder = tmp_path / "connectors" / loader / "prefect"
        folder.mkdir(parents=True)
        (folder / "prefect.yaml").write_text(
            f"deployments:\n- name: {loader}-daily\n"
            f"  entrypoint: connectors/{loader}/prefect/flows.py:{loader}\n"
        )
        (folder / "flows.py").write_text(FLOW.format(name=loader))
    keys = {
        loader: [f.key for f in discover(tmp_path / "connectors" / loader / "prefect", None, "acme/rodl") if f.flows]
        for loader in ("alpha", "beta")
    }  # fmt: skip
    assert keys == {"alpha": ["connectors/alpha-prefect"], "beta": ["connectors/beta-prefect"]}
    (tmp_path / "prefect.yaml").write_text("deployments:\n- name: top\n  entrypoint: top.py:top\n")
    (tmp_path / "top.py").write_text(FLOW.format(name="top"))
    assert [f.key for f in discover(tmp_path / "projects", None, "acme/rodl") if f.flows] == [
        "rodl/rodl"
    ]


def test_a_module_path_of_a_src_layout_is_named_as_its_file(tmp_path: Path) -> None:
    """styglab/teoria: `entrypoint: pkg.flows.mod:sync` of a package in src/ (trial a 3):
    the advice was the generic form, though the file is there."""
    root = repository(tmp_path, "- name: src\n  entrypoint: pkg.flows.mod:sync\n")
    (root / "src" / "pkg" / "flows").mkdir(parents=True)
    (root / "src" / "pkg" / "flows" / "mod.py").write_text(FLOW.format(name="sync"))
    folders = {f.key: f for f in discover(root, None, "acme/x")}
    [problem] = folders[f"x/{UNREADABLE_PROJECT}"].problems
    assert problem.message.endswith("write it as `src/pkg/flows/mod.py:sync`.")


def test_the_modules_an_entry_s_file_loads_are_read_for_what_they_import(tmp_path: Path) -> None:
    """broepke/prefect-dka (trial b 2): the flow file imports the folder's helpers.py,
    which imports a package the image lacked; Prefect's layout read only the entries'
    files, so nothing was said and every run crashed (the folder layout warned). Its flows
    stay out: only those the entries name deploy."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text("deployments:\n- name: d\n  entrypoint: dp/flow.py:f\n")
    (tmp_path / "dp").mkdir()
    (tmp_path / "dp" / "helpers.py").write_text("import tldextract\n\n" + FLOW.format(name="sub"))
    (tmp_path / "dp" / "flow.py").write_text("from helpers import sub\n\n" + FLOW.format(name="f"))
    (tmp_path / "dp" / "script.py").write_text("import boto3\n")  # no run loads it
    [folder] = discover(tmp_path, None, "acme/x")
    assert [f.entrypoint for f in folder.flows] == ["flow.py:f"]
    checked = {(i.module, i.file, i.line) for i in folder.imports}
    assert ("tldextract", "helpers.py", 1) in checked
    assert not [i for i in folder.imports if i.module == "boto3"]


def test_with_a_prefect_yaml_in_a_subfolder_its_files_are_named_by_path_and_the_top_s_too(
    tmp_path: Path,
) -> None:
    """chiplusplus/access-iq-platform and andrew-dang/goc-datasets (trial round 9 a 9):
    with `--projects-root flows`, flows/Dockerfile was said to be "at the repository root",
    and the checkout's top requirements.txt, the packages the image then lacked, unsaid."""
    (tmp_path / ".git").mkdir()
    flows = tmp_path / "flows"
    (flows / "etl").mkdir(parents=True)
    (flows / "prefect.yaml").write_text("deployments:\n- name: d\n  entrypoint: etl/etl.py:etl\n")
    (flows / "etl" / "etl.py").write_text(FLOW.format(name="etl"))
    (flows / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "requirements.txt").write_text("pandas\n")
    [folder] = discover(flows, None, "acme/x")
    said = sorted(p.message.split(" is outside")[0] for p in folder.problems
                  if p.title == "Build file outside the flow folder")  # fmt: skip
    assert said == ["flows/Dockerfile", "requirements.txt"]


def test_a_folder_is_imported_where_it_is_by_its_dotted_path_or_an_enclosing_package(
    tmp_path: Path,
) -> None:
    """The rule `adopt` keeps such a folder in place by (its test: test_adopt.py): the whole
    dotted name, a module inside the folder, or a package holding it; not a sibling whose
    name starts alike, nor a folder whose name Python cannot import."""
    main = tmp_path / "main.py"

    def imported(folder: str, line: str) -> str | None:
        main.write_text(line + "\n")
        group = prefect_layout.Group(path=(tmp_path / folder).resolve(), project="p", name="n")
        found = prefect_layout.imported_where_it_is(group, tmp_path, [main])
        return found.dotted if found else None

    assert imported("pkg/sub", "from pkg.sub.loader import x") == "pkg.sub.loader"
    assert imported("pkg/sub", "import pkg") == "pkg"
    assert imported("pkg/sub", "import pkg.subway") is None
    assert imported("pkg/sub", "import json") is None
    assert imported("my-flows/sub", "import my") is None
    main.write_text("def broken(:\n")
    group = prefect_layout.Group(path=(tmp_path / "pkg").resolve(), project="p", name="n")
    assert (
        prefect_layout.imported_where_it_is(group, tmp_path, [main, tmp_path / "absent.py"]) is None
    )


def test_a_prefect_yaml_below_the_root_s_is_said_not_to_be_read(tmp_path: Path) -> None:
    """nitirajrathore/prefect-demo (trial round 10 b 7): flows/flow1/prefect.yaml, deployed
    with `prefect deploy --prefect-file`, was left out unsaid. One without entries, one in
    projects/ (read as a flow folder's) and one in a hidden folder are not said."""
    root = repository(tmp_path)
    entries = "deployments:\n- name: inner\n  entrypoint: x.py:inner\n"
    for relative, text in (
        ("flows/flow1/prefect.yaml", entries), ("sub/prefect.yaml", entries),
        ("empty/prefect.yaml", "name: x\n"), ("projects/p/f/prefect.yaml", entries),
        (".github/prefect.yaml", entries),
    ):  # fmt: skip
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    layout = prefect_layout.read(root / "prefect.yaml", root / "projects", "acme/x")
    assert layout is not None
    said = [p.file.relative_to(root).as_posix() for p in layout.notes if "is not read" in p.message]
    assert said == ["flows/flow1/prefect.yaml", "sub/prefect.yaml"]
    [flow1] = [p for p in layout.notes if p.file == root / "flows/flow1/prefect.yaml"]
    assert "--projects-root flows/flow1" in flow1.message
