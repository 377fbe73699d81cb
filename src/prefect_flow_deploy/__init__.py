"""prefect-flow-deploy: deploy a repository of Prefect flows, one image per flow folder.

The package draws the pipeline (docs/design.md): `core` → `settings` → `deployment` →
`reading` → `rules` → `clients` → `docker` → `run` → `reports` → `commands`, and `cli.py`
and `action.py` on top. A package imports only from those before it
(tests/unit/test_repo_layers.py reads the imports). `in_image/` holds programs run inside a
built image, under its own Python: they import nothing of this package.
"""

import sys

# Importing httpx imports its command line too (httpx._main: click, pygments, rich's
# progress and syntax), 30 ms of every run's start here (2026-12-05) for a `main` nothing in
# our processes calls; marked absent, httpx leaves a stub in its place. Here, because a
# console script imports the package first, before any httpx import.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
