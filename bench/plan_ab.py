"""A/B: `plan` of the same seeded repository by two or more checkouts, alternated in one
process, so that the machine's drift through the day (CPU seconds of the same code moved by a
quarter between a morning and an afternoon here) falls on every checkout alike.

Each checkout is a `src` folder given on PYTHONPATH, for example one made with
`git archive <commit> src | tar -x -C /tmp/a`. The repository and its deployed state are
plan_scaling.py's (seeded once, by the first checkout); each round plans once per checkout;
the medians of wall and CPU seconds are printed.

    .venv/bin/python bench/plan_ab.py --size 1000 --repeat 5 /tmp/a/src /tmp/b/src
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import plan_scaling  # bench/ is the script's own folder: on sys.path
import synth
from common import BenchStack, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", help="src folders, one per checkout")
    parser.add_argument("--size", type=int, default=1000, help="flow folders (1000)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (5)")
    parser.add_argument("--prefect-port", type=int, default=4300)
    parser.add_argument("--profile", type=Path, help="pyinstrument the last checkout once, here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pfd-plan-ab-"))
    stack = BenchStack(work / "stack", None, args.prefect_port, server_env={
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    })  # fmt: skip
    stack.check_ports_free()
    try:
        stack.reset()
        stack.create_work_pool()
        base = plan_scaling.upload_stand_in_base(stack)
        projects, folders = plan_scaling.shape(args.size)
        root = work / f"repo-{args.size}"
        root.mkdir()
        synth.generate(root, projects, folders)
        os.environ["PYTHONPATH"] = args.sources[0]
        seconds = plan_scaling.seed(stack, root, base, work / "logs" / "seed")
        log(f"seeded {args.size} folders in {seconds:.0f} s")
        runs: dict[str, list[tuple[float, float]]] = {source: [] for source in args.sources}
        for round_ in range(args.repeat):
            for source in args.sources:
                os.environ["PYTHONPATH"] = source
                run = plan_scaling.plan_once(stack, root, base, work / "logs" / f"r{round_}", None)
                assert run["exit_code"] == 0 and run["planned_unchanged"] == args.size, run
                runs[source].append((run["seconds"], run["cpu_seconds"]))
        for source, measured in runs.items():
            wall = statistics.median(w for w, _ in measured)
            cpu = statistics.median(c for _, c in measured)
            print(f"{source}: median wall {wall:.2f} s, CPU {cpu:.2f} s; runs {measured}")
        if args.profile:
            os.environ["PYTHONPATH"] = args.sources[-1]
            plan_scaling.plan_once(stack, root, base, work / "logs" / "profile", args.profile)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
