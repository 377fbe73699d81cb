"""The repository, never run: discovery of flow folders (and Prefect's own layout), flows read
from the Python source with their names, descriptions and parameter schemas, prefect.yaml,
requirements.txt as pip reads it, the Dockerfile, the build context and its content tag, the
default recipe. Each file read once per run (`file_reads`).

Imports `core`, `settings` and `deployment`.
"""
