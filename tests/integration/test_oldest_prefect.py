"""The oldest Prefect pyproject.toml allows, with its dependencies as of its release
(scripts/prefect-servers/<version>.txt) and each other dependency at its floor: the reading,
rules, schedule and job-variable tests pass there too (Prefect itself the corpus' oracle), as
they pass under the newest allowed (the lock's, this venv's). The venv is built once under
/var/tmp and reused while its recipe is unchanged (about a minute to build; the run, about
one more); the package is used from this checkout's src/ (PYTHONPATH), never installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from ..conftest import ROOT

# The tests that read repositories and decide: they must hold on every Prefect allowed.
# (Not test_schema_source.py: schemas are written as the newest allowed Prefect writes them,
# its answer the oracle there; the corpus test holds the parameters equal on every one.)
SUBSET = [
    "tests/unit/reading/test_flows_corpus.py",
    "tests/unit/reading/test_discovery.py", "tests/unit/reading/test_prefect_yaml.py",
    "tests/unit/deployment/test_schedules.py", "tests/unit/deployment/test_fields.py",
    "tests/unit/clients/test_work_pools.py", "tests/unit/rules/test_decide.py",
    "tests/unit/rules/test_decide_pools.py", "tests/unit/rules/test_spec_checks.py",
    "tests/unit/rules/test_specs.py", "tests/unit/reading/test_requirements.py",
    "tests/unit/reading/test_requirements_file.py", "tests/unit/commands/test_validate_bad_inputs.py",
    "tests/unit/settings/test_config_file.py", "tests/unit/reading/test_dockerignore.py",
    "tests/unit/deployment/test_prefect_compat.py",
]  # fmt: skip
TEST_TOOLS = ("pytest", "pytest-timeout", "pytest-xdist")
# The Docker worker of the oldest Prefect's time (the newest prefect-docker pip resolves with
# its pins), whose default job template the job-variable tests check against; and today's
# pip, whose requirements.txt rules the requirements tests hold ours to (a base image's pip
# is today's; the venv module's own would be Python's bundled one).
ERA_TOOLS = ("prefect-docker==0.6.3",)


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data


def runtime() -> list[Requirement]:
    data = project()
    extras = data["optional-dependencies"]  # type: ignore[index]
    return [Requirement(r) for r in [*data["dependencies"], *extras["deploy"]]]  # type: ignore[index]


def floor(requirement: Requirement) -> str:
    return next(s.version for s in requirement.specifier if s.operator == ">=")


def oldest_prefect() -> str:
    prefect = next(r for r in runtime() if r.name == "prefect")
    return floor(prefect) if floor(prefect).count(".") == 2 else floor(prefect) + ".0"


def constraints() -> dict[str, str]:
    """The oldest Prefect's dependencies as of its release day: name → version."""
    path = ROOT / "scripts" / "prefect-servers" / f"{oldest_prefect()}.txt"
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def install_lines() -> list[str]:
    """What the venv installs: Prefect at the floor, every other runtime dependency at its
    release-day version when Prefect's closure pins it, else at its own floor; the test tools
    as the dev extra pins them."""
    pinned = constraints()
    wanted = []
    for requirement in runtime():
        name = canonicalize_name(requirement.name)
        wanted.append(f"{name}=={pinned.get(name) or floor(requirement)}")
    dev = [Requirement(r) for r in project()["optional-dependencies"]["dev"]]  # type: ignore[index]
    wanted += [str(r) for r in dev if r.name in TEST_TOOLS]
    return sorted([*wanted, *ERA_TOOLS])


def venv() -> Path:
    recipe = (
        "\n".join(install_lines()) + "\n" + "\n".join(f"{k}=={v}" for k, v in constraints().items())
    )
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    path = Path(f"/var/tmp/pfd-oldest-prefect/{oldest_prefect()}-{key}")
    if (path / ".installed").is_file():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]  # this venv's pip: today's rules
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", f"pip=={pip}"], check=True)
    constraint_file = path / "constraints.txt"
    constraint_file.write_text("\n".join(f"{k}=={v}" for k, v in constraints().items()) + "\n")
    subprocess.run(
        [str(path / "bin" / "pip"), "install", "-q", "-c", str(constraint_file), *install_lines()],
        check=True, timeout=900,
    )  # fmt: skip
    (path / ".installed").write_text(recipe)
    return path


def test_the_oldest_prefect_s_closure_is_an_install_pyproject_allows() -> None:
    """Every runtime dependency Prefect's release-day closure pins is inside our range: the
    venv below is one `pip install prefect-flow-deploy` could make."""
    pinned = constraints()
    assert pinned["prefect"] == oldest_prefect()
    for requirement in runtime():
        version = pinned.get(canonicalize_name(requirement.name))
        if version is not None:
            assert SpecifierSet(str(requirement.specifier)).contains(version), (
                requirement,
                version,
            )


def test_reading_and_rules_pass_under_the_oldest_allowed_prefect() -> None:
    python = venv() / "bin" / "python"
    version = subprocess.run(
        [str(python), "-c", "import prefect; print(prefect.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == oldest_prefect()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    done = subprocess.run(
        [str(python), "-m", "pytest", *SUBSET, "-q", "-x", "-n", "2", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and " skipped" not in done.stdout
