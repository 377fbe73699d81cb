"""`adopt` (adopt.py) on real git checkouts: Prefect's own layout and the Prefect 1 folders a
workflow registers, moved with `git mv` into projects/<project>/<folder>/; `--dry-run`
changes nothing; the result reads as the same folders, images and deployment names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prefect_flow_deploy.commands.adopt import apply, plan
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.reading.discovery import discover
from tests.unit.reading.test_prefect_layout import FLOW, ROOT_YAML, repository

CLI = [sys.executable, "-m", "prefect_flow_deploy.cli"]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def checkout(root: Path) -> Path:
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    git(root, "init", "-q")
    git(root, "remote", "add", "origin", "git@github.com:acme/data-flows.git")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "flows")
    return root


def tree(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if ".git" not in p.parts and p.is_file()
    )


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    root = checkout(repository(tmp_path))
    (root / "requirements.txt").write_text("httpx\n")
    git(root, "add", "-A")
    before = tree(root)
    done = subprocess.run(
        [*CLI, "adopt", "--dry-run"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "would git mv flows/sales projects/flows/sales",
        "would write projects/flows/sales/prefect.yaml (1 deployment)",
        "would copy requirements.txt projects/flows/sales/requirements.txt",
        "would git mv flows projects/data-flows/flows",
        "would write projects/data-flows/flows/prefect.yaml (2 deployments)",
        "would copy requirements.txt projects/data-flows/flows/requirements.txt",
        "would git rm prefect.yaml (its entries are in the folders)",
        "dry run: nothing was changed",
    ]
    assert "did not name hello.py:helper" in done.stderr  # a deployment in projects/
    assert tree(root) == before


def test_prefect_s_layout_moves_with_git_and_reads_as_the_same_folders(tmp_path: Path) -> None:
    root = checkout(repository(tmp_path))
    read_before = {
        f.key: sorted(f.name for f in f.flows) for f in discover(root, None, "acme/data-flows")
    }
    outcome = apply(root, root / "projects", None, dry_run=False)
    assert outcome.lines[0] == "git mv flows/sales projects/flows/sales"
    status = git(root, "status", "--short")
    assert "R  flows/etl.py -> projects/data-flows/flows/etl.py" in status  # history follows
    assert "D  prefect.yaml" in status and not (root / "prefect.yaml").exists()
    written = yaml.safe_load((root / "projects/data-flows/flows/prefect.yaml").read_text())
    assert written["deployments"][0] == {
        "name": "daily-etl", "entrypoint": "etl.py:etl", "schedules": [{"cron": "0 6 * * *"}],
    }  # fmt: skip
    assert "build" not in written
    after = {f.key: sorted(f.name for f in f.flows) for f in discover(root / "projects")}
    # The same folders; the flow no entry named is a deployment now (the warning said so).
    assert after == {**read_before, "data-flows/flows": ["etl", "hello", "helper"]}


def test_the_prefect_init_template_entry_does_not_keep_the_root_file(tmp_path: Path) -> None:
    """The nameless entry `prefect init` writes (JBris/deep-root-gen) deploys nothing and is
    skipped by reading: it kept the root file, with the entries adopt had just moved, and
    the next `validate` failed on each of them."""
    template = "- name:\n  entrypoint:\n  work_pool:\n    name:\n"
    root = checkout(repository(tmp_path, template))
    outcome = apply(root, root / "projects", None, dry_run=False)
    assert "git rm prefect.yaml (its entries are in the folders)" in outcome.lines
    assert not [w for w in outcome.warnings if "is kept" in w]
    assert not (root / "prefect.yaml").exists()
    written = yaml.safe_load((root / "projects/data-flows/flows/prefect.yaml").read_text())
    assert [e["name"] for e in written["deployments"]] == ["daily-etl", "hello"]


def test_a_folder_of_a_checkout_moves_with_git_too(tmp_path: Path) -> None:
    """`adopt sub/` where sub/ holds Prefect's layout inside a checkout (tig0826/
    prefect-workflow's dqx/): the moves were plain `mv`, unstaged (docs: `git mv` in a git
    checkout), because only the adopted folder itself was looked at for `.git`."""
    (tmp_path / "sub").mkdir()
    (repository(tmp_path / "sub") / ".git").rmdir()  # a folder of the checkout, not one
    root = checkout(tmp_path)
    outcome = apply(root / "sub", root / "sub" / "projects", None, dry_run=False)
    assert outcome.lines[0] == "git mv flows/sales projects/flows/sales"
    assert "R  sub/flows/etl.py -> sub/projects/data-flows/flows/etl.py" in git(
        root, "status", "--short"
    )


def test_prefect_1_folders_a_workflow_registers_move_under_their_project(tmp_path: Path) -> None:
    old = "from prefect import Flow, task\n\n\n@task\ndef t():\n    pass\n\n\nwith Flow('o') as flow:\n    t()\n"
    for relative in ("flows/sales/orders.py", "flows/marketing/campaign.py", "flows/other.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(old)
    workflow = tmp_path / ".github" / "workflows" / "register.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "jobs:\n  r:\n    steps:\n"
        "      - run: prefect register --project sales -p flows/sales/\n"
        "      - run: |\n          prefect register --project marketing \\\n"
        "            --path flows/marketing/campaign.py && echo done\n"
    )
    root = checkout(tmp_path)
    outcome = apply(root, root / "projects", None, dry_run=False)
    assert outcome.lines[:2] == [
        "git mv flows/sales projects/sales/sales (.github/workflows/register.yml: --project sales)",
        "git mv flows/marketing/campaign.py projects/marketing/campaign/campaign.py "
        "(.github/workflows/register.yml: --project marketing)",
    ]
    assert any("still runs `prefect register`" in w for w in outcome.warnings)
    folders = {f.key: f for f in discover(root / "projects")}
    assert sorted(folders) == ["marketing/campaign", "sales/sales"]
    assert all(p.title == "Prefect 1 flow" for f in folders.values() for p in f.problems)
    assert (root / "flows" / "other.py").is_file()  # registered by no workflow: stays


def test_nothing_to_adopt_says_why(tmp_path: Path) -> None:
    folder = tmp_path / "projects" / "sales" / "daily"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(FLOW.format(name="daily"))
    with pytest.raises(ConfigurationError, match="already holds <project>/<folder>/"):
        plan(tmp_path, tmp_path / "projects")
    with pytest.raises(ConfigurationError, match="nothing to adopt in"):
        plan(tmp_path / "projects" / "sales", tmp_path / "x")


def test_an_existing_target_is_never_overwritten(tmp_path: Path) -> None:
    root = checkout(repository(tmp_path))
    (root / "projects" / "flows" / "sales").mkdir(parents=True)
    adoption = plan(root, root / "projects", "acme/data-flows")
    assert any("projects/flows/sales exists already" in w for w in adoption.warnings)
    assert all(s.source != root / "flows" / "sales" for s in adoption.steps)
    assert all(s.kind != "remove" for s in adoption.steps)  # an entry was left behind


def test_a_folder_s_own_prefect_yaml_keeps_its_entries_and_gains_no_twin(tmp_path: Path) -> None:
    """A moved folder that had its own prefect.yaml (EWECORP/PREFECT_DIARCO's IOSdb/: the
    same 8 entries as the root's): an entry of a name it has is its own word and is not
    added again (before: 16 entries, 8 pairs, and `validate` failed with "defined twice");
    one it lacks is added after its own. The result validates."""
    root = repository(tmp_path)
    (root / "flows" / "prefect.yaml").write_text(
        "deployments:\n- name: daily-etl\n  entrypoint: etl.py:etl\n  tags: [own]\n"
    )
    checkout(root)
    apply(root, root / "projects", None, dry_run=False)
    written = yaml.safe_load((root / "projects/data-flows/flows/prefect.yaml").read_text())
    assert [(e["name"], e.get("tags")) for e in written["deployments"]] == [
        ("daily-etl", ["own"]), ("hello", None),
    ]  # fmt: skip
    folders = discover(root / "projects")
    assert not any(p.severity == "error" for f in folders for p in f.problems)


def test_a_subfolder_prefect_yaml_written_from_the_checkout_top_moves_its_entries(
    tmp_path: Path,
) -> None:
    """`adopt flows` of a flows/prefect.yaml whose entrypoints are written from the
    checkout's top (trial D 4: "the file has no entries", suggesting `new`)."""
    from tests.unit.reading.test_prefect_layout import SUBFOLDER_YAML

    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "prefect.yaml").write_text(SUBFOLDER_YAML.split("- name: missing")[0])
    (tmp_path / "flows" / "stars.py").write_text(FLOW.format(name="stars"))
    root = checkout(tmp_path)
    outcome = apply(root / "flows", root / "flows" / "projects", None, dry_run=False)
    assert not outcome.warnings[1:], outcome.warnings  # only: stars.py moved alone
    written = yaml.safe_load(
        (root / "flows/projects/data-flows/flows/prefect.yaml").read_text()  # by its path
    )
    assert [(e["name"], e["entrypoint"]) for e in written["deployments"]] == [
        ("stars", "stars.py:stars")
    ]
    assert not (root / "flows" / "prefect.yaml").exists()


