"""requirements.txt read as pip reads it (requirements_file.py), with pip itself as the
oracle: for each line, pip's own parser (`parse_requirements`, then the requirement made of
each parsed line, as `pip install -r` does before resolving anything) refuses it exactly
when we report an error. pip runs in a subprocess over files in one folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_flow_deploy.reading.requirements import requirements_problems
from prefect_flow_deploy.reading.requirements_file import logical_lines, parse

ORACLE = """
import json, os, sys
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements

os.chdir(sys.argv[1])  # pip resolves local paths from the working directory: the folder
answers = {}
for name in sys.argv[2:]:
    try:
        for parsed in parse_requirements(name, session=PipSession()):
            install_req_from_parsed_requirement(parsed)
        answers[name] = None
    except Exception as exc:
        answers[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(answers))
"""

# Each a whole requirements.txt (one logical line), in a folder holding base.txt, a Python
# project lib/ and a pyproject.toml of its own (so `-e .` is installable).
CASES = [
    "requests>=2",
    "requests [security] >= 2.8.1, == 2.8.* ; python_version < '3.8'",
    "requests \\\n  >=2",
    "Django>=4  # a comment",
    "foo ~= 1.0",
    "foo==1 --hash=sha256:abc",
    "foo==1 \\\n  --hash=sha256:abc \\\n  --hash=sha256:def",
    "pkg @ https://example.com/pkg.whl",
    "https://example.com/x-1.0.tar.gz",
    "-e git+https://github.com/a/b.git#egg=b",
    "-r base.txt",
    "-rbase.txt",
    "--requirement=base.txt",
    "-c base.txt",
    "-e ./lib",
    "./lib",
    "-e .",
    "--index-url https://pypi.example/simple",
    "--only-binary=:all:",
    "--pre",
    "requests=>2",
    "requests=<2",
    "foo==",
    "foo==1.0.*.1",
    "--no-such x",
    "-r",
    "-i",
    "-r missing.txt",
    "-c missing.txt",
    "-e ./nolib",
    "./nolib",
    "x/y",
]


@pytest.fixture(scope="module")
def pip_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("requirements")
    (folder / "base.txt").write_text("tabulate\n")
    (folder / "lib").mkdir()
    (folder / "lib" / "pyproject.toml").write_text("[project]\nname = 'lib'\nversion = '1'\n")
    (folder / "pyproject.toml").write_text("[project]\nname = 'flows'\nversion = '1'\n")
    names = []
    for number, text in enumerate(CASES):
        (folder / f"case{number:02d}.txt").write_text(text + "\n")
        names.append(f"case{number:02d}.txt")
    done = subprocess.run(
        [sys.executable, "-c", ORACLE, str(folder), *names],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    answers: dict[str, str | None] = json.loads(done.stdout)
    return folder, answers


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.splitlines()[0] for c in CASES])
def test_an_error_exactly_where_pip_refuses(
    number: int, pip_answers: tuple[Path, dict[str, str | None]]
) -> None:
    folder, answers = pip_answers
    path = folder / f"case{number:02d}.txt"
    requirements = folder / "requirements.txt"  # the name the folder's file has
    requirements.write_text(path.read_text())
    problems, _ = requirements_problems(requirements)
    errors = [p for p in problems if p.severity == "error"]
    refused = answers[path.name]
    assert bool(errors) == (refused is not None), (CASES[number], refused, errors)
    assert all((p.file, p.line) == (requirements, 1) for p in errors)


def test_pip_accepts_then_ignores_an_option_after_a_requirement() -> None:
    parsed = parse("requests>=2 --index-url https://pypi.example/simple\n")
    assert parsed.mistakes == []
    [(line, message)] = parsed.ignored
    assert line == 1 and "pip ignores `--index-url`" in message


def test_continuations_keep_the_first_line_and_comments_end_them() -> None:
    text = "a \\\n  >=1\n# note \\\nb  # why\n\n  \nc==1 \\\n"
    assert logical_lines(text) == [(1, "a   >=1"), (4, "b"), (7, "c==1")]
