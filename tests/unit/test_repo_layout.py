"""The unit tests mirror src/: tests/unit/<package>/test_<module>.py tests
src/prefect_flow_deploy/<package>/<module>.py (test_<module>_<aspect>.py when one module's
tests are many); the shells at the top (cli.py, action.py, in_image/) have theirs at
tests/unit/test_<module>*.py; test_repo_<file>.py tests a file of the repository that is not a
module (action.yml, the release workflow, the lock, the docs). A newcomer who changes a module
finds its tests by name."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "prefect_flow_deploy"
UNIT = ROOT / "tests" / "unit"


def modules(folder: Path) -> set[str]:
    return {
        p.stem if p.is_file() else p.name
        for p in folder.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }


def module_of(test_file: str, known: set[str]) -> str | None:
    """The longest module name the test file's name starts with, else None."""
    name = test_file.removeprefix("test_")
    matches = [m for m in known if name == m or name.startswith(m + "_")]
    return max(matches, key=len, default=None)


def packages() -> list[str]:
    return sorted(
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and p.name != "in_image"
    )


def test_every_unit_test_file_names_the_module_it_tests() -> None:
    strays = []
    for package in packages():
        known = modules(PACKAGE / package)
        strays += [
            f"{package}/{p.name}"
            for p in sorted((UNIT / package).glob("test_*.py"))
            if module_of(p.stem, known) is None
        ]
    top = {m for m in modules(PACKAGE) if m not in packages()}
    strays += [
        p.name
        for p in sorted(UNIT.glob("test_*.py"))
        if not p.stem.startswith("test_repo_") and module_of(p.stem, top) is None
    ]
    assert strays == [], f"name these after the module they test (test_<module>.py): {strays}"


# Modules without a test file of their own yet (tested only through others): this list only
# shrinks. A new module comes with tests/unit/<package>/test_<module>.py.
UNTESTED = {
    "clients/prefect_api", "clients/stored_images", "core/credentials", "rules/inputs",
    "run/gather", "run/keep_images",
}  # fmt: skip


def without_tests() -> set[str]:
    """`<package>/<module>` of every module no unit test file is named after."""
    missing = set()
    for package in packages():
        known = modules(PACKAGE / package)
        tested = {module_of(p.stem, known) for p in (UNIT / package).glob("test_*.py")}
        missing |= {f"{package}/{m}" for m in known - tested}
    return missing


def test_every_module_has_a_test_file_of_its_own() -> None:
    missing = without_tests()
    assert sorted(missing - UNTESTED) == [], "write tests/unit/<package>/test_<module>.py"
    assert sorted(UNTESTED - missing) == [], "these have tests now: take them off UNTESTED"


def test_the_unit_tests_mirror_the_packages() -> None:
    folders = {p.name for p in UNIT.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(packages()), "tests/unit/<package>/ for each package of src"


def test_the_rule_tells_a_module_s_tests_from_a_stray() -> None:
    known = {"diff", "fields", "http_retry"}
    assert module_of("test_fields", known) == "fields"
    assert module_of("test_diff_hand_set_state", known) == "diff"
    assert module_of("test_http", known) is None
    assert module_of("test_checks", known) is None


def test_test_files_live_in_their_kind_s_folder() -> None:
    """unit/ (no services), integration/ (the stack), action/ (the action's container); a
    test file of the repository's files is unit/test_repo_<file>.py, not tests/test_*.py."""
    tests = ROOT / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    assert loose == [], f"move these into tests/unit, tests/integration or tests/action: {loose}"
    kinds = {
        p.relative_to(tests).parts[0] for p in tests.rglob("test_*.py") if "corpus" not in p.parts
    }
    assert kinds <= {"unit", "integration", "action"}, kinds