def test_a_root_module_the_moved_folder_imports_is_said(tmp_path: Path) -> None:
    """9xxxxxx/meprefect: flows/ imports the root package utils/, which stays behind; adopt
    said nothing and the build failed every flow (trial D 8). A module inside the folder
    and a third-party one are not said."""
    root = repository(tmp_path)
    (root / "utils").mkdir()
    (root / "utils" / "__init__.py").write_text("def clean(x):\n    return x\n")
    (root / "flows" / "own.py").write_text("X = 1\n")
    (root / "flows" / "etl.py").write_text(
        "import own\nimport requests\nfrom utils import clean\n\n" + FLOW.format(name="etl")
    )
    outcome = apply(checkout(root), root / "projects", None, dry_run=True)
    said = [w for w in outcome.warnings if "stays at the repository root" in w]
    assert said == [
        "projects/data-flows/flows: etl.py:3 imports `utils`, which stays at the repository "
        "root: the folder's image holds the folder alone, so its runs would fail to import "
        "it. Move or copy utils into the folder, or install it as a package from "
        "requirements.txt."
    ]


def test_flows_of_one_name_left_to_their_defaults_are_said_and_no_image_is_copied(
    tmp_path: Path,
) -> None:
    """entree-capital/prefect-3-demo (trial a 5): the root file named one flow; two others,
    both `buy`, got default deployments of one name, and validate failed after a `done`.
    The entry's `job_variables.image` and `version`, which every later run warns are
    ignored, are no longer copied into the folder's prefect.yaml."""
    root = repository(
        tmp_path,
        "  version: '1.0'\n  work_pool:\n"
        "    job_variables: {image: x:1, image_pull_policy: Never, env: {A: '1'}}\n",
    )
    (root / "flows" / "buy.py").write_text(FLOW.format(name="buy"))
    (root / "flows" / "custom.py").write_text(FLOW.format(name="buy"))
    outcome = apply(checkout(root), root / "projects", None, dry_run=False)
    [said] = [w for w in outcome.warnings if "did not name" in w]
    assert said.endswith(
        "buy.py:buy and custom.py:buy are both named 'buy': one deployment name, which "
        "`validate` refuses; give each its own `@flow(name=…)`."
    )
    written = yaml.safe_load((root / "projects/flows/sales/prefect.yaml").read_text())
    [sales] = written["deployments"]
    # `image_pull_policy: Never` went with the local image (trial round 11 b 6)
    assert "version" not in sales and sales["work_pool"] == {"job_variables": {"env": {"A": "1"}}}


