"""A module the image lacks, said with what to import or install instead (pure, but for the
warnings it logs): the folder by its old path, one error per flow file."""

from __future__ import annotations

from pathlib import Path

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
