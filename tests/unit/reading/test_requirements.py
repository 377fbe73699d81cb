"""requirements.txt (requirements.py): every mistake pip would meet, at its file and line
(the files it includes too); plain-http package indexes warned at their line; packages
listed in pyproject.toml or a Pipfile, which the default recipe does not read."""

from __future__ import annotations

from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from prefect_flow_deploy.core.urls import plain_http_host
from prefect_flow_deploy.reading.requirements import (
    holding_prefect_back,
    prefect_2_pin,
    requirements_problems,
    unread_dependency_problems,
)

# -- requirements.txt, large files ---------------------------------------------------------


def test_plain_http_indexes_are_warned_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "--index-url https://pypi.org/simple\n--extra-index-url http://ci:tok@pypi.acme/simple\n"
        "-i http://localhost:8080/simple\n--trusted-host mirror.acme\n"
        "--find-links=http://mirror.acme/wheels  # same host, trusted\nrequests\n"
    )
    problems, _ = requirements_problems(path)
    assert [(p.line, p.severity) for p in problems] == [(2, "warning"), (5, "warning")]
    assert "pip refuses it unless `--trusted-host pypi.acme`" in problems[0].message
    assert "only silences pip" in problems[1].message
    assert plain_http_host("HTTP://[::1]:3141/simple") is None


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        path = folder / name.replace("__", "/").replace("_txt", ".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder / "requirements.txt"


def test_the_issue_s_three_mistakes_are_errors_at_their_lines(tmp_path: Path) -> None:
    """Issue 23: `-r common.txt` to a file not in the folder, `-e ./lib` to a missing
    folder, `requests=>2`: pip fails each in the middle of the build; said now."""
    path = write(tmp_path, requirements_txt="httpx\n-r common.txt\n-e ./lib\nrequests=>2\n")
    problems, names_files = requirements_problems(path)
    assert names_files
    assert [(p.line, p.severity, p.file) for p in problems] == [
        (2, "error", path), (3, "error", path), (4, "error", path)
    ]  # fmt: skip
    assert "the flow folder has no common.txt" in problems[0].message
    assert "Could not open requirements file" in problems[0].message
    assert "`-e ./lib`: the flow folder has no ./lib" in problems[1].message
    assert "`requests=>2` is not a valid requirement" in problems[2].message
    assert "Did you mean `requests>=2`?" in problems[2].message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_read_as_pip_reads_it(
    tmp_path: Path, encoding: str
) -> None:
    """Stjefan/prefect-flows' requirements.txt, saved by a Windows editor as UTF-16 (`FF FE`
    first): pip installs from it (its auto_decode reads the mark); it was refused with
    "'utf-8' codec can't decode byte 0xff" (trial b 3). Read so, its mistakes are found."""
    path = tmp_path / "requirements.txt"
    path.write_bytes("pandas\r\nrequests=>2\r\n".encode(encoding))
    problems, _ = requirements_problems(path)
    assert [(p.line, p.severity) for p in problems] == [(2, "error")]
    assert "`requests=>2` is not a valid requirement" in problems[0].message


def test_an_included_file_is_read_at_its_own_lines_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        requirements_txt="-r base.txt\n-c base.txt\n",
        base_txt="# shared\npandas==2.*\nnumpy==>1\n-r requirements.txt\n",
    )
    problems, _ = requirements_problems(path)
    assert [(p.file, p.line) for p in problems] == [(tmp_path / "base.txt", 3)]
    assert "`numpy==>1` is not a valid requirement" in problems[0].message


def test_a_local_folder_must_be_a_python_project(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    path = write(tmp_path, requirements_txt="-e ./lib\n./wheels/x-1.0-py3-none-any.whl\n")
    problems, _ = requirements_problems(path)
    assert [p.line for p in problems] == [1, 2]
    assert "lib has no pyproject.toml or setup.py" in problems[0].message
    (tmp_path / "lib" / "pyproject.toml").write_text("[project]\nname = 'lib'\n")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "x-1.0-py3-none-any.whl").write_text("")
    assert requirements_problems(path)[0] == []


# -- packages listed where the default recipe does not read them ----------------------------


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = [\n    "pandas>=1",\n]\n', 3),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = ["httpx"]\n', 3),
        ("pyproject.toml", '[project]\ndependencies = [\n  # pinned\n  "httpx",\n]\n', 2),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = []\n', None),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = [\n]\n', None),
        ("pyproject.toml", "[tool.ruff]\nline-length = 99\n", None),
        (
            "pyproject.toml",
            '[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n'
            'pandas = "^2"\n',
            4,
        ),
        ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\n\n[x]\na = 1\n', None),
        ("Pipfile", '[[source]]\nurl = "x"\n\n[packages]\nrequests = "*"\n', 4),
        ("Pipfile", '[packages]\n\n[dev-packages]\npytest = "*"\n', None),
    ],
)
def test_packages_listed_outside_requirements_txt_are_a_warning_at_the_list(
    tmp_path: Path, name: str, text: str, line: int | None
) -> None:
    (tmp_path / name).write_text(text)
    found = unread_dependency_problems(tmp_path)
    assert [(p.severity, p.file, p.line) for p in found] == (
        [("warning", tmp_path / name, line)] if line else []
    )
    assert all("Write them to requirements.txt" in p.message for p in found)


