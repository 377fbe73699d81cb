"""Render the picture of the live progress view (docs/cli.md) from a real deploy.

    eval "$(bash scripts/stack.sh env)"; .venv/bin/python scripts/progress_screenshot.py

A small repository (a failing build, a slow one, a package install, a plain folder) is
deployed to the local stack inside tmux; the screen is captured with its colours while
folders are in different states, and once more after the deploy (the final table). rich
turns each capture into an SVG, headless Chromium (Debian's `chromium`) into the PNGs under
docs/.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.terminal_theme import MONOKAI
from rich.text import Text

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
WIDTH, HEIGHT = 118, 22


def flow(
    folder: Path, name: str, dockerfile: str | None = None, requirements: str | None = None
) -> None:
    folder.mkdir(parents=True)
    (folder / "flow.py").write_text(
        f"from prefect import flow\n\n\n@flow\ndef {name}(day: str = 'today') -> str:\n    return day\n"
    )
    if dockerfile:
        (folder / "Dockerfile").write_text(dockerfile)
    if requirements:
        (folder / "requirements.txt").write_text(requirements)


def remove_deployments(tag: str) -> None:
    """The picture's deployments go again: the next run makes the same names."""
    api = os.environ["PREFECT_API_URL"].rstrip("/")
    found = httpx.post(f"{api}/deployments/filter", json={"deployments": {"tags": {"all_": [tag]}}})
    for deployment in found.json():
        httpx.delete(f"{api}/deployments/{deployment['id']}")


def capture(tmux: list[str]) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p", "-e", "-t", "deploy"], capture_output=True, text=True
    ).stdout


PAGE = """<!DOCTYPE html>
<html><head><meta charset="UTF-8"><style>
{stylesheet}
body {{ margin: 0; padding: 12px 16px; color: {foreground}; background-color: {background}; }}
pre {{ margin: 0; font-family: "DejaVu Sans Mono", monospace; font-size: 14px; line-height: 1.35; }}
</style></head><body><pre><code>{code}</code></pre></body></html>
"""


def render(screen: str, name: str) -> Path:
    """The captured screen (ANSI colours) as HTML by rich, then a PNG by headless Chromium."""
    lines = screen.rstrip("\n").splitlines()
    with open(os.devnull, "w") as sink:
        console = Console(
            record=True, width=WIDTH, force_terminal=True, color_system="truecolor", file=sink
        )
        console.print(Text.from_ansi("\n".join(lines)))
    html = DOCS / f"{name}.html"
    console.save_html(str(html), theme=MONOKAI, code_format=PAGE)
    png = DOCS / f"{name}.png"
    height = int(len(lines) * 14 * 1.35) + 26
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", f"--window-size={WIDTH * 9},{height}", f"file://{html}"],
        check=True, capture_output=True,
    )  # fmt: skip
    html.unlink()
    return png


def main() -> None:
    base, registry = os.environ["PFD_BASE_IMAGE"], os.environ["PFD_REGISTRY"]
    suffix = uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="pfd-shot-"))
    root = work / "projects"
    flow(root / "sales" / "daily_orders", "daily_orders")
    flow(
        root / "sales" / "weekly_report",
        "weekly_report",
        requirements=f"tabulate==0.9.0\n# {suffix}\n",
    )
    flow(root / "marketing" / "campaign_sync", "campaign_sync",
         dockerfile=f"FROM {base}\nRUN echo {suffix} && sleep 8\nWORKDIR /opt/prefect/flows/campaign_sync\nCOPY . .\n")  # fmt: skip
    flow(root / "marketing" / "legacy_export", "legacy_export",
         dockerfile=f"FROM {base}\nRUN pip install legacy-sdk==0.0.0-{suffix}\nCOPY . /opt/prefect/flows/legacy\n")  # fmt: skip
    args = [sys.executable, "-m", "prefect_flow_deploy.cli", "deploy", "--projects-root", str(root),
            "--registry", f"{registry}/screenshot", "--base-image", base, "--tenant", f"screenshot-{suffix}",
            "--work-pool", "screenshot-pool"]  # fmt: skip
    env = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in os.environ.items() if k.startswith(("PREFECT_", "PFD_"))
    )
    tmux = ["tmux", "-L", f"pfd-shot-{suffix}"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "deploy", "-x", str(WIDTH), "-y", str(HEIGHT),
                    f"cd {work} && env -u COLUMNS -u LINES {env} {shlex.join(args)}; echo; sleep 600"],
                   check=True, env={**os.environ, "TERM": "xterm-256color"})  # fmt: skip
    try:
        during, best = None, 0
        states = ("done", "building", "failed", "registering", "pushing", "checking", "queued")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            screen = capture(tmux)
            if "built " in screen:  # the final summary line: the deploy has ended
                break
            score = sum(state in screen for state in states)  # the screen with most states
            if score > best and "prefect-flow-deploy" in screen:
                during, best = screen, score
            time.sleep(0.25)
        time.sleep(1)
        after = capture(tmux)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
        remove_deployments(f"tenant:screenshot-{suffix}")
    assert during, "the live view was never seen"
    DOCS.mkdir(exist_ok=True)
    print(render(during, "progress-live"))
    print(render(after, "progress-final"))


if __name__ == "__main__":
    main()
