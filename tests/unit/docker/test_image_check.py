"""What the registry serves after a push is what was pushed (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.docker.image_check import (
    loaded_in_image,
    missing_modules,
    run_env,
    served_mismatch,
)
from prefect_flow_deploy.reading.discovery import discover


def test_a_tag_serving_another_digest_is_named() -> None:
    ref = "registry.example.com/acme/sales/daily:0123456789abcdef0123"
    assert served_mismatch(ref, "sha256:a", "sha256:a") is None
    assert served_mismatch(ref, "", "sha256:b") is None  # the engine told no digest
    why = served_mismatch(ref, "sha256:a", "sha256:b")
    assert why and why.startswith(f"the registry serves sha256:b under {ref}, not the sha256:a")
    assert "serves nothing under" in (served_mismatch(ref, "sha256:a", None) or "")


def _repository(root: Path) -> None:
    """Prefect's layout: a root prefect.yaml naming flows/etl.py, whose folder is flows/."""
    (root / ".git").mkdir()
    (root / "prefect.yaml").write_text(
        "deployments:\n- name: etl\n  entrypoint: flows/etl.py:etl\n"
    )
    (root / "flows").mkdir()
    (root / "flows" / "etl.py").write_text(
        "from prefect import flow\nfrom flows.helpers import greet\n\n\n@flow\ndef etl():\n"
        "    from common.db import connect\n    greet(connect())\n\n\nimport tabulate  # noqa\n"
    )
    (root / "flows" / "helpers.py").write_text("def greet(x):\n    pass\n")
    (root / "common").mkdir()
    (root / "common" / "db.py").write_text("def connect():\n    pass\n")


def test_a_repository_module_a_flow_file_imports_at_the_top_fails_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Found running a real repository in Prefect's layout (KlixMediaAds/klix-flows,
    `from flows.utils.discord_alerts import …` in flows/): `prefect deploy`'s image holds the
    whole repository, this one the folder, so such an import at a flow file's top fails every
    run before its flow starts: an error at the import, with the fix (before: a warning, the
    deployment registered, each run crashed). Elsewhere (another file, inside a function) it
    stays a warning. A relative projects root (`--projects-root .`) is read the same (before:
    ValueError from Path.relative_to)."""
    _repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    [folder] = discover(Path("."), None, "acme/x")
    error = missing_modules(folder, ["flows", "common"], Path("."))
    assert error is not None and (error.file, error.line) == (str(folder.path / "etl.py"), 2)
    assert "`flows` is this flow folder itself" in str(error)
    assert "import its modules by their names within it" in str(error)
    err = capfd.readouterr().err
    assert "flows/etl.py:7:" in err and "`common` is in the repository but outside" in err
    assert missing_modules(folder, ["tabulate"], Path(".")) is None  # maybe installed at run
    assert "add it to" in capfd.readouterr().err


def test_a_module_beside_the_flow_folders_is_named_from_the_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    folder_path = tmp_path / "projects" / "sales" / "orders"
    folder_path.mkdir(parents=True)
    (folder_path / "flow.py").write_text(
        "import shared\nfrom prefect import flow\n\n\n@flow\ndef orders():\n    pass\n"
    )
    (tmp_path / "projects" / "sales" / "shared.py").write_text("X = 1\n")
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    error = missing_modules(folder, ["shared"], tmp_path / "projects")
    assert error is not None and error.line == 1
    assert "`projects/sales/shared.py` is in the repository but outside the flow folder" in str(
        error
    )


def test_an_import_after_a_change_of_sys_path_is_judged_by_loading_the_flow(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """CamilleLarpin/pea-pme-pulse: `sys.path.insert(0, …parent.parent)` then `from
    flows.helpers import …`, which imports in the image (the folder sits at …/src/flows
    there) though a search by name misses it: the folder failed, "the image does not have"
    it. Now Prefect loads that flow in the image (its answer decides), and the name alone
    fails nothing; the same import without the change still does."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: main\n  entrypoint: src/flows/main.py:main\n"
        "- name: plain\n  entrypoint: src/flows/plain.py:plain\n"
    )
    flows = tmp_path / "src" / "flows"
    flows.mkdir(parents=True)
    (flows / "main.py").write_text(
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path(__file__).parent.parent))"
        "\nfrom prefect import flow\nfrom flows.helpers import greet\n\n\n@flow\ndef main():\n"
        "    greet()\n"
    )
    (flows / "plain.py").write_text("from prefect import flow\n\n\n@flow\ndef plain():\n    pass\n")
    (flows / "helpers.py").write_text("def greet():\n    pass\n")
    [folder] = discover(tmp_path, None, "acme/x")
    assert missing_modules(folder, ["flows"], tmp_path) is None
    assert "flows" not in capfd.readouterr().err  # not even a warning: the loading says
    assert loaded_in_image(folder) == {"main.py:main": None}  # plain's schema is read
    (flows / "plain.py").write_text(
        "from prefect import flow\nfrom flows.helpers import greet\n\n\n@flow\ndef plain():\n"
        "    pass\n"
    )
    [folder] = discover(tmp_path, None, "acme/x")
    error = missing_modules(folder, ["flows"], tmp_path)
    assert error is not None and (error.file, error.line) == (str(flows / "plain.py"), 2)


