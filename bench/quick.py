"""`make bench-quick`: every published figure at a small size, in about three minutes, as
ratios against the last saved quick result, each flagged when more than 20 % worse.

    .venv/bin/python bench/quick.py [--no-save]

What runs (each a child process, as a user runs it):
- plan_scaling.py: `plan` on 100 synthetic folders, nothing deployed and everything deployed;
- plan_scaling.py --shape corpus: `plan` on 25 folders of the test corpus' real shapes
  (125 flows), both states, and a no-op `deploy`;
- run.py --quick --tools ours: cold deploy, no-change re-run, one-file change (1 × 3 folders,
  real builds and pushes);
- the action image (scripts/action-image.sh --measure, a cached build): its size, and its
  start to the entrypoint's first line.

These machines are noisy (2 cores, often shared), so each run also times a fixed piece of
pure-Python work (`calibrate`) before and after, in this process. A figure is compared both
as measured and as a multiple of that calibration; a figure is flagged only when both say
it is more than 20 % worse. Sizes and counts are exact and compared as they are.
Results: bench/results/<time>-quick.json; the comparison is against the newest such file.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, VENV_BIN, calibrate, log, machine_info

RESULTS = REPO / "bench" / "results"
WORSE = 1.2
SIZES = {"bytes", "MB"}  # figures that are not times: compared as they are


def child(command: list[str], out: Path) -> dict[str, Any]:
    log(" ".join(c.replace(str(REPO) + "/", "") for c in command))
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{command[1]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def plan_figures(work: Path) -> dict[str, float]:
    python = str(VENV_BIN / "python")
    figures: dict[str, float] = {}
    # Medians of 3: a single run's fixed cost was the first plan of a fresh stack, 0.1-0.2 s
    # slower at times (flagged "worse" in 2 of 4 runs on 2026-12-05), for the machine's sake.
    synth = child(
        [python, str(REPO / "bench/plan_scaling.py"), "--sizes", "100", "--repeat", "3"],
        work / "synth.json",
    )
    corpus = child(
        [
            python,
            str(REPO / "bench/plan_scaling.py"),
            "--shape",
            "corpus",
            "--sizes",
            "25",
            "--repeat",
            "3",
            "--deploy",
        ],
        work / "corpus.json",
    )
    for name, result in (("synthetic", synth), ("corpus", corpus)):
        for row in result["sizes"]:
            if row["folders"]:
                key = f"{name} {row['folders']} folders: {row['state']}"
                figures[f"{key} (s)"] = row["seconds_median"]
                figures[f"{key} (peak MB)"] = row["peak_rss_mb"]
            else:
                figures[f"fixed cost of a run, {name}: {row['state']} (s)"] = row["seconds_median"]
    return figures


def deploy_figures(work: Path) -> dict[str, float]:
    result = child(
        [str(VENV_BIN / "python"), str(REPO / "bench/run.py"), "--quick", "--tools", "ours"],
        work / "run.json",
    )
    return {f"deploy 1×3: {r['scenario']} (s)": r["seconds"] for r in result["runs"]}


def image_figures() -> dict[str, float]:
    log("scripts/action-image.sh --measure")
    done = subprocess.run(
        ["bash", str(REPO / "scripts/action-image.sh"), "--measure"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"the action image did not build:\n{done.stderr[-2000:]}")
    size = re.search(r"size: (\d+) bytes", done.stderr)
    start = re.search(r"IMAGE --help\): (\d+) ms", done.stderr)
    assert size and start, done.stderr
    return {
        "action image size (bytes)": float(size[1]),
        "action image start to its first line (s)": int(start[1]) / 1000,
    }


def previous() -> dict[str, Any] | None:
    saved = sorted(RESULTS.glob("*-quick.json"))
    return json.loads(saved[-1].read_text()) if saved else None


def compare(now: dict[str, Any], before: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for name, value in now["figures"].items():
        row: dict[str, Any] = {"figure": name, "now": value}
        old = (before or {}).get("figures", {}).get(name)
        if old:
            ratio = value / old
            scaled = ratio / (now["calibration_s"] / before["calibration_s"]) if before else ratio
            exact = any(unit in name for unit in SIZES)
            row.update(before=old, ratio=ratio, calibrated=None if exact else scaled)
            row["worse"] = ratio > WORSE if exact else ratio > WORSE and scaled > WORSE
        rows.append(row)
    return rows


def print_rows(rows: list[dict[str, Any]], before: dict[str, Any] | None) -> None:
    since = f"against {before['started']}" if before else "no earlier quick result: a baseline"
    print(f"\nbench-quick, {since} (ratio > 1: slower or larger; calibrated: per unit of this")
    print("machine's speed in each run)")
    print(f"{'figure':<58} {'now':>10} {'before':>10} {'ratio':>6} {'calib.':>6}")
    for row in rows:
        before_value = f"{row['before']:.3g}" if "before" in row else "-"
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
        calibrated = f"{row['calibrated']:.2f}" if row.get("calibrated") else "-"
        flag = "  WORSE" if row.get("worse") else ""
        print(
            f"{row['figure']:<58} {row['now']:>10.3g} {before_value:>10} {ratio:>6} "
            f"{calibrated:>6}{flag}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    clock = time.monotonic()
    calibration = [calibrate()]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pfd-bench-quick-") as folder:
        work = Path(folder)
        figures |= plan_figures(work)
        figures |= deploy_figures(work)
    figures |= image_figures()
    calibration.append(calibrate())
    now = {
        "started": started,
        "machine": machine_info(),
        "calibration_s": statistics.mean(calibration),
        "calibration_spread": max(calibration) / min(calibration),
        "seconds": round(time.monotonic() - clock, 1),
        "figures": figures,
    }
    before = previous()
    rows = compare(now, before)
    now["comparison"] = rows
    print_rows(rows, before)
    print(
        f"\n{len(figures)} figures in {now['seconds']:.0f} s; calibration {now['calibration_s']:.3f} s "
        f"(spread {now['calibration_spread']:.2f} between start and end)"
    )
    worse = [r["figure"] for r in rows if r.get("worse")]
    if worse:
        print(f"{len(worse)} more than {WORSE - 1:.0%} worse: " + "; ".join(worse))
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{started}-quick.json"
        path.write_text(json.dumps(now, indent=2) + "\n")
        print(f"written {path.relative_to(REPO)}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
