"""The unit tests mirror src/: tests/unit/test_<module>.py tests src/prefect_flow_deploy/<module>.py
(test_<module>_<aspect>.py when one module's tests are many), and test_repo_<file>.py tests a
file of the repository that is not a module (action.yml, the release workflow, the lock, the
test harness). A newcomer who changes a module finds its tests by name."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "prefect_flow_deploy"


def modules() -> set[str]:
    return {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }


def module_of(test_file: str, known: set[str]) -> str | None:
    """The longest module name the test file's name starts with, else None."""
    name = test_file.removeprefix("test_")
    matches = [m for m in known if name == m or name.startswith(m + "_")]
    return max(matches, key=len, default=None)


def test_every_unit_test_file_names_the_module_it_tests() -> None:
    known = modules()
    strays = [
        p.name
        for p in sorted((ROOT / "tests" / "unit").glob("test_*.py"))
        if not p.stem.startswith("test_repo_") and module_of(p.stem, known) is None
    ]
    assert strays == [], f"name these after the module they test (test_<module>.py): {strays}"


def test_the_rule_tells_a_module_s_tests_from_a_stray() -> None:
    known = {"deployments", "deployment_fields", "http_retry"}
    assert module_of("test_deployment_fields", known) == "deployment_fields"
    assert module_of("test_deployments_hand_set_state", known) == "deployments"
    assert module_of("test_http", known) is None
    assert module_of("test_checks", known) is None


def test_test_files_live_in_their_kind_s_folder() -> None:
    """unit/ (no services), integration/ (the stack), action/ (the action's container); a
    test file of the repository's files is unit/test_repo_<file>.py, not tests/test_*.py."""
    tests = ROOT / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    assert loose == [], f"move these into tests/unit, tests/integration or tests/action: {loose}"
    folders = {p.parent.name for p in tests.rglob("test_*.py") if "corpus" not in p.parts}
    assert folders <= {"unit", "integration", "action"}, folders
