"""A module the image lacks, said with what to import or install instead (pure, but for the
warnings it logs): the folder by its old path, one error per flow file."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.docker.missing_modules import module_errors
from prefect_flow_deploy.reading.discovery import discover

FLOW = "from prefect import flow\n{imports}\n\n@flow\ndef weather():\n    pass\n"


def moved_folder(root: Path, imports: str) -> Path:
    """bi-almeida-junior/prefect-server's flows/weather moved to projects/bi/weather; the
    repository's flows/ package stays at the root."""
    (root / ".git").mkdir()
    (root / "flows").mkdir()
    (root / "flows" / "__init__.py").write_text("")
    folder = root / "projects" / "bi" / "weather"
    folder.mkdir(parents=True)
    (folder / "client.py").write_text("class WeatherAPIClient:\n    pass\n")
    (folder / "main.py").write_text(FLOW.format(imports=imports))
    return folder


def test_a_module_of_the_folder_by_its_old_path_is_told_by_its_name_within_it(
    tmp_path: Path,
) -> None:
    """`from flows.weather.client import …` after the move was told to copy `flows` into
    the folder (trial b 9); the folder has client.py: import it by that name."""
    folder_path = moved_folder(tmp_path, "from flows.weather.client import WeatherAPIClient")
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    [error] = module_errors(folder, ["flows"], tmp_path / "projects")
    assert (error.file, error.line) == (str(folder_path / "main.py"), 2)
    assert "`flows.weather.client` is this folder's own `client`" in error.message
    assert "(`from client import …`)" in error.message


def test_one_error_per_flow_file_naming_its_other_lines(tmp_path: Path) -> None:
    """broepke/prefect-dka: seven `from utilities.… import` lines of one file were seven
    errors, seven of GitHub's ten annotations for one cause (trial b 4)."""
    (tmp_path / "utilities").mkdir()
    (tmp_path / "utilities" / "__init__.py").write_text("")
    imports = "from utilities.a import x\nfrom utilities.b import y\nimport utilities.c"
    moved_folder(tmp_path, imports)
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    [error] = module_errors(folder, ["utilities"], tmp_path / "projects")
    assert error.line == 2
    assert "main.py imports `utilities` (also at lines 3, 4), which the image" in error.message
    assert "`utilities` is in the repository but outside the flow folder" in error.message


def test_the_package_the_flow_folder_is_in_is_an_error_naming_it(tmp_path: Path) -> None:
    """wonkothesanest/prefect_data_getters (trial round 8 b 1): src/pkg/flows/f.py imports
    `pkg.util`; the image holds src/pkg/flows alone. It was a warning to pip-install `pkg`,
    the deployment was written and every run crashed."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: inner\n  entrypoint: src/pkg/flows/f.py:weather\n"
    )
    (tmp_path / "src" / "pkg" / "flows").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "util.py").write_text("GREETING = 'hi'\n")
    (tmp_path / "src" / "pkg" / "flows" / "f.py").write_text(
        FLOW.format(imports="from pkg.util import GREETING")
    )
    [folder] = [f for f in discover(tmp_path, None, "acme/x") if f.flows]
    said = [p for p in folder.problems if p.title == "Module outside the flow folder"]
    assert [(p.line, p.severity) for p in said] == [(2, "warning")]
    [error] = module_errors(folder, ["pkg"], tmp_path)
    assert error.line == 2
    assert (
        "`src/pkg` is the package this flow folder is in, and the image holds only" in error.message
    )


def test_a_module_beside_a_flow_file_in_a_sub_folder_is_not_missing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """DonaldWipper/Football-Tournaments-Data-Archive (trial round 9 a 5): flows/<source>/
    files import their siblings by name, which Prefect's loader finds (it puts the file's
    folder on sys.path) and the check, looking from the code's top, did not: "add it to
    requirements.txt", and every run was fine. A module found nowhere is still said."""
    (tmp_path / ".git").mkdir()
    folder_path = tmp_path / "projects" / "p" / "pipelines"
    (folder_path / "flows" / "alpha").mkdir(parents=True)
    (folder_path / "flows" / "alpha" / "alpha_helpers.py").write_text("value = 1\n")
    (folder_path / "flows" / "alpha" / "alpha_flow.py").write_text(
        FLOW.format(imports="from alpha_helpers import value\nimport pandas")
    )
    [folder] = discover(tmp_path / "projects", None, "acme/x")
    assert module_errors(folder, ["alpha_helpers", "pandas"], tmp_path / "projects") == []
    said = capfd.readouterr().err
    assert "`pandas`" in said and "alpha_helpers" not in said


def test_an_enclosing_namespace_package_named_by_its_modules_is_the_repository_s(
    tmp_path: Path,
) -> None:
    """tomdncenter/automate (trial round 9 b 5): src/flows/flow_test.py imports
    `src.services.logger`, no src/__init__.py: "add `src` to requirements.txt" (a warning),
    and every run crashed. An error naming it, as with src/__init__.py; the project folder
    named as a pip package (`import mps` in projects/mps/flows) stays a package."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n- name: t\n  entrypoint: src/flows/flow_test.py:weather\n"
    )
    (tmp_path / "src" / "services").mkdir(parents=True)
    (tmp_path / "src" / "services" / "__init__.py").write_text("")
    (tmp_path / "src" / "services" / "logger.py").write_text("def configure():\n    pass\n")
    (tmp_path / "src" / "flows").mkdir()
    (tmp_path / "src" / "flows" / "flow_test.py").write_text(
        FLOW.format(imports="from src.services.logger import configure")
    )
    [folder] = discover(tmp_path, None, "acme/x")
    [error] = module_errors(folder, ["src"], tmp_path)
    assert error.file == str(tmp_path / "src" / "flows" / "flow_test.py") and error.line == 2
