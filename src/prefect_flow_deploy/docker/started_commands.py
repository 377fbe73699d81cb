"""The Python and Prefect environments of images whose worker command was seen to start
(in_image/check_image.py's `prefect_environment` digests): another image of the same
environment is not asked again (about 3 s of a container's CPU each). Kept for the run, and
in the user's cache directory for the next runs on this machine (`$XDG_CACHE_HOME`, else
~/.cache: on a GitHub runner, the job's). A digest names the Python, the `prefect` script's
first line, the versions of Prefect's requirement closure and Prefect's own files, so a
changed environment is asked again; a cache that cannot be read or written is no cache."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

_FILE = "worker-command-started"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_lock = threading.Lock()
_known: set[str] | None = None


def _path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prefect-flow-deploy" / _FILE


def known() -> set[str]:
    """The environments seen to start, this run's and the cache's."""
    global _known
    with _lock:
        if _known is None:
            try:
                text = _path().read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError):
                text = ""
            _known = {line for line in text.split() if _DIGEST.fullmatch(line)}
        return set(_known)


def add(digest: str) -> None:
    """One more, for this run and the next (one line appended: runs beside it append too)."""
    if not _DIGEST.fullmatch(digest) or digest in known():
        return
    with _lock:
        assert _known is not None
        _known.add(digest)
        try:
            path = _path()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="ascii") as file:
                file.write(digest + "\n")
        except OSError:
            pass  # a read-only home: kept for this run only
