"""requirements.txt (requirements.py): plain-http package indexes warned at their line;
packages listed in pyproject.toml or a Pipfile, which the default recipe does not read."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.requirements import (
    insecure_index_problems,
    plain_http_host,
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
    problems = insecure_index_problems(path)
    assert [p.line for p in problems] == [2, 5]
    assert "pip refuses it unless `--trusted-host pypi.acme`" in problems[0].message
    assert "only silences pip" in problems[1].message
    assert plain_http_host("HTTP://[::1]:3141/simple") is None


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
