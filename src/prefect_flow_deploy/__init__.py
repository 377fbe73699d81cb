"""prefect-flow-deploy: deploy a repository of Prefect flows, one image per flow folder.

The package draws the pipeline (docs/design.md): `core` → `settings` → `deployment` →
`reading` → `rules` → `clients` → `docker` → `run` → `reports` → `commands`, and `cli.py`
and `action.py` on top. A package imports only from those before it
(tests/unit/test_repo_layers.py reads the imports). `in_image/` holds programs run inside a
built image, under its own Python: they import nothing of this package.
"""