def test_a_root_dockerfile_or_pyproject_the_folders_lack_is_said(tmp_path: Path) -> None:
    """tekumara/prefect-demo (trial round 8 b 7): the root Dockerfile installed `.[dask]`
    from the root pyproject.toml; after adopt, no word of either, and the build then found
    each package missing."""
    root = repository(tmp_path)
    (root / "Dockerfile").write_text("FROM python:3.12\nRUN pip install .[dask]\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    outcome = apply(checkout(root), root / "projects", None, dry_run=True)
    said = [w for w in outcome.warnings if "stays at the repository root" in w]
    assert [w.split(" ", 1)[0] for w in said] == ["Dockerfile", "pyproject.toml"]
    assert "not in projects/data-flows/flows, projects/flows/sales." in said[0]


def test_the_requirements_an_entry_s_pull_step_installs_are_the_folder_s(tmp_path: Path) -> None:
    """CBIIT/prefect-toolkit (trial round 9 a 4): an entry whose own `pull:` installed
    `requirements_prefect3….txt` got the root requirements.txt (a Prefect 2 freeze, whose pip
    run failed after 172 s) without a word. The pull step's file is copied; an entry without
    one keeps the root's."""
    pull = (
        "  pull:\n  - prefect.deployments.steps.pip_install_requirements:\n"
        "      requirements_file: requirements-prefect3.txt\n"
    )
    text = ROOT_YAML.format(extra="").replace("  entrypoint: flows/sales/report.py:report\n",
                                              "  entrypoint: flows/sales/report.py:report\n" + pull)  # fmt: skip
    root = checkout(repository(tmp_path))
    (root / "prefect.yaml").write_text(text)
    (root / "requirements.txt").write_text("prefect>=2.20\n")
    (root / "requirements-prefect3.txt").write_text("requests==2.32.3\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pull")
    steps = [(s.kind, s.source, s.target) for s in plan(root, root / "projects").steps]
    copies = {t.parent.name: s.name for a, s, t in steps if a == "copy" and s is not None}
    assert copies == {"sales": "requirements-prefect3.txt", "flows": "requirements.txt"}


def test_a_flow_file_at_the_root_gets_the_root_s_requirements_and_dockerfile_said(
    tmp_path: Path,
) -> None:
    """xiaosongmaki/prefect_test (trial round 9 b 11): the root was the flow folder, its
    requirements.txt and Dockerfile in its build; `adopt` moved flow.py alone and left both,
    unsaid: a deployment that ran crashed after it."""
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: report\n  entrypoint: flow.py:report\n"
    )
    (tmp_path / "flow.py").write_text(FLOW.format(name="report"))
    (tmp_path / "requirements.txt").write_text("tabulate\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nCOPY . .\n")
    root = checkout(tmp_path)
    adoption = plan(root, root / "projects")
    copies = [(s.source, s.target) for s in adoption.steps if s.kind == "copy"]
    [(source, target)] = copies
    assert source == root / "requirements.txt" and target.name == "requirements.txt"
    assert target.parent != root and target.parent.is_relative_to(root / "projects")
    assert any(w.startswith("Dockerfile stays at the repository root") for w in adoption.warnings)


