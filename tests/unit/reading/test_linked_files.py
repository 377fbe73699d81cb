"""What a symlink of a flow folder becomes in its image (pure), and the staged context."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.reading.build_context import context_files
from prefect_flow_deploy.reading.linked_files import link_action, staged_context

ROOT = Path("/repo")
FOLDER = ROOT / "projects" / "p" / "one"


def test_each_kind_of_link() -> None:
    assert link_action(ROOT / "lib" / "common.py", True, FOLDER, ROOT) == "copy"
    assert link_action(ROOT / "lib", False, FOLDER, ROOT) == "folder"
    assert link_action(FOLDER / "sub" / "x.py", True, FOLDER, ROOT) == "keep"  # resolves
    assert link_action(None, False, FOLDER, ROOT) == "keep"  # dangling: as Docker copies it
    assert link_action(Path("/etc/passwd"), True, FOLDER, ROOT) == "outside"


def test_a_linked_file_counts_as_its_content_and_is_staged_as_a_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "common.py").write_text("X = 1\n")
    folder = root / "projects" / "p" / "one"
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text("import common\n")
    (folder / "common.py").symlink_to("../../../lib/common.py")
    (folder / "alias.py").symlink_to("flow.py")  # inside the folder: stays a link

    files = {f.path: f for f in context_files(folder, [], root=root)}
    assert files["common.py"].linked and not files["alias.py"].linked
    assert files["common.py"].digest == context_files(root / "lib", [])[0].digest
    staged = staged_context(folder, ("common.py",), str(tmp_path / "stage"))
    assert not (staged / "common.py").is_symlink()
    assert (staged / "common.py").read_text() == "X = 1\n"
    assert (staged / "alias.py").is_symlink()