PINS = {  # requirement: whether it allows no Prefect 3
    "prefect==2.14.0": True, "prefect<3": True, "Prefect~=2.10": True, "prefect==2.*": True,
    "prefect<=2.20.3": True, "prefect>=2.10,<3.0": True, "prefect<3.0.0rc1": True,
    "prefect>=2": False, "prefect==3.4.*": False, "prefect~=3.1": False, "prefect": False,
    "prefect<4": False, "prefect-aws==0.4.0": False,
    "prefect==2.14.0; python_version < '3.0'": False,  # a marker no image's Python meets
}  # fmt: skip
PREFECT_3 = [f"3.{minor}.{patch}" for minor in range(12) for patch in range(25)]


@pytest.mark.parametrize("over_base_image", [True, False])
def test_a_pin_to_prefect_2_over_the_base_image_is_an_error_at_its_line(
    tmp_path: Path, over_base_image: bool
) -> None:
    """The default recipe installs the folder's requirements over the base image's
    Prefect 3: a requirement that allows no Prefect 3 would install Prefect 2, which the
    Prefect 3 worker cannot start. With a Dockerfile of its own the folder may not install
    them so: a warning, and the built image's check (image_check.py) decides."""
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{pin}\n" for pin in PINS))
    problems, _ = requirements_problems(path, over_base_image=over_base_image)
    flagged = {list(PINS)[p.line - 1] for p in problems if p.line}
    assert flagged == {pin for pin, no_3 in PINS.items() if no_3}
    # with a Dockerfile of its own, a warning before the build (trial round 11 b 14: found
    # after 20 minutes of pip resolving), not the error
    severity = "error" if over_base_image else "warning"
    assert all(p.severity == severity and "Require `prefect>=3`" in p.message for p in problems)
    for pin, no_3 in PINS.items():  # packaging, as pip, is the judge: over real 3.x versions
        requirement = Requirement(pin)
        if requirement.name.lower().replace("_", "-") == "prefect" and not requirement.marker:
            allowed = [v for v in PREFECT_3 if requirement.specifier.contains(v, prereleases=True)]
            assert (not allowed) == no_3, pin


MARKED = {  # a Prefect 2 pin with a marker: error when every image's Python meets it
    'prefect==2.18.3 ; python_version >= "3.9" and python_version < "3.15"': "error",
    'prefect==2.18.3 ; python_version >= "3.9"': "error",
    "prefect==2.18.3 ; sys_platform == 'linux'": "error",
    'prefect==2.18.3 ; python_version >= "3.9" and python_version < "3.12"': "warning",
    "prefect==2.18.3 ; sys_platform == 'win32'": None,
    'prefect==3.4.0 ; python_version >= "3.9"': None,
}


def test_a_pin_to_prefect_2_with_a_marker_is_judged_for_the_images_pythons(
    tmp_path: Path,
) -> None:
    """allen-cell-animated/cell-abm-pipeline (trial round 11 a 9): `poetry export` writes a
    marker on every line, and its `prefect==2.18.3 ; python_version >= "3.9" …` passed
    validate and plan; deploy refused it after the build. A marker that holds for every
    Python of a Prefect 3 image (Linux, CPython 3.9 to 3.14) is no marker; one that holds
    for some is a warning (the base image's Python decides); one that holds for none,
    nothing. `packaging` evaluates it, as pip does."""
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{pin}\n" for pin in MARKED))
    problems, _ = requirements_problems(path, over_base_image=True)
    said = {list(MARKED)[p.line - 1]: p.severity for p in problems if p.line}
    assert said == {pin: severity for pin, severity in MARKED.items() if severity}
    assert all("installs Prefect 2" in p.message for p in problems)
    assert all(
        ("where its marker holds" in p.message) == (p.severity == "warning") for p in problems
    )


def test_a_file_s_first_pin_to_prefect_2_is_named_for_adopt_s_copy(tmp_path: Path) -> None:
    """What `adopt` and the root-file warning name before a root requirements.txt becomes a
    folder's (trial round 10 a 2): the same rule as above, the first such line."""
    path = tmp_path / "requirements.txt"
    path.write_text("pandas\n# prefect<2\nprefect>=2.19,<3.0\nprefect==2.14.0\n")
    assert prefect_2_pin(path) == (3, "prefect>=2.19,<3.0")
    path.write_text("pandas\nprefect>=2.19\n")
    assert prefect_2_pin(path) is None
    assert prefect_2_pin(tmp_path / "absent.txt") is None


def test_a_pin_outside_what_prefect_3_requires_is_named_as_what_holds_prefect_back(
    tmp_path: Path,
) -> None:
    """Svbongo/cicd-prefect-snowflake (trial b 6): `griffe==0.36.4` made pip take Prefect
    2.20.2, and the error blamed the unpinned `prefect` line, advising `prefect>=3` (pip
    then backtracked for 22 minutes). The pin outside Prefect 3's own requirement (this
    venv's Prefect metadata, the oracle) is named at its line; pins inside it are not."""
    griffe = next(Requirement(r) for r in requires("prefect") or [] if r.startswith("griffe"))
    assert not griffe.specifier.contains("0.36.4")
    path = tmp_path / "requirements.txt"
    path.write_text("pandas==2.1.0\nprefect\nrequests\ngriffe==0.36.4  # old\n")
    assert holding_prefect_back(path) == (4, "griffe==0.36.4", str(griffe))
    path.write_text("prefect\ngriffe>=0.20\nhttpx==0.28.1\n")
    assert holding_prefect_back(path) is None
