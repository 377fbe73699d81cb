"""The end of a command's process."""

from __future__ import annotations

import gc


def skip_final_collection() -> None:
    """The process ends next: nothing it made needs collecting. Python's last collections
    walk every object the imports made (Prefect's client alone makes hundreds of thousands),
    0.15-0.2 s of each run's exit here (`import prefect.client.orchestration` then exit:
    1.03 s, with this 0.83 s, as with os._exit, 2026-12-04); exit handlers still run."""
    gc.disable()
    gc.freeze()


def no_collection_until_exit() -> None:
    """For a command whose whole work is one plan and its output (`plan`): what it makes
    lives until the output is written, and the process ends then. Switched on again after the
    plan (collector.py), the collector would trace all of it once more at the next
    allocation: 0.3 s of a 5,000-folder plan (2026-12-05). What grows with the folders
    leaves nothing that only the collector would free: the reading
    (tests/unit/reading/test_discovery.py) and the registry's answers
    (tests/unit/clients/test_registry.py) count it; the rest is a few requests' worth."""
    gc.disable()
