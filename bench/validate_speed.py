"""How long `prefect-flow-deploy validate` (the pre-commit check) takes on 100 flow folders.

    .venv/bin/python bench/validate_speed.py [--projects 10] [--folders 10] [--repeat 3]

The repository is bench/synth.py's (own Dockerfiles, requirements, prefect.yaml with cron
schedules, helper modules). The baseline, measured in the same process on the same folders,
is the check a team could write without this tool: Prefect loading each flow from its
entrypoint (`prefect.flows.load_flow_from_entrypoint`, what `prefect deploy` does to read a
flow), one Python process for all folders. Both are child processes timed end to end
(interpreter start and imports included), the median of `--repeat` runs. Target: validate
under a second for 100 folders.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import synth
from common import REPO, VENV_BIN, log, run_measured

BASELINE = """
import sys
from pathlib import Path
from prefect.flows import load_flow_from_entrypoint

for entry in sys.argv[1:]:
    load_flow_from_entrypoint(entry)
"""


def median_seconds(command: list[str], cwd: Path, logs: Path, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds (CPU: user + system, what a busy machine does not inflate)."""
    times, cpu = [], []
    for attempt in range(repeat):
        measured = run_measured(
            command, dict(os.environ), cwd, logs.with_name(f"{logs.name}-{attempt}")
        )
        if measured.exit_code != 0:
            raise SystemExit(f"{command[0]} exited {measured.exit_code}: see {logs.parent}")
        times.append(measured.seconds)
        cpu.append(measured.cpu_seconds)
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--folders", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pfd-bench-validate-") as work:
        root = Path(work) / "projects"
        specs = synth.generate(root, args.projects, args.folders)
        logs = Path(work) / "logs" / "run"
        log(f"{len(specs)} flow folders under {root}")
        ours, ours_cpu = median_seconds(
            [str(VENV_BIN / "prefect-flow-deploy"), "validate", "--projects-root", str(root)],
            Path(work),
            logs.with_name("validate"),
            args.repeat,
        )
        entries = [f"{root / s.project / s.name / 'flow.py'}:{s.function}" for s in specs]
        baseline, baseline_cpu = median_seconds(
            [str(VENV_BIN / "python"), "-c", BASELINE, *entries],
            Path(work),
            logs.with_name("baseline"),
            args.repeat,
        )
    load = os.getloadavg()[0]
    print(
        f"validate, {len(specs)} folders: {ours:.2f}s wall, {ours_cpu:.2f}s CPU (median of "
        f"{args.repeat}); Prefect loading each flow: {baseline:.2f}s wall, {baseline_cpu:.2f}s "
        f"CPU; {baseline / ours:.1f}x faster; load average {load:.1f} on {os.cpu_count()} cores; "
        f"target under 1 s: {'met' if ours < 1.0 else 'NOT met'}"
    )
    sys.exit(0 if ours < 1.0 else 1)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "bench"))
    main()