def test_a_flow_whose_only_risk_is_its_libraries_is_loaded_by_importing_them(
    tmp_path: Path,
) -> None:
    """With the libraries its load imports (Prefect loads it only when one fails); one whose
    top runs code of its own with None (Prefect loads it); one running nothing is absent."""
    folder_path = tmp_path / "projects" / "p" / "f"
    folder_path.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    flow = "{head}\nfrom prefect import flow\n\n\n@flow\ndef {name}(x: int = 1):\n    pass\n"
    heads = {"quick": "from tabulate import tabulate\nfrom helpers import decorate",
             "boom": "import humanize\nRATE = 1 / 0", "plain": "import os"}  # fmt: skip
    for name, head in heads.items():
        (folder_path / f"{name}.py").write_text(flow.format(head=head, name=name))
    (folder_path / "helpers.py").write_text("import yaml\n\n\ndef decorate():\n    pass\n")
    [folder] = discover(tmp_path)
    assert loaded_in_image(folder) == {
        "f/boom.py:boom": None,
        "f/quick.py:quick": [("tabulate", ["tabulate"]), ("yaml", [])],
    }


def test_the_repositorys_own_package_in_a_src_layout_is_an_error(tmp_path: Path) -> None:
    """`src/<package>` of the repository's own pyproject (mortenoh/prefect-examples: flows/
    import `prefect_examples` from src/prefect_examples): the image never has it, so every
    run crashed while the check only warned "add it to requirements.txt"."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mypkg'\n")
    (tmp_path / "src" / "mypkg").mkdir(parents=True)
    (tmp_path / "src" / "mypkg" / "__init__.py").write_text("X = 1\n")
    folder_path = tmp_path / "projects" / "p" / "reusable"
    folder_path.mkdir(parents=True)
    (folder_path / "flow.py").write_text(
        "from prefect import flow\nfrom mypkg import X\n\n\n@flow\ndef reusable():\n    pass\n"
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    error = missing_modules(folder, ["mypkg"], tmp_path / "projects")
    assert error is not None and (error.file, error.line) == (str(folder_path / "flow.py"), 2)
    assert "`src/mypkg` is in the repository but outside the flow folder" in str(error)
    assert "mypkg @ git+https://" not in str(error) and "git+https://" in str(error)


def test_the_flow_folder_s_own_package_in_its_src_is_an_error_saying_how_to_install_it(
    tmp_path: Path,
) -> None:
    """styglab/teoria: `pipelines/src/teoria_pipelines/flows/*.py` import
    `teoria_pipelines` at their top; a warning said to add it to requirements.txt (another
    PyPI package, or none), the deployments were written and every run crashed (trial
    2026-12-05 a 1). With a pyproject, `-e .` installs it; without one, moving it does."""
    (tmp_path / ".git").mkdir()
    folder_path = tmp_path / "projects" / "p" / "pipelines"
    package = folder_path / "src" / "pkg"
    (package / "flows").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("X = 1\n")
    (package / "flows" / "a.py").write_text(
        "from prefect import flow\nfrom pkg.helpers import X\n\n\n@flow\ndef a():\n    pass\n"
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    error = missing_modules(folder, ["pkg"], tmp_path / "projects")
    assert error is not None and (error.file, error.line) == (str(package / "flows/a.py"), 2)
    assert "`pkg` is the folder's own package in src/pkg, a src layout" in str(error)
    assert "(`git mv src/pkg pkg`)" in str(error)
    (folder_path / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    error = missing_modules(folder, ["pkg"], tmp_path / "projects")
    assert error is not None and f"add `-e .` to {folder_path}/requirements.txt" in str(error)


def test_every_such_import_is_said_in_one_run(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The folder fails with the first; the others are errors at their lines in the same run,
    not one more deploy each (EWECORP/PREFECT_DIARCO: three files import `utils`)."""
    (tmp_path / ".git").mkdir()
    folder_path = tmp_path / "projects" / "p" / "send"
    folder_path.mkdir(parents=True)
    code = "import utils\nfrom prefect import flow\n\n\n@flow\ndef {name}():\n    pass\n"
    for name in ("first", "second", "third"):
        (folder_path / f"{name}.py").write_text(code.format(name=name))
    (tmp_path / "projects" / "p" / "utils.py").write_text("X = 1\n")
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    error = missing_modules(folder, ["utils"], tmp_path / "projects")
    assert error is not None and error.file == str(folder_path / "first.py")
    err = capfd.readouterr().err
    assert all(f"error: {folder_path / name}.py:1:" in err for name in ("second", "third")), err


def test_the_run_environment_is_the_deployments_literal_env(tmp_path: Path) -> None:
    """What loading the flows in the image gets: each entry's `job_variables.env`, the first
    entry's value where two differ, never a value the worker fills in at run time."""
    folder_path = tmp_path / "projects" / "p" / "f"
    folder_path.mkdir(parents=True)
    (folder_path / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef f():\n    pass\n"
    )
    (folder_path / "prefect.yaml").write_text(
        "deployments:\n"
        "- {name: a, entrypoint: flow.py:f, work_pool: {job_variables: {env: {DSN: one, N: 3,"
        " TOKEN: '{{ prefect.blocks.secret.t }}'}}}}\n"
        "- {name: b, entrypoint: flow.py:f, work_pool: {job_variables: {env: {DSN: two, X: y}}}}\n"
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    assert run_env(folder) == {"DSN": "one", "N": "3", "X": "y"}


def test_a_folder_holding_the_flow_folder_is_not_the_module(tmp_path: Path) -> None:
    """`import mps` in projects/mps/flows/ (zzstoatzz/my-prefect-server, adopted: the package
    is packages/mps/src/mps): the project folder of that name is not the module, so no
    path is named and the import is the third-party kind (before: "`projects/mps` is in
    the repository but outside the flow folder", and an error)."""
    (tmp_path / ".git").mkdir()
    folder_path = tmp_path / "projects" / "mps" / "flows"
    folder_path.mkdir(parents=True)
    (folder_path / "uses_pkg.py").write_text(
        "import mps\nfrom prefect import flow\n\n\n@flow\ndef uses():\n    pass\n"
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    assert missing_modules(folder, ["mps"], tmp_path / "projects") is None
