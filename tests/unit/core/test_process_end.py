"""The end of a command's process: no last collection of what the imports made, in a child
process (the collector is process-wide)."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import gc, json
import email.parser  # a few thousand objects of a module graph
from prefect_flow_deploy.core.process_end import skip_final_collection
skip_final_collection()
print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))
"""


def test_the_collector_is_off_and_everything_made_so_far_frozen() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    enabled, frozen = __import__("json").loads(done.stdout)
    assert enabled is False
    assert frozen > 1000


def test_the_command_line_ends_without_the_last_collection() -> None:
    """`prefect-flow-deploy --help` ends through main's last step (typer exits by SystemExit)."""
    check = (
        "import gc, sys\n"
        "from prefect_flow_deploy import cli\n"
        "sys.argv = ['prefect-flow-deploy', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False True"
