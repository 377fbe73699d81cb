"""Where a failed build points the user: the Dockerfile instruction or requirements.txt line.
The logs are BuildKit's plain progress output as the engines here print it."""

from pathlib import Path

from prefect_flow_deploy.docker.build_log import (
    failed_requirement_line,
    failure_location,
    shared_step_note,
)

PIP_LOG = """#7 [stage-0 3/5] RUN --mount=type=cache,target=/root/.cache/pip     python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt
#7 0.832 Collecting requests==2.32.3
#7 0.957 ERROR: Could not find a version that satisfies the requirement No_Such.pkg==1.0 (from versions: none)
#7 0.957 ERROR: No matching distribution found for No_Such.pkg==1.0
#7 ERROR: executor failed running [/bin/sh -c python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt]: exit code: 1
------
 > [stage-0 3/5] RUN --mount=type=cache,target=/root/.cache/pip     python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt:
------
"""

OWN_DOCKERFILE_LOG = """#7 [3/3] RUN pip install     requests     nopepkg-pfd-zzz
#7 0.533 ERROR: No matching distribution found for nopepkg-pfd-zzz
#7 ERROR: executor failed running [/bin/sh -c pip install     requests     nopepkg-pfd-zzz]: exit code: 1
------
 > [3/3] RUN pip install     requests     nopepkg-pfd-zzz:
------
"""


def request(folder: Path, default_recipe: bool) -> tuple[Path, bool]:
    """The build context and whether it is built with the default recipe."""
    return folder, default_recipe


def test_a_requirement_pip_cannot_find_points_at_its_line(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nrequests==2.32.3\nno-such-pkg==1.0  # typo\n")
    assert failure_location(PIP_LOG, *request(tmp_path, True)) == (requirements, 3)


def test_pip_s_own_line_number_wins(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests>>2\n")
    log = "ERROR: Invalid requirement: 'requests>>2' (from line 1 of /tmp/pfd/requirements.txt)"
    assert failed_requirement_line(log, requirements) == 1


def test_a_default_recipe_failure_elsewhere_points_nowhere_in_particular(tmp_path: Path) -> None:
    log = PIP_LOG.replace("requirements.txt:", "x:").replace("-r /tmp/pfd/requirements.txt", "")
    assert failure_location(log, *request(tmp_path, True)) == (None, None)


def test_an_own_dockerfile_points_at_the_failed_instruction_over_continuation_lines(
    tmp_path: Path,
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.12\n# install\nCOPY . /app\nRUN pip install \\\n    requests \\\n"
        "    nopepkg-pfd-zzz\nCMD python\n"
    )
    assert failure_location(OWN_DOCKERFILE_LOG, *request(tmp_path, False)) == (dockerfile, 4)


def test_a_dockerfile_parse_error_gives_its_line(tmp_path: Path) -> None:
    log = (
        "failed to create LLB definition: dockerfile parse error line 2: unknown instruction: RUNN"
    )
    assert failure_location(log, *request(tmp_path, False)) == (tmp_path / "Dockerfile", 2)


# pip 23 in the stand-in base, as BuildKit printed it (a real deploy of such a folder).
TRUSTED_HOST_LOG = """#7 [stage-0 3/5] RUN --mount=type=cache,target=/root/.cache/pip     python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt
#7 3.375 adding trusted host: 'pypi.example.internal' (from line 1 of /tmp/pfd/requirements.txt)
#7 4.041 Collecting requests==2.32.3
#7 4.300 ERROR: Could not find a version that satisfies the requirement not-a-real-package-zz==1.0 (from versions: none)
#7 4.300 ERROR: No matching distribution found for not-a-real-package-zz==1.0
------
 > [stage-0 3/5] RUN --mount=type=cache,target=/root/.cache/pip     python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt:
------
"""


def test_a_trusted_host_line_pip_only_read_is_not_the_failed_line(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "--trusted-host pypi.example.internal\nrequests==2.32.3\nnot-a-real-package-zz==1.0\n"
    )
    assert failure_location(TRUSTED_HOST_LOG, *request(tmp_path, True)) == (requirements, 3)


def test_pip_s_from_r_line_form_is_read(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("a\nb\nc\n")
    log = "ERROR: Cannot install b (from -r /tmp/pfd/requirements.txt (line 2)) because …"
    assert failed_requirement_line(log, requirements) == 2


# A second build of the same content while BuildKit runs the step for the first: its log
# has none of the step's lines (two concurrent deploys here; pip's lines went to the other).
SHARED_STEP_LOG = """#4 [stage-0 1/5] FROM localhost:5000/stand-in/prefect:3-python3.11
#4 DONE 0.0s

#5 [internal] load build context
#5 transferring context: 194B done
#5 DONE 0.1s
executor failed running [/bin/sh -c python -m pip install --root-user-action=ignore -r /tmp/pfd/requirements.txt]: exit code: 1
"""


def test_a_step_run_for_another_build_still_names_its_file(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("nope-pfd-zz==1\n")
    assert failure_location(SHARED_STEP_LOG, *request(tmp_path, True)) == (requirements, None)
    assert "ran that step for another build" in shared_step_note(SHARED_STEP_LOG)
    assert shared_step_note(PIP_LOG) == ""
    (tmp_path / "Dockerfile").write_text(
        "FROM base\nRUN --mount=type=cache,target=/root/.cache/pip \\\n"
        "    pip install -r requirements.txt\n"
    )
    log = "executor failed running [/bin/sh -c pip install -r requirements.txt]: exit code: 1"
    assert failure_location(log, *request(tmp_path, False)) == (tmp_path / "Dockerfile", 2)


# The engine here on a RUN using the image's ENV (2026-12-05): the step's name expands it,
# the executor's error keeps the command as written (zzstoatzz/prefect-pack's `. $VIRTUAL_ENV`).
ENV_LOG = """#6 [3/4] RUN false && . /app/.venv/bin/activate
#6 ERROR: executor failed running [/bin/sh -c false && . $VIRTUAL_ENV/bin/activate]: exit code: 1
------
 > [3/4] RUN false && . /app/.venv/bin/activate:
------
"""


def test_a_failed_run_naming_an_env_variable_points_at_its_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM base\nENV VIRTUAL_ENV=/app/.venv\nWORKDIR /app\n"
        "RUN false && . $VIRTUAL_ENV/bin/activate\nCOPY flow.py flow.py\n"
    )
    assert failure_location(ENV_LOG, *request(tmp_path, False)) == (dockerfile, 4)


def test_the_headline_names_the_requirement_before_pip_s_list_of_skipped_versions() -> None:
    """BTHiggins/WeatherData (trial round 10): a Windows `pip freeze` pinned pywin32==311;
    the message began with ~1,500 characters of the versions pip skipped for the Python."""
    from prefect_flow_deploy.docker.build_log import build_error_headline

    skipped = "ERROR: Ignored the following versions that require a different python version: " + (
        ", ".join(f"1.{n} Requires-Python >=3.7" for n in range(60))
    )
    log = (
        f"#9 12.3 {skipped}\n"
        "#9 12.3 ERROR: Could not find a version that satisfies the requirement pywin32==311 "
        "(from versions: none)\n#9 12.3 ERROR: No matching distribution found for pywin32==311\n"
    )
    headline = build_error_headline(log)
    assert headline.startswith(
        "ERROR: Could not find a version that satisfies the requirement pywin32==311"
    )
    assert headline.split(" / ")[1] == "ERROR: No matching distribution found for pywin32==311"
