"""The project's venv holds bytecode for what the tool imports (scripts/stack.sh `ensure_venv`).

These machines set PYTHONDONTWRITEBYTECODE=1, and uv installs without compiling (pip compiles
by default; the action image compiles what the package loads, Dockerfile). So a module with no
.pyc beside it is compiled from its source at every start and never written: measured
2026-12-05, 0.1 s of each `plan` and 0.2-0.3 s of each import of Prefect's client, in every
CLI run the tests and benchmarks make. Counted here, not timed: the modules the CLI's runs
import that Python compiles from source (an audit hook on `compile`, which the import system
raises for each module it reads from source)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig

# What `plan`, `deploy` (Prefect's client, the Docker SDK) and the action (PyGithub, the
# runner's file commands) import.
MODULES = (
    "prefect_flow_deploy.cli",
    "prefect_flow_deploy.commands.plan",
    "prefect_flow_deploy.commands.deploy",
    "prefect_flow_deploy.action",
    "prefect.client.orchestration",
    "prefect.deployments.runner",
    "docker",
    "github",
    "github_action_utils",
)

PROBE = """
import json, sys
site = sys.argv[1]
compiled = []
def hook(event, args):
    # The import system compiles a module through _call_with_frames_removed (its
    # source_to_code); anyio compiles its own source to an AST at import, which is not that.
    if event != "compile" or sys._getframe(1).f_code.co_name != "_call_with_frames_removed":
        return
    if isinstance(args[1], str) and args[1].startswith(site):
        compiled.append(args[1][len(site):])
sys.addaudithook(hook)
for name in sys.argv[2:]:
    __import__(name)
print(json.dumps(compiled))
"""


def test_the_modules_the_tool_imports_from_site_packages_are_not_compiled_at_start() -> None:
    site = sysconfig.get_path("purelib")
    found = subprocess.run(
        [sys.executable, "-c", PROBE, site, *MODULES],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    compiled = json.loads(found.stdout)
    assert compiled == [], (
        f"{len(compiled)} modules of {site} have no bytecode and are compiled at every start "
        f"(first: {compiled[:5]}); `bash scripts/stack.sh venv` compiles them"
    )