@pytest.mark.parametrize(
    "imports", ["from pkg.sub.loader import load", "import pkg.sub", "from pkg import sub"]
)
def test_a_folder_a_root_flow_file_imports_as_a_package_stays_where_it_is(
    tmp_path: Path, imports: str
) -> None:
    """nishantnayar/prefect-trading (trial round 9 b 8): main.py at the root imports
    `src.data.sources…`, an entry's folder; adopt moved that folder into projects/ and
    main.py alone into another, so the package main.py must be given no longer held it, and
    a run crashed (`No module named 'pkg.sub'`). It stays, said at the import; the root's
    prefect.yaml keeps its entry. A folder that no root file imports still moves."""
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: main\n  entrypoint: main.py:main\n"
        "- name: sub\n  entrypoint: pkg/sub/flows.py:sub\n"
        "- name: other\n  entrypoint: other/flows.py:other\n"
    )
    (tmp_path / "main.py").write_text(f"import os\n{imports}\n" + FLOW.format(name="main"))
    for folder, name in (("pkg/sub", "sub"), ("other", "other")):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "flows.py").write_text(FLOW.format(name=name))
    for package in ("pkg", "pkg/sub"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "loader.py").write_text("def load():\n    return 1\n")
    root = checkout(tmp_path)
    adoption = plan(root, root / "projects")
    moved = {s.source for s in adoption.steps if s.kind == "move"}
    assert root / "pkg" / "sub" not in moved
    assert {root / "main.py", root / "other"} <= moved
    dotted = imports.split()[1]
    assert f"pkg/sub is not moved: main.py:2 imports `{dotted}` from it" in "\n".join(
        adoption.warnings
    )
    assert all(s.kind != "remove" for s in adoption.steps)  # its entry stays in prefect.yaml


def test_a_copied_requirements_file_pinning_prefect_2_is_said_before_validate_refuses_it(
    tmp_path: Path,
) -> None:
    """AbdessamadAouissi/spotify-elt-pipeline (trial round 10 a 2): the root requirements.txt
    pins `prefect>=2.19,<3.0`; the warning and adopt said to copy it, and the copy was then
    refused. Both name the line now."""
    root = repository(tmp_path)
    (root / "requirements.txt").write_text("pandas\nprefect>=2.19,<3.0\n")
    folders = discover(root, None, "acme/data-flows")
    warning = next(
        p for f in folders for p in f.problems if p.title == "Build file outside the flow folder"
    )
    assert "require `prefect>=3` in the copy instead of line 2's `prefect>=2.19,<3.0`" in (
        warning.message
    )
    adoption = plan(checkout(root), root / "projects", "acme/data-flows")
    said = [w for w in adoption.warnings if "installs Prefect 2" in w]
    assert said and all(
        ": line 2, `prefect>=2.19,<3.0`, copied from requirements.txt" in w for w in said
    )


def test_a_folder_with_its_own_dockerfile_gets_no_root_requirements(tmp_path: Path) -> None:
    """danolen/fantasy-baseball-platform (trial round 10 a 10): flows/ has a Dockerfile that
    installs its pyproject.toml; the root requirements.txt is a Streamlit app's. It was
    warned as missing from the folder, and adopt copied it there. A folder without one still
    gets it."""
    root = repository(tmp_path)
    (root / "requirements.txt").write_text("streamlit==1.61.1\n")
    (root / "flows" / "Dockerfile").write_text("FROM python:3.12\nCOPY . .\nRUN pip install .\n")
    folders = {f.key: f for f in discover(root, None, "acme/data-flows")}
    said = {
        key: [p.file.name for p in f.problems if p.title == "Build file outside the flow folder"]
        for key, f in folders.items()
    }
    assert said == {"data-flows/flows": [], "flows/sales": ["requirements.txt"]}
    copies = [s.target for s in plan(checkout(root), root / "projects").steps if s.kind == "copy"]
    assert [c.relative_to(root).parent.as_posix() for c in copies] == ["projects/flows/sales"]
